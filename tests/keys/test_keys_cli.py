"""The `tdex keys` and `tdex id` commands, driven through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keys import Ed25519SigningKey
from tdex.commands import ident
from tdex.commands import keys as keys_cli

PASS = "cli passphrase"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner whose keystore root is a temporary $TDEX_HOME and whose passphrase is in the env."""
    monkeypatch.setenv("TDEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TDEX_KEYSTORE_PASSPHRASE", PASS)
    return CliRunner()


def _init(runner: CliRunner, *extra: str) -> dict[str, object]:
    result = runner.invoke(keys_cli.app, ["init", "--org", "dept-a", "--kdf-profile", "fast-test", *extra])
    assert result.exit_code == 0, result.output
    identity: dict[str, object] = json.loads(result.stdout)
    return identity


def test_init_prints_the_public_identity(runner: CliRunner, tmp_path: Path) -> None:
    """`keys init` creates the keystore under $TDEX_HOME and prints the identity without secrets."""
    identity = _init(runner, "--uscc", "91110000600037341L", "--suite", "gm")
    assert identity["suite"] == "gm" and identity["uscc"] == "91110000600037341L"
    assert str(identity["did"]).startswith("did:key:z6Mk")
    assert (tmp_path / "home" / "dept-a" / "keystore.json").is_file()


def test_init_twice_fails_without_prompting(runner: CliRunner) -> None:
    """A second `keys init` for the same organisation exits 1 with the exists code."""
    _init(runner)
    result = runner.invoke(keys_cli.app, ["init", "--org", "dept-a", "--kdf-profile", "fast-test"])
    assert result.exit_code == 1 and "keys.keystore.exists" in result.stderr


def test_init_refuses_a_bad_uscc_unless_overridden(runner: CliRunner) -> None:
    """A failing USCC stops `init`; with who and why given, the override is recorded in the identity."""
    result = runner.invoke(
        keys_cli.app,
        ["init", "--org", "dept-a", "--kdf-profile", "fast-test", "--uscc", "91110000600037341K"],
    )
    assert result.exit_code == 1 and "position 18" in result.stderr
    identity = _init(
        runner,
        "--uscc",
        "91110000600037341K",
        "--uscc-override-by",
        "registrar-li",
        "--uscc-override-reason",
        "2015 pilot code",
    )
    override = identity["uscc_override"]
    assert isinstance(override, dict) and override["approved_by"] == "registrar-li"


def test_passphrase_prompt_when_env_is_unset(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the env var, `init` prompts twice (confirmation); a wrong prompted passphrase fails."""
    monkeypatch.delenv("TDEX_KEYSTORE_PASSPHRASE")
    result = runner.invoke(
        keys_cli.app, ["init", "--org", "dept-b", "--kdf-profile", "fast-test"], input="typed pw\ntyped pw\n"
    )
    assert result.exit_code == 0, result.output
    rotated = runner.invoke(
        keys_cli.app, ["rotate", "--org", "dept-b", "--kdf-profile", "fast-test"], input="wrong\n"
    )
    assert rotated.exit_code == 1 and "keys.keystore.wrong_passphrase" in rotated.stderr


def test_passphrase_is_not_an_option(runner: CliRunner) -> None:
    """There is no --passphrase option: passing one is a usage error."""
    result = runner.invoke(keys_cli.app, ["init", "--org", "dept-a", "--passphrase", "x"])
    assert result.exit_code == 2


def test_show_needs_no_passphrase(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """`keys show` prints the identity JSON without asking for the passphrase."""
    identity = _init(runner)
    monkeypatch.delenv("TDEX_KEYSTORE_PASSPHRASE")
    result = runner.invoke(keys_cli.app, ["show", "--org", "dept-a"])
    assert result.exit_code == 0 and json.loads(result.stdout) == identity


def test_show_of_a_missing_org(runner: CliRunner) -> None:
    """`keys show` for an unknown organisation exits 1 naming the folder."""
    result = runner.invoke(keys_cli.app, ["show", "--org", "nobody"])
    assert result.exit_code == 1 and "keys.keystore.not_found" in result.stderr and "nobody" in result.stderr


@pytest.mark.parametrize("which", ["signing", "encryption", "account"])
def test_rotate(runner: CliRunner, which: str) -> None:
    """`keys rotate` prints signed statements, and for the account the record for the ledger."""
    before = _init(runner)
    result = runner.invoke(
        keys_cli.app, ["rotate", "--org", "dept-a", "--which", which, "--kdf-profile", "fast-test"]
    )
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["statements"][0]["payload"]["which"] == which
    after = json.loads(runner.invoke(keys_cli.app, ["show", "--org", "dept-a"]).stdout)
    if which == "account":
        assert output["account_rotation"]["old_address"] == before["chain_address"]
        assert after["chain_address"] != before["chain_address"]
        assert "Consortium.rotateAccount" in result.stderr
    if which == "signing":
        assert after["did"] != before["did"]


def test_rotate_rejects_unknown_kinds(runner: CliRunner) -> None:
    """`--which seal` is a usage error."""
    _init(runner)
    result = runner.invoke(keys_cli.app, ["rotate", "--org", "dept-a", "--which", "seal"])
    assert result.exit_code == 2


def test_verify_signed_files(runner: CliRunner, tmp_path: Path) -> None:
    """`keys verify` exits 0 on a valid document and 1, with the reason, on a tampered one."""
    key = Ed25519SigningKey.generate()
    doc = key.sign_document({"receipt": 7})
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc))
    result = runner.invoke(keys_cli.app, ["verify", str(good)])
    assert result.exit_code == 0 and key.key_id in result.stdout
    doc["payload"]["receipt"] = 8
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(keys_cli.app, ["verify", str(bad)])
    assert result.exit_code == 1 and "keys.signature.invalid" in result.stderr


def test_verify_against_an_organisation(runner: CliRunner, tmp_path: Path) -> None:
    """With --org, a document signed by someone else is refused as the wrong signer."""
    _init(runner)
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps(Ed25519SigningKey.generate().sign_document({"a": 1})))
    result = runner.invoke(keys_cli.app, ["verify", str(doc), "--org", "dept-a"])
    assert result.exit_code == 1 and "keys.signature.wrong_key" in result.stderr


def test_verify_missing_or_non_json_file(runner: CliRunner, tmp_path: Path) -> None:
    """A missing file or a non-JSON file exits 1 with a clear message."""
    assert runner.invoke(keys_cli.app, ["verify", str(tmp_path / "none.json")]).exit_code == 1
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    result = runner.invoke(keys_cli.app, ["verify", str(junk)])
    assert result.exit_code == 1 and "not JSON" in result.stderr


@pytest.mark.parametrize("code", ["91110000600037341L", "11010519491231002X"])
def test_id_check_valid(code: str) -> None:
    """`id check` exits 0 for a valid USCC and a valid resident ID number."""
    result = CliRunner().invoke(ident.app, ["check", code])
    assert result.exit_code == 0 and result.stdout.startswith("valid")


@pytest.mark.parametrize(
    ("code", "position", "expected"),
    [("91110000600037341K", 18, "L"), ("91110000600037342L", 17, "1"), ("110105194912310021", 18, "X")],
)
def test_id_check_invalid_names_position_and_expected(code: str, position: int, expected: str) -> None:
    """`id check` exits 1 naming the wrong position and the expected check character."""
    result = CliRunner().invoke(ident.app, ["check", code])
    assert result.exit_code == 1
    assert f"position {position}" in result.stderr and f"expected '{expected}'" in result.stderr


def test_commands_are_registered() -> None:
    """Both command modules are listed in the CLI front door."""
    from tdex.cli import COMMAND_MODULES

    assert {"tdex.commands.keys", "tdex.commands.ident"} <= set(COMMAND_MODULES)
    assert (keys_cli.NAME, ident.NAME) == ("keys", "id")
