"""`tdex audit witness` init, vkey and serve; a remote witness's cosignature passes `tdex audit verify`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import anchor_chain, fill, make_store
from typer.testing import CliRunner

from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    LedgerAnchorTarget,
    LogOperator,
    RemoteWitness,
    export_bundle,
    format_vkey,
)
from keys import Ed25519SigningKey
from tdex.commands import audit as audit_cli
from tlog import SIGNATURE_TYPE_COSIGNATURE_V1

ORIGIN = "tdex.test/audit"
NAME = "auditor.test/witness"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def witness_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A witness keystore made by `tdex audit witness init`, and the vkey it printed."""
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASSPHRASE)
    key = tmp_path / "witness-key"
    result = CliRunner().invoke(
        audit_cli.app, ["witness", "init", "--name", NAME, "--key", str(key), "--kdf-profile", "fast-test"]
    )
    assert result.exit_code == 0, result.output
    return key, result.stdout.strip()


def test_init_and_vkey(witness_key: tuple[Path, str]) -> None:
    """`init` prints a cosignature/v1 vkey; `vkey` prints the same without the passphrase."""
    key, vkey = witness_key
    assert vkey.startswith(f"{NAME}+") and vkey.split("+")[2].startswith("B")  # base64 of 0x04 ‖ key
    result = CliRunner().invoke(audit_cli.app, ["witness", "vkey", "--key", str(key)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == vkey


def test_init_refuses_an_existing_key_and_a_bad_name(witness_key: tuple[Path, str], tmp_path: Path) -> None:
    """A second `init` on the same folder is refused; so is a key name with a space."""
    key, _ = witness_key
    runner = CliRunner()
    again = runner.invoke(audit_cli.app, ["witness", "init", "--name", NAME, "--key", str(key)])
    assert again.exit_code == 1 and "keys.keystore.exists" in again.output
    bad = runner.invoke(audit_cli.app, ["witness", "init", "--name", "a b", "--key", str(tmp_path / "k2")])
    assert bad.exit_code == 2 and "tlog.key_invalid" in bad.output
    missing = runner.invoke(audit_cli.app, ["witness", "vkey", "--key", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "audit.witness_key_missing" in missing.output


def test_serve_refuses_a_bad_log_option(witness_key: tuple[Path, str], tmp_path: Path) -> None:
    """`serve` says which --log is not ORIGIN=VKEY, before asking for anything else."""
    key, _ = witness_key
    result = CliRunner().invoke(
        audit_cli.app,
        ["witness", "serve", "--key", str(key), "--state", str(tmp_path / "s.json"), "--log", "no-equals"],
    )
    assert result.exit_code == 2 and "audit.witness_config_invalid" in result.output


@pytest.fixture
def served(witness_key: tuple[Path, str], tmp_path: Path) -> Iterator[tuple[str, str, LogOperator]]:
    """`tdex audit witness serve` in a child process on a free loopback port: URL, vkey, operator."""
    key, vkey = witness_key
    operator = LogOperator(ORIGIN, Ed25519SigningKey.generate())
    command = [sys.executable, "-m", "tdex", "audit", "witness", "serve", "--key", str(key)]
    command += ["--state", str(tmp_path / "state.json"), "--log", f"{ORIGIN}={operator.vkey}"]
    command += ["--kdf-profile", "fast-test"]
    env = {**os.environ, "TDEX_KEYSTORE_PASSPHRASE": PASSPHRASE}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = proc.stdout.readline()  # printed once the socket listens
            assert ready.startswith(f"witness {NAME} listening on http://127.0.0.1:"), proc.stderr
            yield ready.split()[-1], vkey, operator
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_bundle_cosigned_by_a_remote_witness_verifies(
    served: tuple[str, str, LogOperator], tmp_path: Path
) -> None:
    """The anchorer gets a cosignature over HTTP; `tdex audit verify` accepts it with the pinned vkey."""
    url, vkey, operator = served
    store = make_store(tmp_path)
    fill(store, 12)
    with anchor_chain() as (_chain, dep, signer), RemoteWitness(url, vkey) as witness:
        anchorer = Anchorer(
            store.log,
            operator,
            [witness],
            LedgerAnchorTarget(dep.anchor, signer),
            AnchorPolicy(max_entries=5),
        )
        assert anchorer.tick(force=True).anchored is not None
        export_bundle(store.log, 7, tmp_path / "b.json")
    runner = CliRunner()
    keys = ["--log-key", operator.vkey, "--witness-key", vkey]
    result = runner.invoke(audit_cli.app, ["verify", str(tmp_path / "b.json"), *keys])
    assert result.exit_code == 0, result.output
    assert f"cosigned by {NAME}" in result.output
    unpinned = runner.invoke(audit_cli.app, ["verify", str(tmp_path / "b.json")])  # the bundle's own keys
    assert unpinned.exit_code == 0 and f"cosigned by {NAME}" in unpinned.output, unpinned.output
    other = format_vkey(NAME, Ed25519SigningKey.generate().verify_key, SIGNATURE_TYPE_COSIGNATURE_V1)
    wrong = runner.invoke(
        audit_cli.app,
        ["verify", str(tmp_path / "b.json"), "--log-key", operator.vkey, "--witness-key", other],
    )
    assert wrong.exit_code == 1
    assert "FAIL checkpoint.signature.witness:" in wrong.output and "[tlog.note_unverified]" in wrong.output
    store.engine.dispose()
