"""`tdex console sign`: a keystore on the organisation's machine answers the page's challenge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import World
from console_support import challenge_of
from typer.testing import CliRunner

from tdex.commands import console as console_cli
from tdex.commands import keys as keys_cli

PASS = "console cli passphrase"
USCC = "91110000600037341L"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("TDEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASS)
    return CliRunner()


def _keystore(runner: CliRunner, org: str, suite: str) -> str:
    """A keystore for `org` made by `tdex keys init`; returns the did:key of its suite's signing key."""
    made = runner.invoke(
        keys_cli.app, ["init", "--org", org, "--uscc", USCC, "--suite", suite, "--kdf-profile", "fast-test"]
    )
    assert made.exit_code == 0, made.output
    identity = json.loads(made.stdout)
    did: str = identity["sm2_signing"] if suite == "gm" else identity["did"]
    return did


@pytest.mark.parametrize("suite", ["intl", "gm"])
def test_a_token_from_the_cli_signs_the_organisation_in(world: World, runner: CliRunner, suite: str) -> None:
    """Ed25519 (intl) and SM2 (gm) organisations alike sign in with the CLI's token."""
    did = _keystore(runner, "freight", suite)
    world["bureau"].client.admit(
        {
            "name": "freight",
            "uscc": USCC,
            "role": "ENTERPRISE",
            "public_keys": [did],
            "chain_account": "0x" + "ab" * 20,
        }
    )
    challenge = challenge_of(world.http.get("/console/sign-in").text)
    signed = runner.invoke(
        console_cli.app, ["sign", challenge, "--org", "freight", "--kdf-profile", "fast-test"]
    )
    assert signed.exit_code == 0, signed.output
    landed = world.http.post("/console/sign-in", data={"token": signed.stdout.strip()})
    assert landed.status_code == 200, landed.text[landed.text.find("problem") :][:600]
    assert "freight" in landed.text


def test_the_cli_refuses_what_is_not_a_challenge(runner: CliRunner) -> None:
    result = runner.invoke(console_cli.app, ["sign", "hello", "--org", "freight"])
    assert result.exit_code == 2
    assert "console.bad_challenge" in result.output


def test_the_cli_names_a_missing_keystore(runner: CliRunner) -> None:
    result = runner.invoke(console_cli.app, ["sign", "tdex-console-sign-in:h:x", "--org", "nobody"])
    assert result.exit_code == 1
    assert "nobody" in result.output
