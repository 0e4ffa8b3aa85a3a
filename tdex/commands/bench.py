"""`tdex bench NAME --json`: run one benchmark from `bench/` and print its JSON object."""

from __future__ import annotations

import importlib
import json
import pkgutil

import typer

import bench

NAME = "bench"
app = typer.Typer(help="Run a benchmark (it compares against a peer in the same run).", no_args_is_help=True)


def available() -> list[str]:
    """Names of the benchmarks under `bench/` (each module exposes `run() -> dict`)."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


@app.command("run", hidden=True)
def _run_hidden(name: str) -> None:  # pragma: no cover - alias kept for scripts
    run(name, as_json=True)


@app.callback(invoke_without_command=True)
def run(
    name: str = typer.Argument(..., help="Benchmark name, e.g. ledger, keys, api, sandbox, audit, cert."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with a `figures` map."),
) -> None:
    """Run benchmark NAME."""
    if name not in available():
        typer.echo(f"unknown benchmark {name!r}; available: {', '.join(available())}", err=True)
        raise typer.Exit(2)
    module = importlib.import_module(f"bench.{name}")
    result = module.run()
    if as_json:
        typer.echo(json.dumps(result, sort_keys=True))
    else:
        for key, value in sorted(result.get("figures", {}).items()):
            typer.echo(f"{key:40s} {value}")
