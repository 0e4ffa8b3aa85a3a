"""`tdex cert verify` fetching the status list over HTTP from a real loopback server, or from a file."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from credentials_support import NOW, SECRET, Clock
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from typer.testing import CliRunner

from credentials import CertificateIssuer, issue_business_licence
from exchange_api.loopback import serve_in_thread
from keys import SigningKey, Suite
from tdex.commands import cert as cert_cli

AT = NOW.isoformat().replace("+00:00", "Z")


class ListServer:
    """A loopback HTTP server answering `GET /status-lists/{path}` from a mutable map."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.documents: dict[str, Any] = {}
        self.raw: dict[str, bytes] = {}

    def publish(self, issuer: CertificateIssuer) -> None:
        """Serve the issuer's latest signed status lists at their URLs."""
        for url, document in issuer.status_list_credentials().items():
            self.documents[url] = document


@pytest.fixture(scope="module")
def server() -> Iterator[ListServer]:
    """A tiny FastAPI app on 127.0.0.1 serving status list credentials (404 for unknown paths)."""
    app = FastAPI()
    holder: dict[str, ListServer] = {}

    @app.get("/status-lists/{path_id:path}")
    def status_list(path_id: str) -> Response:
        lists = holder["server"]
        url = f"{lists.base}/status-lists/{path_id}"
        if url in lists.raw:
            return Response(lists.raw[url], media_type="application/json")
        if url not in lists.documents:
            return JSONResponse({"detail": "no such list"}, status_code=404)
        return JSONResponse(lists.documents[url], media_type="application/vc+ld+json")

    with serve_in_thread(app) as base:
        holder["server"] = ListServer(base)
        yield holder["server"]


def _issuer(base_url: str, seed: int) -> CertificateIssuer:
    issuer = CertificateIssuer(
        SigningKey.generate(Suite.INTL),
        name="某市市场监督管理局",
        status_base_url=base_url,
        subject_secret=SECRET,
        clock=Clock(),
        rng=random.Random(seed),
    )
    issuer.publish_all()
    return issuer


def _licence(issuer: CertificateIssuer, path: Path) -> dict[str, Any]:
    issued = issue_business_licence(
        issuer,
        uscc="91110000600037341L",
        name="某某物流有限公司",
        entity_type="有限责任公司",
        legal_representative="张三",
        established_on=date(2019, 5, 20),
        domicile="某市某区物流园路1号",
        business_scope="道路普通货物运输",
        registration_authority="某市市场监督管理局",
    )
    path.write_text(json.dumps(issued.credential, ensure_ascii=False), encoding="utf-8")
    return issued.credential


@pytest.fixture
def verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `tdex cert verify FILE --json --at NOW` with an empty state folder; (exit code, report)."""
    monkeypatch.setenv("TDEX_CERT_DIR", str(tmp_path / "no-local-lists"))
    runner = CliRunner()

    def invoke(file: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        result = runner.invoke(cert_cli.app, ["verify", str(file), "--json", "--at", AT, *extra])
        return result.exit_code, json.loads(result.stdout)

    return invoke


def test_status_fetched_over_http_follows_suspension(server: ListServer, verify: Any, tmp_path: Path) -> None:
    """A clean list fetched over HTTP passes; after a suspension is published the check fails."""
    issuer = _issuer(f"{server.base}/status-lists/a", 1)
    server.publish(issuer)
    licence = tmp_path / "licence.json"
    credential = _licence(issuer, licence)
    code, report = verify(licence)
    assert code == 0, report
    assert report["checks"]["status"]["outcome"] == "pass"
    issuer.suspend(credential, "检查")
    server.publish(issuer)
    code, report = verify(licence)
    assert code == 1
    assert report["checks"]["status"]["code"] == "credentials.status.suspended"


def test_list_signed_by_another_issuer_fails(server: ListServer, verify: Any, tmp_path: Path) -> None:
    """A validly signed list at the URL from a different issuer is not the credential's list."""
    issuer = _issuer(f"{server.base}/status-lists/b", 2)
    impostor = _issuer(f"{server.base}/status-lists/b", 3)
    server.publish(impostor)
    licence = tmp_path / "licence.json"
    _licence(issuer, licence)
    code, report = verify(licence)
    assert code == 1
    assert report["checks"]["proof"]["outcome"] == "pass"
    assert report["checks"]["status"]["code"] == "credentials.status.mismatch"


def test_tampered_list_fails_its_proof(server: ListServer, verify: Any, tmp_path: Path) -> None:
    """A served list whose content was changed after signing fails the status check."""
    issuer = _issuer(f"{server.base}/status-lists/c", 4)
    server.publish(issuer)
    licence = tmp_path / "licence.json"
    credential = _licence(issuer, licence)
    clean = {url: dict(doc) for url, doc in server.documents.items()}
    issuer.suspend(credential, "检查")
    for url, document in issuer.status_list_credentials().items():
        forged = json.loads(json.dumps(document))
        forged["credentialSubject"]["encodedList"] = clean[url]["credentialSubject"]["encodedList"]
        server.documents[url] = forged
    code, report = verify(licence)
    assert code == 1
    assert report["checks"]["status"]["code"] == "credentials.status.mismatch"


def test_fetch_failures_fail_the_status_check_with_the_reason(
    server: ListServer, verify: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 404, a non-JSON body, an oversized body and an unreachable host each fail the status check."""
    issuer = _issuer(f"{server.base}/status-lists/d", 5)
    licence = tmp_path / "licence.json"
    credential = _licence(issuer, licence)
    code, report = verify(licence)
    assert code == 1
    assert report["checks"]["status"]["code"] == "credentials.status.unavailable"
    assert "HTTP 404" in report["checks"]["status"]["detail"]
    assert report["checks"]["proof"]["outcome"] == "pass"

    urls = [entry["statusListCredential"] for entry in credential["credentialStatus"]]
    for url in urls:
        server.raw[url] = b"not json"
    code, report = verify(licence)
    assert code == 1 and "not JSON" in report["checks"]["status"]["detail"]
    assert report["checks"]["status"]["code"] == "credentials.status.unavailable"

    server.publish(issuer)
    for url in urls:
        del server.raw[url]
    monkeypatch.setattr(cert_cli, "STATUS_FETCH_MAX_BYTES", 64)
    code, report = verify(licence)
    assert code == 1 and "larger than 64 bytes" in report["checks"]["status"]["detail"]
    assert report["checks"]["status"]["code"] == "credentials.status.unavailable"
    monkeypatch.undo()

    code, report = verify(licence)
    assert code == 0, report

    code, report = verify(licence, "--skip-status")
    assert code == 0 and report["checks"]["status"]["outcome"] == "pass"


def test_unreachable_host_fails_or_skips(verify: Any, tmp_path: Path) -> None:
    """With nothing listening the status check fails with the reason; --skip-status skips it."""
    issuer = _issuer("http://127.0.0.1:9/status-lists/e", 6)
    licence = tmp_path / "licence.json"
    _licence(issuer, licence)
    code, report = verify(licence)
    assert code == 1
    assert report["checks"]["status"]["code"] == "credentials.status.unavailable"
    assert "could not be fetched" in report["checks"]["status"]["detail"]
    code, report = verify(licence, "--skip-status")
    assert code == 0 and report["checks"]["status"]["outcome"] == "skipped"


def test_status_list_file_for_offline_use(verify: Any, tmp_path: Path) -> None:
    """`--status-list FILE` answers for an http(s) URL without fetching it."""
    issuer = _issuer("http://127.0.0.1:9/status-lists/f", 7)
    licence = tmp_path / "licence.json"
    _licence(issuer, licence)
    files = []
    for index, document in enumerate(issuer.status_list_credentials().values()):
        path = tmp_path / f"list-{index}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        files += ["--status-list", str(path)]
    code, report = verify(licence, *files)
    assert code == 0, report
    assert report["checks"]["status"]["outcome"] == "pass"
