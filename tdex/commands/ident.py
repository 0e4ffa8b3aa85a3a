"""`tdex id check CODE`: validate a unified social credit code or a resident ID number."""

from __future__ import annotations

import typer

from keys import ResidentIdInfo, UsccInfo, validate_identifier, validate_resident_id, validate_uscc
from keys.errors import IdentifierError

NAME = "id"
app = typer.Typer(
    help="Chinese identifiers: USCC (GB 32100) and resident ID numbers (GB 11643).", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Chinese identifiers."""


@app.command("check")
def check(
    code: str = typer.Argument(..., help="An 18-character USCC or resident ID number."),
    kind: str = typer.Option("auto", "--kind", help="auto, uscc or resident."),
) -> None:
    """Exit 0 when CODE is valid; otherwise exit 1 naming the position and the expected character."""
    try:
        if kind == "uscc":
            info: UsccInfo | ResidentIdInfo = validate_uscc(code)
        elif kind == "resident":
            info = validate_resident_id(code)
        elif kind == "auto":
            info = validate_identifier(code)
        else:
            typer.echo("error: --kind must be auto, uscc or resident", err=True)
            raise typer.Exit(2)
    except IdentifierError as exc:
        detail = ""
        if exc.position is not None:
            detail = f" (position {exc.position}" + (f", expected {exc.expected!r})" if exc.expected else ")")
        typer.echo(f"invalid{detail}: {exc}", err=True)
        raise typer.Exit(1) from None
    if isinstance(info, ResidentIdInfo):
        # Echo no birth date: the number is personal data; confirming validity is enough.
        typer.echo(f"valid resident ID number (region {info.region})")
    else:
        typer.echo(
            f"valid USCC {info.code} (region {info.region}, organisation code {info.organisation_code})"
        )
