"""The `tdex` front door lists every capability and runs benchmarks by name."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tdex import cli
from tdex.commands import bench as bench_command

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    cli._register()


def test_help_lists_the_sub_commands() -> None:
    """`tdex --help` lists demo, bench and keys."""
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "bench", "keys"):
        assert name in result.output


def test_unknown_benchmark_is_refused_with_the_list() -> None:
    """`tdex bench nope` exits 2 and names the benchmarks that exist."""
    result = runner.invoke(cli.app, ["bench", "nope", "--json"])
    assert result.exit_code == 2
    assert "unknown benchmark 'nope'" in result.output


def test_bench_prints_one_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tdex bench NAME --json` prints exactly the module's result as one JSON object."""

    class Fake:
        @staticmethod
        def run() -> dict[str, object]:
            return {"name": "fake", "figures": {"x_per_s": 1.5}, "peer": "none"}

    monkeypatch.setattr(bench_command, "available", lambda: ["fake"])
    monkeypatch.setattr(bench_command.importlib, "import_module", lambda name: Fake)
    result = runner.invoke(cli.app, ["bench", "fake", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"figures": {"x_per_s": 1.5}, "name": "fake", "peer": "none"}
