"""`tdex doctor`: each check says ok or what failed and how to fix it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange_api.core.db import make_engine, migrate
from tdex.commands import doctor

SECRET = "s" * 40
CHAIN_ID = 20260
ADDRESS = "0x" + "11" * 20


class _Fake(BaseHTTPRequestHandler):
    """A JSON-RPC chain (eth_chainId, eth_getCode) and a node's /health on one port."""

    code = "0x6080"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        result: Any = hex(CHAIN_ID) if body["method"] == "eth_chainId" else self.code
        self._send(200, {"jsonrpc": "2.0", "id": body["id"], "result": result})

    def do_GET(self) -> None:
        self._send(200 if self.path == "/health" else 404, {"status": "ok"})

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def fake_url() -> Iterator[str]:
    """A local fake chain and node."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def deployment(tmp_path: Path, fake_url: str) -> dict[str, str]:
    """A healthy deployment's environment: migrated store, manifest, 0600 keys, one node."""
    db = f"sqlite:///{tmp_path}/exchange.db"
    engine = make_engine(db)
    migrate(engine)
    engine.dispose()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "kind": "tdex.ledger.manifest",
                "chain_id": CHAIN_ID,
                "contracts": {"Consortium": {"address": ADDRESS}},
            }
        )
    )
    accounts = tmp_path / "accounts.json"
    accounts.write_text("{}")
    accounts.chmod(0o600)
    keystore = tmp_path / "keys" / "amr"
    keystore.mkdir(parents=True)
    (keystore / "keystore.json").write_text("{}")
    (keystore / "keystore.json").chmod(0o600)
    return {
        "TDEX_MODE": "production",
        "TDEX_SECRET_KEY": SECRET,
        "DATABASE_URL": db,
        "TDEX_CHAIN_URL": fake_url,
        "TDEX_LEDGER_MANIFEST": str(manifest),
        "TDEX_ACCOUNT_KEYS": str(accounts),
        "TDEX_HOME": str(tmp_path / "keys"),
        "TDEX_NODE_URLS": fake_url,
        # A production exchange with a chain anchors its audit log (its keystore is only named here).
        "TDEX_LOG_OPERATOR_KEYSTORE": str(tmp_path / "keys" / "audit-log"),
        "TDEX_LOG_OPERATOR_PASSPHRASE": "audit log passphrase",
        "TDEX_WITNESSES": "auditor.test/witness=http://127.0.0.1:1=auditor.test/witness+01020304+BA",
    }


def _run(env: dict[str, str]) -> Any:
    return CliRunner().invoke(doctor.app, [], env=env)


def test_healthy_deployment_passes(deployment: dict[str, str]) -> None:
    """Everything configured and reachable: every check ok, exit 0."""
    result = _run(deployment)
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert f"chain id {CHAIN_ID}" in result.output and "1 contracts with code" in result.output


def test_default_secret_refused(deployment: dict[str, str]) -> None:
    """Production with the development secret fails and says what to set."""
    del deployment["TDEX_SECRET_KEY"]
    result = _run(deployment)
    assert result.exit_code == 1
    assert "FAIL  settings: TDEX_SECRET_KEY still has the development default" in result.output


def test_production_without_log_operator_refused(deployment: dict[str, str]) -> None:
    """A production deployment whose exchange could not anchor its audit log fails and names the variable."""
    del deployment["TDEX_LOG_OPERATOR_KEYSTORE"]
    result = _run(deployment)
    assert result.exit_code == 1
    assert "FAIL  settings: a production exchange with TDEX_CHAIN_URL must sign and anchor" in result.output
    assert "TDEX_LOG_OPERATOR_KEYSTORE" in result.output


def test_development_mode_fails(deployment: dict[str, str]) -> None:
    """A deployment not in production mode is reported with the fix."""
    deployment["TDEX_MODE"] = "development"
    result = _run(deployment)
    assert result.exit_code == 1
    assert "fix: set TDEX_MODE=production" in result.output


def test_unreachable_chain_and_node(deployment: dict[str, str]) -> None:
    """A chain and a node nobody answers on each fail with a fix."""
    deployment["TDEX_CHAIN_URL"] = "http://127.0.0.1:1"
    deployment["TDEX_NODE_URLS"] = "http://127.0.0.1:1"
    result = _run(deployment)
    assert result.exit_code == 1
    assert "FAIL  chain: http://127.0.0.1:1 does not answer eth_chainId (ConnectError)" in result.output
    assert "FAIL  node http://127.0.0.1:1: /health: ConnectError" in result.output
    assert "FAIL  manifest" in result.output


def test_no_code_at_manifest_address(deployment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest whose addresses hold no code (a reset chain) fails with the redeploy fix."""
    monkeypatch.setattr(_Fake, "code", "0x")
    result = _run(deployment)
    assert result.exit_code == 1
    assert f"no code at Consortium at {ADDRESS}" in result.output
    assert "tdex chain deploy" in result.output


def test_loose_key_files(deployment: dict[str, str], tmp_path: Path) -> None:
    """Key files readable by others fail with the chmod to run."""
    (tmp_path / "keys/amr/keystore.json").chmod(0o644)
    Path(deployment["TDEX_ACCOUNT_KEYS"]).chmod(0o640)
    result = _run(deployment)
    assert result.exit_code == 1
    assert f"fix: chmod 600 {tmp_path}/keys/amr/keystore.json" in result.output
    assert f"fix: chmod 600 {deployment['TDEX_ACCOUNT_KEYS']}" in result.output


def test_store_behind_migrations(deployment: dict[str, str], tmp_path: Path) -> None:
    """An empty store (no migrations run) fails with how to migrate it."""
    deployment["DATABASE_URL"] = f"sqlite:///{tmp_path}/empty.db"
    result = _run(deployment)
    assert result.exit_code == 1
    assert "FAIL  database: schema at nothing" in result.output
