"""`tdex console sign`: answer the web console's sign-in challenge with the organisation's key.

The key never leaves this machine: the console shows a challenge, this command signs it with the
organisation's current signing key from its keystore and prints a token to paste into the page.
"""

from __future__ import annotations

from pathlib import Path

import typer

from keys import Keystore
from keys.errors import KeysError

NAME = "console"
app = typer.Typer(help="The web console: sign its sign-in challenge with your organisation's key.")


@app.callback()
def _group() -> None:
    """The web console's commands (a group even with one command, so `console sign` stays stable)."""


_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")
_ORG = typer.Option(..., "--org", help="Organisation name (its folder under the keystore root).")
_CHALLENGE = typer.Argument(..., help="The challenge the console's sign-in page shows.")
# Tests only, as in `tdex keys`: keystores written with the cheap KDF profile.
_PROFILE = typer.Option("moderate", "--kdf-profile", hidden=True)


@app.command("sign")
def sign(
    challenge: str = _CHALLENGE, org: str = _ORG, directory: Path | None = _DIR, kdf_profile: str = _PROFILE
) -> None:
    """Print the token that answers CHALLENGE, signed by ORG's current signing key.

    The passphrase comes from $TDEX_KEYSTORE_PASSPHRASE or a hidden prompt.
    """
    from exchange_api.console import sign_challenge
    from exchange_api.console._auth import CHALLENGE_PREFIX
    from tdex.commands.keys import keystore_root, read_passphrase

    challenge = challenge.strip()
    if not challenge.startswith(CHALLENGE_PREFIX + ":"):
        typer.echo(
            f"error [console.bad_challenge]: a console challenge starts with {CHALLENGE_PREFIX}: "
            "(copy it whole from the sign-in page)",
            err=True,
        )
        raise typer.Exit(2)
    try:
        org_keys = Keystore(keystore_root(directory), kdf_profile=kdf_profile).load(
            org, read_passphrase(confirm=False)
        )
    except KeysError as exc:
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(sign_challenge(org_keys.signer, challenge))
