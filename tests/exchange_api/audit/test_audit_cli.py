"""`tdex audit`: verify, bundle, check, trail, risks and monitor, driven through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from audit_support import Keys, Store, fill, make_anchorer, make_keys, make_store
from eth_hash.auto import keccak
from typer.testing import CliRunner

import ledger
from exchange_api.audit import LedgerAnchorTarget, export_bundle, tamper_entry
from tdex.commands import audit as audit_cli


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Store, Keys, str]:
    """A store of 30 entries with one signed checkpoint, and its URL."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 30)
    make_anchorer(store, keys, None, None).tick(force=True)
    return store, keys, str(store.engine.url)


def _keys(keys: Keys) -> list[str]:
    return ["--log-key", keys.operator.vkey, "--witness-key", keys.witness.vkey]


def test_check_passes_then_names_the_tampered_entry(signed: tuple[Store, Keys, str]) -> None:
    """`check` exits 0 on an intact store and 1 naming the first bad entry after tampering."""
    store, keys, url = signed
    runner = CliRunner()
    ok = runner.invoke(audit_cli.app, ["check", "--db", url, *_keys(keys)])
    assert ok.exit_code == 0, ok.output
    assert "OK: the trail is complete and unaltered" in ok.output
    tamper_entry(store.engine, 12)
    bad = runner.invoke(audit_cli.app, ["check", "--db", url, *_keys(keys), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False and report["first_bad_index"] == 12


def test_bundle_export_and_verify(signed: tuple[Store, Keys, str], tmp_path: Path) -> None:
    """`bundle` writes a bundle; `verify` reports each failure by field and exits 1 (no anchor here)."""
    _store, keys, url = signed
    runner = CliRunner()
    path = tmp_path / "b.json"
    out = runner.invoke(audit_cli.app, ["bundle", "5", "--db", url, "-o", str(path)])
    assert out.exit_code == 0, out.output
    result = runner.invoke(audit_cli.app, ["verify", str(path), *_keys(keys)])
    assert result.exit_code == 1
    assert "FAIL anchor: the checkpoint has no anchoring transaction [audit.not_anchored]" in result.output
    data = json.loads(path.read_text())
    data["entry"] = data["entry"].replace('"actor":"org_a"', '"actor":"org_z"')
    path.write_text(json.dumps(data))
    tampered = runner.invoke(audit_cli.app, ["verify", str(path), *_keys(keys)])
    assert "FAIL entry:" in tampered.output and tampered.exit_code == 1


def test_verify_refuses_what_is_not_a_bundle(tmp_path: Path) -> None:
    """A file that is not a bundle exits 2 naming the field; a missing file exits 2."""
    runner = CliRunner()
    path = tmp_path / "x.json"
    path.write_text('{"kind": "something"}')
    result = runner.invoke(audit_cli.app, ["verify", str(path)])
    assert result.exit_code == 2 and "audit.bundle_malformed" in result.output
    assert runner.invoke(audit_cli.app, ["verify", str(tmp_path / "missing.json")]).exit_code == 2


def test_trail_json_and_csv(signed: tuple[Store, Keys, str]) -> None:
    """`trail` filters by grant and writes JSON with records or CSV without them."""
    url = signed[2]
    runner = CliRunner()
    as_json = runner.invoke(audit_cli.app, ["trail", "--db", url, "--grant", "g3"])
    assert as_json.exit_code == 0, as_json.output
    [item] = json.loads(as_json.stdout)["entries"]
    assert item["index"] == 3 and item["record"]["grant_id"] == "g3"
    as_csv = runner.invoke(audit_cli.app, ["trail", "--db", url, "--org", "org_a", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == 30 and rows[0]["kind"] == "grant.revoked"
    assert runner.invoke(audit_cli.app, ["trail", "--db", url, "--format", "xml"]).exit_code == 2


def test_risks_lists_signals(signed: tuple[Store, Keys, str]) -> None:
    """`risks` prints the signals (the fixture's entries are at 10:00 Shanghai time: none)."""
    url = signed[2]
    result = CliRunner().invoke(audit_cli.app, ["risks", "--db", url, "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"signals": []}


@pytest.mark.anvil
def test_on_chain_verify_check_and_monitor(tmp_path: Path) -> None:
    """Against Anvil: the bundle's anchor is found, the check compares with the chain, the monitor is calm."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 20)
    with ledger.connect("anvil") as chain:
        signer = ledger.Signer.generate()
        chain.fund(signer.address)
        admin = ledger.Admin(keccak(b"bureau"), signer.address, ledger.Capability.LOG_OPERATOR)
        dep = ledger.deploy(chain, signer, [admin], manifest_path=tmp_path / "manifest.json")
        anchorer = make_anchorer(store, keys, None, None)
        anchorer.target = LedgerAnchorTarget(dep.anchor, signer)
        assert anchorer.tick(force=True).anchored is not None
        export_bundle(store.log, 4, tmp_path / "b.json")
        runner = CliRunner()
        url, rpc, manifest = str(store.engine.url), chain.name, str(tmp_path / "manifest.json")
        verified = runner.invoke(
            audit_cli.app,
            ["verify", str(tmp_path / "b.json"), "--rpc", rpc, "--manifest", manifest, *_keys(keys)],
        )
        assert verified.exit_code == 0, verified.output
        assert "anchor found on chain and matches" in verified.output
        checked = runner.invoke(audit_cli.app, ["check", "--db", url, "--rpc", rpc, "--manifest", manifest])
        assert checked.exit_code == 0, checked.output
        watched = runner.invoke(audit_cli.app, ["monitor", "--db", url, "--rpc", rpc, "--manifest", manifest])
        assert watched.exit_code == 0, watched.output
        assert "verified anchor 0: size 20" in watched.output
    store.engine.dispose()
