"""`tdex chain`: status, deploy and up, through the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ledger
from tdex.commands.chain import app

runner = CliRunner()
DEV_ACCOUNT = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"


def test_status_on_eth_tester() -> None:
    """status prints the chain's id and state as JSON."""
    result = runner.invoke(app, ["status", "--rpc", "eth-tester", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["chain_id"] == 131277322940537
    assert report["dev"] is True
    assert report["healthy"] is True


def test_deploy_writes_a_manifest(tmp_path: Path) -> None:
    """deploy with the dev account writes a manifest naming the four contracts."""
    manifest = tmp_path / "manifest.json"
    result = runner.invoke(
        app,
        [
            "deploy",
            "--rpc",
            "eth-tester",
            "--manifest",
            str(manifest),
            "--admin",
            f"91110000600037341L={DEV_ACCOUNT}:LOG_OPERATOR",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "deployed on chain" in result.output
    loaded = ledger.Manifest.load(manifest)
    assert set(loaded.contracts) == set(ledger.CONTRACT_NAMES)
    assert loaded.bootstrap["admins"][0]["capabilities"] == int(ledger.Capability.LOG_OPERATOR)


def test_bad_input_exits_2_with_the_error_code(tmp_path: Path) -> None:
    """A malformed URL and an unknown capability are refused with a clear message."""
    result = runner.invoke(app, ["status", "--rpc", "ftp://x"])
    assert result.exit_code == 2
    assert "ledger.bad_url" in result.output
    result = runner.invoke(
        app,
        [
            "deploy",
            "--rpc",
            "eth-tester",
            "--manifest",
            str(tmp_path / "m.json"),
            "--admin",
            f"X={DEV_ACCOUNT}:ROOT",
        ],
    )
    assert result.exit_code == 2
    assert "unknown capability" in result.output


@pytest.mark.anvil
def test_up_runs_until_interrupted() -> None:
    """`tdex chain up` serves a chain until SIGINT and leaves no node behind."""
    command = [sys.executable, "-m", "tdex", "chain", "up", "--port", "0", "--chain-id", "777"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"listening on (http://\S+) .*pid (\d+)", line)
            assert found, line
            with ledger.connect(found.group(1)) as chain:
                assert chain.chain_id == 777
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
    with pytest.raises(ProcessLookupError):
        os.kill(int(found.group(2)), 0)
