"""`create_app_from_env` with a chain and a manifest wires the certificate anchors and the credit reader."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger
from exchange_api.app import create_app_from_env
from exchange_api.chain_anchors import ChainAnchors
from exchange_api.routes.certificates import anchors_of, credit_reader_of
from exchange_api.services.certificates import LedgerCreditReader
from ledger import Admin, Signer
from ledger._anvil import AnvilProcess
from ledger.ids import org_id

SECRET = "subject-secret-for-app-from-env-01"
USCC = "91110000600037341L"


@pytest.fixture(scope="module")
def anvil_manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """An Anvil node with the six contracts deployed: (URL, manifest file, account keys file)."""
    home = tmp_path_factory.mktemp("from-env")
    bureau = Signer.generate()
    with AnvilProcess() as node, ledger.connect(node.url) as chain:
        chain.fund([bureau.address])
        ledger.deploy(chain, bureau, [Admin(org_id("bureau"), bureau.address)], manifest_path=home / "m.json")
        keys = home / "keys.json"
        keys.write_text(json.dumps({"bureau": bureau.export_private_key().hex()}), encoding="utf-8")
        yield node.url, home / "m.json", keys


@pytest.fixture
def from_env(
    anvil_manifest: tuple[str, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    """The environment of a chain-connected exchange (the switch interval is restored afterwards)."""
    url, manifest, keys = anvil_manifest
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'exchange.db'}")
    monkeypatch.setenv("TDEX_CHAIN_URL", url)
    monkeypatch.setenv("TDEX_LEDGER_MANIFEST", str(manifest))
    monkeypatch.setenv("TDEX_ACCOUNT_KEYS", str(keys))
    monkeypatch.setenv("TDEX_SUBJECT_SECRET", SECRET)
    interval = sys.getswitchinterval()
    yield monkeypatch
    sys.setswitchinterval(interval)


@pytest.mark.anvil
def test_certificate_anchors_and_credit_reader_are_wired(
    anvil_manifest: tuple[str, Path, Path], from_env: pytest.MonkeyPatch
) -> None:
    """Both read the manifest's CertificateRegistry and CreditLedger on the configured chain."""
    manifest = ledger.Manifest.load(anvil_manifest[1])
    app = create_app_from_env()
    anchors, credit = anchors_of(app), credit_reader_of(app)
    try:
        assert isinstance(anchors, ChainAnchors)
        assert anchors.registry.address == manifest.address("CertificateRegistry")
        assert anchors.chain_id == manifest.chain_id
        assert anchors.certificate(b"\x00" * 32) is None
        assert isinstance(credit, LedgerCreditReader)
        assert credit.events_of(credit.subject_ref(USCC)) == []
        assert credit._ledger.address == manifest.address("CreditLedger")
    finally:
        anchors.registry.chain.close()


@pytest.mark.anvil
def test_without_a_subject_secret_only_the_anchors_are_wired(
    anvil_manifest: tuple[str, Path, Path], from_env: pytest.MonkeyPatch
) -> None:
    """The credit reader needs the subject-reference secret; without it none is wired."""
    from_env.delenv("TDEX_SUBJECT_SECRET")
    app = create_app_from_env()
    anchors = anchors_of(app)
    try:
        assert isinstance(anchors, ChainAnchors)
        assert credit_reader_of(app) is None
    finally:
        anchors.registry.chain.close()
