"""`tdex keys rotate --which account --rpc … --manifest …` records the new account on chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ledger
from keys import Keystore
from ledger.ids import org_id
from tdex.commands import keys as keys_cli

PASS = "correct horse battery staple"
USCC = "113301000000000279"


@pytest.mark.anvil
def test_account_rotation_is_recorded_on_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After the rotation the Consortium knows the organisation by its new account; the old one is gone."""
    monkeypatch.setenv("TDEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASS)
    runner = CliRunner()
    created = runner.invoke(
        keys_cli.app, ["init", "--org", "market", "--uscc", USCC, "--kdf-profile", "fast-test"]
    )
    assert created.exit_code == 0, created.output
    old_account = json.loads(created.stdout)["chain_address"]
    with ledger.connect("anvil") as chain:
        bureau = ledger.Signer.generate()
        chain.fund([bureau.address, old_account])
        deployment = ledger.deploy(
            chain, bureau, [ledger.Admin(org_id("11330100000000019E"), bureau.address)]
        )
        deployment.consortium.propose_admission(bureau, org_id(USCC), old_account, ledger.Role.DEPARTMENT)
        manifest = tmp_path / "manifest.json"
        deployment.manifest.save(manifest)
        rotated = runner.invoke(
            keys_cli.app,
            [
                "rotate",
                "--org",
                "market",
                "--which",
                "account",
                "--kdf-profile",
                "fast-test",
                "--rpc",
                chain.name,
                "--manifest",
                str(manifest),
            ],
        )
        assert rotated.exit_code == 0, rotated.output
        output = json.loads(rotated.stdout)
        new_account = Keystore(tmp_path / "home", kdf_profile="fast-test").identity("market").chain_address
        assert output["on_chain"]["account"].lower() == new_account.lower()
        member = deployment.consortium.member(org_id(USCC))
        assert member.account.lower() == new_account.lower()
        assert not deployment.consortium.is_active(old_account)


def test_failed_chain_step_keeps_the_rotation_and_says_how_to_retry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An unreachable chain leaves the local rotation in place and names the retry command."""
    monkeypatch.setenv("TDEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASS)
    runner = CliRunner()
    assert (
        runner.invoke(keys_cli.app, ["init", "--org", "market", "--kdf-profile", "fast-test"]).exit_code == 0
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    rotated = runner.invoke(
        keys_cli.app,
        [
            "rotate",
            "--org",
            "market",
            "--which",
            "account",
            "--kdf-profile",
            "fast-test",
            "--rpc",
            "http://127.0.0.1:9",
            "--manifest",
            str(manifest),
        ],
    )
    assert rotated.exit_code == 1
    assert "tdex keys record-rotation --org market --old 0x" in rotated.stderr
