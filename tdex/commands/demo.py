"""`tdex demo`: the end-to-end scenario on a local chain; exits non-zero if any step does not verify."""

from __future__ import annotations

import typer

NAME = "demo"


def command(
    backend: str = typer.Option("anvil", help="Chain backend: anvil, eth-tester, or a JSON-RPC URL."),
) -> None:
    """Run the end-to-end demo; each step verifies its outcome on chain or through the API."""
    from tdex.demo import run_demo

    raise typer.Exit(run_demo(backend=backend))
