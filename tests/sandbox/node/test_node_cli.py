"""`tdex node ingest` and `tdex node datasets` against a keystore, a catalogue entry and a policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from node_support import register_table
from typer.testing import CliRunner

from keys import Keystore
from sandbox import node as sn
from tdex.commands.node import app

PASSPHRASE = "cli-suite-passphrase"


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    """A department keystore, a register as CSV, its catalogue entry and node policy."""
    Keystore(tmp_path / "keys", kdf_profile="fast-test").create(
        "market", PASSPHRASE, uscc="113301000000000279"
    )
    table = register_table(120, 8)
    sn.write_source(table, tmp_path / "register.csv")
    entry = sn.entry_for_schema("330100-MKT/30001", "登记", table.schema, {"name": "market", "uscc": "x"})
    (tmp_path / "entry.json").write_text(json.dumps(entry, ensure_ascii=False))
    (tmp_path / "policy.json").write_text(json.dumps(sn.policy_for_schema(table.schema, 5).to_dict()))
    return {"root": tmp_path, "csv": tmp_path / "register.csv"}


def _ingest(setup: dict[str, Path], *extra: str) -> object:
    root = setup["root"]
    args = [
        "ingest", str(setup["csv"]), "--org", "market", "--resource", "330100-MKT/30001",
        "--entry", str(root / "entry.json"), "--policy", str(root / "policy.json"),
        "--data-dir", str(root / "node"), "--dir", str(root / "keys"), *extra,
    ]  # fmt: skip
    return CliRunner().invoke(app, args)


def test_ingest_prints_the_record_and_datasets_lists_it(setup: dict[str, Path]) -> None:
    """The printed record names the dataset digest and the catalogue binding; no value of a row."""
    result = _ingest(setup)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    record = json.loads(result.output)  # type: ignore[attr-defined]
    assert record["kind"] == "tdex.sandbox.dataset" and record["rows"] == 120
    assert record["catalogue"]["code"] == "330100-MKT/30001" and record["policy"]["min_group_size"] == 5
    listed = CliRunner().invoke(
        app, ["datasets", "--org", "market", "--data-dir", str(setup["root"] / "node")]
    )
    assert json.loads(listed.output)[0]["dataset_digest"] == record["dataset_digest"]


def test_ingest_names_the_bad_line_and_column(setup: dict[str, Path]) -> None:
    """A malformed file exits 1 with the error code, the line and the column."""
    lines = setup["csv"].read_text().splitlines()
    fields = lines[5].split(",")
    fields[5] = "many"  # employees
    lines[5] = ",".join(fields)
    setup["csv"].write_text("\n".join(lines) + "\n")
    result = _ingest(setup)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "sandbox.node.row_rejected" in result.output and "line 6, column 6 ('employees')" in result.output  # type: ignore[attr-defined]


def test_ingest_refuses_an_entry_for_another_resource(setup: dict[str, Path]) -> None:
    """The entry must describe the resource named on the command line."""
    root = setup["root"]
    args = [
        "ingest", str(setup["csv"]), "--org", "market", "--resource", "330100-MKT/99999",
        "--entry", str(root / "entry.json"), "--data-dir", str(root / "node"), "--dir", str(root / "keys"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "not 330100-MKT/99999" in result.output
