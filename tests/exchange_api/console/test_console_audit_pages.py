"""The auditor explorer: checkpoints, trail filters and exports, the full check, entries with their proofs."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from api_support import TEMPLATE, World, application, entry
from console_support import csrf_of, sign_in

from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    AuditLog,
    LocalWitness,
    LogOperator,
    tamper_entry,
    verify_bundle,
)
from exchange_api.audit.errors import BundleInvalid
from exchange_api.console.audit import _lag_series
from keys import Ed25519SigningKey
from tlog import Checkpoint, verify_inclusion

ORIGIN = "tdex.test/console-audit"
PROOF_JS = Path(__file__).resolve().parents[3] / "exchange_api" / "console" / "static" / "proof.js"
PROOF_DATA = re.compile(r'<script type="application/json" id="proof-data">(.*?)</script>', re.S)


def _checkpoint(world: World, tmp_path: Path) -> Anchorer:
    """Sign and cosign a checkpoint of everything logged so far (no chain)."""
    operator = LogOperator(ORIGIN, Ed25519SigningKey.generate())
    witness = LocalWitness(
        "witness.test", Ed25519SigningKey.generate(), {ORIGIN: [operator.vkey]}, tmp_path / "w.json"
    )
    anchorer = Anchorer(AuditLog(world.app.state.sessions), operator, [witness], None, AnchorPolicy())
    assert anchorer.tick(force=True).signed is not None
    return anchorer


def _activity(world: World) -> dict[str, Any]:
    """dept_a registers a resource and the bank applies for it."""
    world["dept_a"].client.register(entry())
    return world["bank"].client.apply(application(templates=[TEMPLATE]))


def _proof_data(page: str) -> dict[str, Any]:
    found = PROOF_DATA.search(page)
    assert found, "no proof data on the page"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _root_as_the_script_computes(data: dict[str, Any]) -> tuple[bytes, bytes]:
    """proof.js's algorithm in Python (RFC 6962 leaf hash, RFC 9162 §2.1.3.2 path): (leaf, root)."""
    leaf = hashlib.sha256(b"\x00" + data["entry"].encode("utf-8")).digest()
    fn, sn, r = data["index"], Checkpoint.from_text(data["checkpoint"]).size - 1, leaf
    for hex_node in data["proof"]:
        p = bytes.fromhex(hex_node)
        assert sn != 0
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return leaf, r


def test_auditor_page_lists_checkpoints_with_their_signers(world: World, tmp_path: Path) -> None:
    """Each checkpoint is on the timeline with its size, operator signature and witness cosignature."""
    _activity(world)
    _checkpoint(world, tmp_path)
    page = sign_in(world.http, world["auditor"].key, "/console/audit?lang=en")
    sizes = re.findall(r'data-testid="checkpoint" data-size="(\d+)"', page)
    latest = world["auditor"].client.call("GET", "/audit/checkpoints/latest")
    assert sizes == [str(latest["size"])]
    assert f"signed by {ORIGIN}" in page and "cosigned by witness.test" in page
    assert "awaiting anchor" in page
    assert "Anchoring lag" in page and "<svg" in page


def test_trail_filter_and_csv_export_use_the_same_query(world: World, tmp_path: Path) -> None:
    """Filtering by application keeps only its entries; the CSV export of the filter has exactly them."""
    app = _activity(world)
    sign_in(world.http, world["auditor"].key)
    page = world.http.get("/console/audit", params={"application": app["id"]}).text
    shown = [int(i) for i in re.findall(r'data-testid="trail-row" data-index="(\d+)"', page)]
    expected = world["auditor"].client.call("GET", "/audit/trail", params={"application": app["id"]})
    assert shown == [e["index"] for e in expected["entries"]] and shown
    assert f"application={app['id']}" in html.unescape(page)
    exported = world.http.get("/console/audit/trail.csv", params={"application": app["id"]})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["index"]) for r in rows] == shown
    as_json = world.http.get("/console/audit/trail.json", params={"application": app["id"]}).json()
    assert [e["index"] for e in as_json["entries"]] == shown


def test_a_time_filter_in_city_time(world: World) -> None:
    """A range that ends before everything logged shows no entries; a malformed time is a 422 page."""
    sign_in(world.http, world["auditor"].key)
    empty = world.http.get("/console/audit", params={"until": "2000-01-01T00:00"})
    assert empty.status_code == 200 and 'data-testid="trail-row"' not in empty.text
    bad = world.http.get("/console/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "console.bad_time" in bad.text


def test_the_trail_continues_after_an_index(world: World) -> None:
    """`after` pages the trail as the API's does; a non-index is a 422 page."""
    sign_in(world.http, world["auditor"].key)
    page = world.http.get("/console/audit", params={"after": "2"}).text
    shown = [int(i) for i in re.findall(r'data-testid="trail-row" data-index="(\d+)"', page)]
    assert shown and shown[0] == 3
    bad = world.http.get("/console/audit", params={"after": "-5"})
    assert bad.status_code == 422 and "console.bad_index" in bad.text


def test_full_check_passes_then_names_a_tampered_entry(world: World, tmp_path: Path) -> None:
    """The full-check button reports OK, and after an entry is altered it names that entry's index."""
    _activity(world)
    _checkpoint(world, tmp_path)
    page = sign_in(world.http, world["auditor"].key, "/console/audit?lang=en")
    assert 'data-testid="full-check-form"' in page
    ok = world.http.post("/console/audit/check", data={"csrf": csrf_of(page)})
    assert ok.status_code == 200
    assert re.search(r'data-testid="full-check-result" data-ok="true"', ok.text)
    tamper_entry(world.app.state.engine, 3, "modify")
    bad = world.http.post("/console/audit/check", data={"csrf": csrf_of(page)})
    assert re.search(r'data-testid="full-check-result" data-ok="false"', bad.text)
    assert re.search(r'data-testid="full-check-bad-index">First bad entry: index 3\b', bad.text)
    forged = world.http.post("/console/audit/check", data={"csrf": "forged"})
    assert forged.status_code == 403 and "console.csrf" in forged.text


def test_entry_page_embeds_proof_data_that_verifies(world: World, tmp_path: Path) -> None:
    """The page's proof data, checked as proof.js checks it, leads to the signed checkpoint's root."""
    _activity(world)
    _checkpoint(world, tmp_path)
    sign_in(world.http, world["auditor"].key)
    page = world.http.get("/console/audit/entries/4").text
    assert '<script src="/console/static/proof.js" defer></script>' in page
    data = _proof_data(page)
    latest = world["auditor"].client.call("GET", "/audit/checkpoints/latest")
    checkpoint = Checkpoint.from_text(data["checkpoint"])
    assert (checkpoint.size, checkpoint.root.hex()) == (latest["size"], latest["root"])
    assert latest["note"].startswith(data["checkpoint"])  # the very text the signatures cover
    leaf, root = _root_as_the_script_computes(data)
    assert leaf.hex() == data["leaf_hash"] and root == checkpoint.root
    verify_inclusion(leaf, 4, checkpoint.size, [bytes.fromhex(p) for p in data["proof"]], checkpoint.root)
    assert 'data-testid="checkpoint-signature"' in page and "witness.test" in page


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_proof_js_verifies_under_node_and_names_a_mismatch(world: World, tmp_path: Path) -> None:
    """proof.js itself (Web Crypto under Node) verifies the page's data and names an altered element."""
    _activity(world)
    _checkpoint(world, tmp_path)
    sign_in(world.http, world["auditor"].key)
    data = _proof_data(world.http.get("/console/audit/entries/2").text)
    altered_entry = {**data, "entry": data["entry"].replace('"index":2', '"index":3')}
    altered_path = {**data, "proof": ["00" * 32, *data["proof"][1:]]}
    short_path = {**data, "proof": data["proof"][:-1]}
    script = (
        "const m = require(process.argv[1]);"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "(async () => { const out = [];"
        " for (const c of cases) out.push(await m.verifyProof(c));"
        " console.log(JSON.stringify(out)); })();"
    )
    done = subprocess.run(
        ["node", "-e", script, str(PROOF_JS)],
        input=json.dumps([data, altered_entry, altered_path, short_path]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(done.stdout)
    assert [r["reason"] for r in results] == ["ok", "leaf_mismatch", "root_mismatch", "proof_too_short"]
    assert results[0]["root"] == Checkpoint.from_text(data["checkpoint"]).root.hex()


def test_bundle_download_is_the_apis_bundle_as_an_attachment(world: World, tmp_path: Path) -> None:
    """The entry's bundle downloads as a file and verifies offline."""
    _activity(world)
    _checkpoint(world, tmp_path)
    sign_in(world.http, world["auditor"].key)
    response = world.http.get("/console/audit/entries/1/bundle")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="audit-bundle-1.json"'
    assert response.json() == world["auditor"].client.call("GET", "/audit/bundles/1")
    with pytest.raises(BundleInvalid) as caught:  # not anchored (no chain here): every other check passes
        verify_bundle(response.json())
    assert [(f.field, f.code) for f in caught.value.failures] == [("anchor", "audit.not_anchored")]


def test_an_entry_newer_than_the_latest_checkpoint_says_so(world: World, tmp_path: Path) -> None:
    """Before a checkpoint covers it, the entry page shows the entry and explains there is no proof yet."""
    _checkpoint(world, tmp_path)
    app = _activity(world)
    sign_in(world.http, world["auditor"].key)
    newest = world["auditor"].client.call("GET", "/audit/trail", params={"application": app["id"]})
    index = newest["entries"][-1]["index"]
    page = world.http.get(f"/console/audit/entries/{index}?lang=en")
    assert page.status_code == 200
    assert "newer than the latest checkpoint" in page.text and 'id="proof-data"' not in page.text


@pytest.mark.parametrize("who", ["dept_a", "bank"])
def test_only_auditors_and_the_bureau_see_the_explorer(world: World, who: str) -> None:
    """A department or an enterprise gets 403 on the explorer, its exports, entries and bundles."""
    sign_in(world.http, world[who].key)
    for path in ("/console/audit", "/console/audit/trail.csv", "/console/audit/entries/0"):
        response = world.http.get(path)
        assert response.status_code == 403 and "console.wrong_role" in response.text, path


def test_the_bureau_sees_the_explorer_in_both_languages(world: World, tmp_path: Path) -> None:
    """ADMIN may use the explorer; zh-CN and English both render."""
    _checkpoint(world, tmp_path)
    sign_in(world.http, world["bureau"].key)
    zh = world.http.get("/console/audit?lang=zh-CN")
    en = world.http.get("/console/audit?lang=en")
    assert zh.status_code == en.status_code == 200
    assert "审计浏览" in zh.text and "Audit explorer" in en.text
    entry_zh = world.http.get("/console/audit/entries/0?lang=zh-CN")
    assert entry_zh.status_code == 200 and "包含证明" in entry_zh.text


def test_anchoring_lag_counts_a_superseded_checkpoint_until_the_anchor_that_covers_it() -> None:
    """Lag is signing → the first anchor of that size or larger; an uncovered one has waited until now."""
    t0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    times = {
        10: (t0, t0 + dt.timedelta(seconds=5)),  # anchored 5 s after signing
        20: (t0 + dt.timedelta(hours=1), None),  # superseded: covered by size 30's anchor
        30: (t0 + dt.timedelta(hours=2), t0 + dt.timedelta(hours=2, seconds=30)),
        40: (t0 + dt.timedelta(hours=3), None),  # still waiting
    }
    now = t0 + dt.timedelta(hours=3, seconds=90)
    series, origin = _lag_series(times, now, ("anchored", "waiting"))
    assert origin == t0
    assert sorted(series["anchored"]) == [(0.0, 5.0), (1.0, 3630.0), (2.0, 30.0)]
    assert series["waiting"] == [(3.0, 90.0)]
