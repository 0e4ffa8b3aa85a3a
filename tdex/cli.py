"""The `tdex` command: one front door to the demo, the services, the keys, the audit tools and benchmarks.

Each capability adds its own sub-command module under `tdex/commands/` and lists it in
`COMMAND_MODULES`; a module exposes `NAME` and either `app` (a `typer.Typer` group of
sub-commands) or `command` (a single function, for commands such as `tdex demo`).
"""

from __future__ import annotations

import importlib

import typer

from tdex import __version__

# Sub-command modules, imported lazily so that `tdex --help` stays fast and a capability's heavy
# dependencies (TenSEAL, web3) load only when that capability runs.
COMMAND_MODULES: tuple[str, ...] = (
    "tdex.commands.demo",
    "tdex.commands.bench",
    "tdex.commands.keys",
    "tdex.commands.ident",
    "tdex.commands.serve",
    "tdex.commands.node",
    "tdex.commands.audit",
    "tdex.commands.cert",
    "tdex.commands.credit",
    "tdex.commands.chain",
    "tdex.commands.doctor",
    "tdex.commands.console",
)

app = typer.Typer(
    name="tdex",
    help="Trusted data exchange for city government: catalogue, grants, sandboxed analyses, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


def _register() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, "command"):
            app.command(name=module.NAME)(module.command)
        else:
            app.add_typer(module.app, name=module.NAME)


def main() -> None:
    """Entry point of the `tdex` console script."""
    _register()
    app()
