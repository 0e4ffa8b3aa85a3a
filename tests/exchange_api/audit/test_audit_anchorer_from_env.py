"""Production wiring on Anvil: `create_app_from_env` anchors on its own, cosigned by a witness over HTTP."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from anchoring_support import WAIT_S, FlakyTarget, Ticks
from audit_support import entry
from fastapi import FastAPI
from fastapi.testclient import TestClient

import ledger
from exchange_api.app import create_app_from_env
from exchange_api.audit import (
    DEFAULT_ORIGIN,
    Anchorer,
    ChainAnchorLookup,
    LogOperator,
    TrustedKeys,
    WitnessServer,
    append_entries,
    create_witness_app,
    log_id_for,
    verify_bundle,
)
from exchange_api.core.db import session_scope
from exchange_api.loopback import serve_in_thread
from exchange_api.routes.certificates import anchors_of
from keys import Ed25519SigningKey, Keystore
from ledger import Admin, Signer
from ledger._anvil import AnvilProcess
from ledger.ids import org_id

pytestmark = [pytest.mark.anvil]

PASSPHRASE = "anchor from env passphrase"


@dataclass
class Deployed:
    """Anvil with the contracts, a log operator keystore whose account holds LOG_OPERATOR, files."""

    url: str
    manifest: Path
    account_keys: Path
    keystore: Path
    operator: LogOperator


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The relay's bureau account and the log operator's own account, both members; the latter anchors."""
    home = tmp_path_factory.mktemp("anchor-from-env")
    # The default (moderate) KDF profile: the settings load the keystore as production does.
    keys = Keystore(home / "keys").create("audit-log", PASSPHRASE)
    assert isinstance(keys.signer, Ed25519SigningKey)
    bureau, log_account = Signer.generate(), Signer(keys.export_account_key())
    admins = [
        Admin(org_id("bureau"), bureau.address),
        Admin(org_id("audit-log"), log_account.address, ledger.Capability.LOG_OPERATOR),
    ]
    with AnvilProcess() as node, ledger.connect(node.url) as chain:
        chain.fund([bureau.address, log_account.address])
        ledger.deploy(chain, bureau, admins, manifest_path=home / "m.json")
        account_keys = home / "account-keys.json"
        account_keys.write_text(json.dumps({"bureau": bureau.export_private_key().hex()}), encoding="utf-8")
        yield Deployed(
            node.url,
            home / "m.json",
            account_keys,
            home / "keys" / "audit-log",
            LogOperator(DEFAULT_ORIGIN, keys.signer),
        )


@pytest.fixture
def witness(deployed: Deployed, tmp_path: Path) -> Iterator[tuple[WitnessServer, str]]:
    """An auditor's witness server on a loopback port: (server, its TDEX_WITNESSES entry)."""
    server = WitnessServer(
        "auditor.test/witness",
        Ed25519SigningKey.generate(),
        {deployed.operator.origin: [deployed.operator.vkey]},
        tmp_path / "witness-state.json",
    )
    host = FastAPI()
    host.mount("/witness", create_witness_app(server))
    with serve_in_thread(host) as url:
        yield server, f"{server.name}={url}/witness={server.vkey}"


def test_app_from_env_anchors_cosigned_over_http(
    deployed: Deployed,
    witness: tuple[WitnessServer, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three entries reach TDEX_ANCHOR_MAX_ENTRIES; the exchange anchors them, the witness cosigned them."""
    server, line = witness
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'exchange.db'}",
        "TDEX_CHAIN_URL": deployed.url,
        "TDEX_LEDGER_MANIFEST": str(deployed.manifest),
        "TDEX_ACCOUNT_KEYS": str(deployed.account_keys),
        "TDEX_LOG_OPERATOR_KEYSTORE": str(deployed.keystore),
        "TDEX_LOG_OPERATOR_PASSPHRASE": PASSPHRASE,
        "TDEX_WITNESSES": line,
        "TDEX_ANCHOR_MAX_ENTRIES": "3",
        "TDEX_ANCHOR_INTERVAL_S": "0.05",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    interval = sys.getswitchinterval()
    try:
        app = create_app_from_env()
        # The writer's chain connection (the readers share it) is the test's to close.
        closing = anchors_of(app).registry.chain
        with closing, TestClient(app, base_url="http://testserver"):
            anchorer: Anchorer = app.state.anchorer
            assert anchorer.target is not None
            target = FlakyTarget(anchorer.target)
            anchorer.target = target
            ticks = Ticks(anchorer)
            with session_scope(app.state.sessions) as session:
                append_entries(session, [entry(i) for i in range(3)])
            assert target.anchored.wait(WAIT_S)
            ticks.wait(1)
            status = anchorer.status()
            assert status.anchored_size >= 3 and status.last_error is None
            with app.state.sessions() as session:
                bundle = anchorer.log.bundle(session, 0, include_record=True)
        with ledger.connect(deployed.url) as chain:
            anchor = ledger.attach(chain, deployed.manifest).anchor
            checkpoint = anchor.latest(log_id_for(deployed.operator.origin))
        assert checkpoint.tree_size == status.anchored_size
        assert server.last_size(deployed.operator.origin) == checkpoint.tree_size
        trusted = TrustedKeys.from_vkeys([deployed.operator.vkey], [server.vkey])
        lookup = ChainAnchorLookup.connect(deployed.url)
        try:
            report = verify_bundle(bundle, trusted=trusted, chain=lookup)
        finally:
            lookup.close()
        assert report.tree_size == checkpoint.tree_size and report.anchored_on_chain
    finally:
        sys.setswitchinterval(interval)
