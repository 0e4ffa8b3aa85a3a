"""`tdex bench NAME --json`: run one benchmark from `bench/` and print its JSON object."""

from __future__ import annotations

import importlib
import json
import pkgutil

import typer

import bench

NAME = "bench"


def available() -> list[str]:
    """Names of the benchmarks under `bench/` (each module exposes `run() -> dict`)."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def command(
    name: str = typer.Argument(..., help="Benchmark name, e.g. ledger, keys, api, sandbox, audit, cert."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with a `figures` map."),
) -> None:
    """Run benchmark NAME (it compares against a peer in the same run)."""
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
