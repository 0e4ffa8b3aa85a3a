"""Web console benchmark: server-rendered pages against the signed JSON API for the same reads.

The peer is the exchange's own JSON API, served by the same process, answering the same query: the
figure says what rendering a page (Jinja2, translations, the session look-up, the SVG-free search
page) costs on top of the data it shows. Both are read over one keep-alive connection each, in
alternating batches, so outside load hits both alike.

Run: `tdex bench console --json`.
"""

from __future__ import annotations

import http.client
import re
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.api import _code, _free_port, _populate, _serve, _timed

N_REQUESTS = 1200
BATCH = 25
QUERY = "企业登记"


def _sign_in(port: int, key: Any) -> str:
    """Sign the bench organisation in to the console over HTTP; returns its session cookie."""
    from exchange_api.console import sign_challenge

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/console/sign-in")
    page = conn.getresponse()
    html = page.read().decode()
    challenge_cookie = page.getheader("set-cookie", "").split(";", 1)[0]
    found = re.search(r'data-testid="challenge">([^<]+)<', html)
    if found is None:
        raise RuntimeError("the sign-in page shows no challenge")
    token = sign_challenge(key, found.group(1))
    body = urllib.parse.urlencode({"token": token}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": challenge_cookie}
    conn.request("POST", "/console/sign-in", body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    conn.close()
    cookies = [c.split(";", 1)[0] for c in answer.headers.get_all("set-cookie") or []]
    session = [c for c in cookies if c.startswith("tdex_console=")]
    if answer.status != 303 or not session:
        raise RuntimeError(f"console sign-in answered {answer.status}")
    return session[0]


def _latencies(port: int, requests: list[tuple[str, dict[str, str]]]) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    out = []
    for path, headers in requests:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        out.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
    conn.close()
    return sorted(out)


def _alternate(
    port: int, first: list[tuple[str, dict[str, str]]], second: list[tuple[str, dict[str, str]]]
) -> tuple[float, float]:
    """Requests per second of each list, in alternating batches, a fresh keep-alive connection per
    batch (an idle connection could otherwise pass the server's keep-alive timeout while the other
    list's batch runs on a loaded machine)."""
    totals = [0.0, 0.0]
    for start in range(0, len(first), BATCH):
        for i, requests in enumerate((first, second)):
            conn = http.client.HTTPConnection("127.0.0.1", port)
            _timed(conn, requests[start : start + 2])  # connect and warm up, untimed
            totals[i] += _timed(conn, requests[start + 2 : start + BATCH])
            conn.close()
    timed = sum(len(range(s + 2, min(s + BATCH, len(first)))) for s in range(0, len(first), BATCH))
    return timed / totals[0], timed / totals[1]


def run() -> dict[str, Any]:
    """Serve a 100,000-entry catalogue, then time console pages and the API on the same reads."""
    from keys import sign_request

    with tempfile.TemporaryDirectory(prefix="tdex-bench-console-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        _, _, key = _populate(db_url)
        port = _free_port()
        server = _serve("exchange_api.app:create_app_from_env", port, {"DATABASE_URL": db_url})
        try:
            cookie = {"Cookie": _sign_in(port, key)}
            q = urllib.parse.quote(QUERY)
            page_path, api_path = f"/console/catalog?q={q}", f"/catalog/resources?q={q}"
            code = _code(10)
            detail_page, detail_api = f"/console/catalog/{code}", f"/catalog/resources/{code}"

            def signed(path: str) -> list[tuple[str, dict[str, str]]]:
                url = f"http://127.0.0.1:{port}{path}"
                return [(path, sign_request("GET", url, b"", key, key.key_id)) for _ in range(N_REQUESTS)]

            page_rate, api_rate = _alternate(port, [(page_path, cookie)] * N_REQUESTS, signed(api_path))
            detail_rate, detail_api_rate = _alternate(
                port, [(detail_page, cookie)] * N_REQUESTS, signed(detail_api)
            )
            page_ms = _latencies(port, [(page_path, cookie)] * 200)
        finally:
            server.terminate()
            server.wait(10)
    return {
        "name": "console",
        "figures": {
            "catalog_entries": 100_000,
            "search_page_per_s": round(page_rate, 1),
            "search_api_per_s": round(api_rate, 1),
            "search_page_vs_api": round(page_rate / api_rate, 3),
            "detail_page_per_s": round(detail_rate, 1),
            "detail_api_per_s": round(detail_api_rate, 1),
            "detail_page_vs_api": round(detail_rate / detail_api_rate, 3),
            "search_page_p50_ms": round(statistics.median(page_ms), 2),
            "search_page_p95_ms": round(page_ms[int(len(page_ms) * 0.95) - 1], 2),
        },
        "peer": "the exchange's signed JSON API for the same query, same server, same run",
        "notes": (
            f"search for {QUERY!r} (20 results a page) and one entry's detail page (with its versions), "
            "each signed-in console page against the signed API call over keep-alive connections, "
            "alternating batches of 25 (2 untimed warm-up requests each); the console request "
            "carries a session cookie, the API request an Ed25519 request signature"
        ),
    }
