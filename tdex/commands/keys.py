"""`tdex keys`: create, show, rotate organisation keystores and verify signed JSON documents.

The keystore folder comes from `--dir`, else `$TDEX_HOME`, else `./var/keys`. The passphrase comes
from `$TDEX_KEYSTORE_PASSPHRASE` or a hidden prompt, never from a command-line argument (it
would show in `ps` and the shell history).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from keys import (
    IdentifierOverride,
    KeysError,
    Keystore,
    OrgIdentity,
    OrgKeys,
    Suite,
    parse_json,
    verify_signed,
)
from keys.errors import KeystoreExists

NAME = "keys"
app = typer.Typer(help="Organisation keystores, identities and signed documents.", no_args_is_help=True)

PASSPHRASE_ENV = "TDEX_KEYSTORE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
HOME_ENV = "TDEX_HOME"
DEFAULT_HOME = Path("var/keys")

_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")
_ORG = typer.Option(..., "--org", help="Organisation name (its folder under the keystore root).")
# Tests only: the cheap KDF profile. Hidden so nobody picks it by accident; files written with it
# are refused by the default profile.
_PROFILE = typer.Option("moderate", "--kdf-profile", hidden=True)
_RPC = typer.Option(None, "--rpc", help="JSON-RPC URL: record an account rotation on chain.")
_MANIFEST = typer.Option(None, "--manifest", help="Deployment manifest for --rpc.")
_OLD = typer.Option(..., "--old", help="The retired account address (it signs the rotation).")
_RPC_REQUIRED = typer.Option(..., "--rpc", help="JSON-RPC URL of the chain.")
_MANIFEST_REQUIRED = typer.Option(..., "--manifest", help="The deployment manifest (JSON).")
_FILE = typer.Argument(..., help="A signed JSON document (kind tdex.signed).")


def keystore_root(directory: Path | None) -> Path:
    """The keystore root: the option, else $TDEX_HOME, else ./var/keys."""
    if directory is not None:
        return directory
    home = os.environ.get(HOME_ENV)
    return Path(home) if home else DEFAULT_HOME


def read_passphrase(*, confirm: bool) -> str:
    """The passphrase from $TDEX_KEYSTORE_PASSPHRASE, or from a hidden prompt."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    value: str = typer.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _fail(error: KeysError, status: int = 1) -> typer.Exit:
    typer.echo(f"error [{error.code}]: {error}", err=True)
    return typer.Exit(status)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


@app.command("init")
def init(
    org: str = _ORG,
    directory: Path | None = _DIR,
    suite: str = typer.Option("intl", "--suite", help="Crypto suite: intl (default) or gm."),
    uscc: str | None = typer.Option(None, "--uscc", help="The organisation's unified social credit code."),
    override_by: str | None = typer.Option(
        None, "--uscc-override-by", help="Who approves accepting a USCC that fails its check (recorded)."
    ),
    override_reason: str | None = typer.Option(
        None, "--uscc-override-reason", help="Why the failing USCC is accepted (recorded)."
    ),
    kdf_profile: str = _PROFILE,
) -> None:
    """Create a keystore with fresh keys for ORG and print its public identity."""
    store = Keystore(keystore_root(directory), kdf_profile=kdf_profile)
    override = None
    if override_by or override_reason:
        if not (override_by and override_reason and uscc):
            typer.echo(
                "error: an override needs --uscc, --uscc-override-by and --uscc-override-reason", err=True
            )
            raise typer.Exit(2)
        override = IdentifierOverride(code=uscc, approved_by=override_by, reason=override_reason)
    try:
        chosen = Suite.parse(suite)
        if store.exists(org):
            # Checked before the prompt so nobody types a passphrase for nothing.
            raise KeystoreExists(store.folder(org), "a keystore already exists for this organisation")
        keys = store.create(
            org, read_passphrase(confirm=True), suite=chosen, uscc=uscc, uscc_override=override
        )
    except KeysError as exc:
        raise _fail(exc) from None
    typer.echo(f"created keystore {store.folder(org)}", err=True)
    _print_json(keys.identity.to_json())


@app.command("show")
def show(org: str = _ORG, directory: Path | None = _DIR) -> None:
    """Print ORG's public identity as JSON (no secret; no passphrase needed)."""
    try:
        identity = Keystore(keystore_root(directory)).identity(org)
    except KeysError as exc:
        raise _fail(exc) from None
    _print_json(identity.to_json())


@app.command("rotate")
def rotate(
    org: str = _ORG,
    directory: Path | None = _DIR,
    which: str = typer.Option("signing", "--which", help="signing, encryption or account."),
    kdf_profile: str = _PROFILE,
    rpc: str | None = _RPC,
    manifest: Path | None = _MANIFEST,
) -> None:
    """Replace ORG's signing, encryption or account keys; print the signed rotation statements.

    With --rpc and --manifest, an account rotation is also recorded on chain (Consortium.rotateAccount,
    signed by the old account key).
    """
    if which not in ("signing", "encryption", "account"):
        typer.echo("error: --which must be signing, encryption or account", err=True)
        raise typer.Exit(2)
    store = Keystore(keystore_root(directory), kdf_profile=kdf_profile)
    try:
        if not store.exists(org):
            store.identity(org)  # raises KeystoreNotFound naming the folder, before any prompt
        result = store.rotate(org, read_passphrase(confirm=False), which)  # type: ignore[arg-type]
    except KeysError as exc:
        raise _fail(exc) from None
    output: dict[str, Any] = {"org": org, "which": which, "statements": list(result.statements)}
    if result.account is not None:
        output["account_rotation"] = result.account.to_json()
        if rpc and manifest:
            output["on_chain"] = _record_on_chain(result.keys, result.account.old_address, rpc, manifest, org)
        else:
            typer.echo(
                f"account {result.account.old_address} -> {result.account.new_address}: "
                "the old key is kept; record it on chain (Consortium.rotateAccount) with "
                f"`tdex keys record-rotation --org {org} --old {result.account.old_address} "
                "--rpc URL --manifest FILE`",
                err=True,
            )
    _print_json(output)


def _record_on_chain(org_keys: OrgKeys, old: str, rpc: str, manifest: Path, org: str) -> dict[str, Any]:
    from ledger import LedgerError
    from tdex.keys_chain import record_account_rotation

    try:
        recorded = record_account_rotation(org_keys, old, rpc, manifest)
    except (LedgerError, KeysError) as exc:
        typer.echo(
            f"error: the rotation is kept locally but was not recorded on chain: {exc}; retry with "
            f"`tdex keys record-rotation --org {org} --old {old} --rpc {rpc} --manifest {manifest}`",
            err=True,
        )
        raise typer.Exit(1) from None
    return {
        "tx_hash": recorded.tx_hash,
        "block_number": recorded.block_number,
        "account": recorded.new_account,
    }


@app.command("record-rotation")
def record_rotation(
    org: str = _ORG,
    old: str = _OLD,
    rpc: str = _RPC_REQUIRED,
    manifest: Path = _MANIFEST_REQUIRED,
    directory: Path | None = _DIR,
    kdf_profile: str = _PROFILE,
) -> None:
    """Record ORG's current account on chain in place of the retired account OLD."""
    try:
        org_keys = Keystore(keystore_root(directory), kdf_profile=kdf_profile).load(
            org, read_passphrase(confirm=False)
        )
    except KeysError as exc:
        raise _fail(exc) from None
    _print_json({"org": org, "on_chain": _record_on_chain(org_keys, old, rpc, manifest, org)})


@app.command("verify")
def verify(
    file: Path = _FILE,
    org: str | None = typer.Option(None, "--org", help="Also require the signer to be this organisation."),
    directory: Path | None = _DIR,
) -> None:
    """Check a signed JSON document: exit 0 when it verifies, 1 with the reason when it does not."""
    try:
        document = parse_json(file.read_bytes())
    except FileNotFoundError:
        typer.echo(f"invalid: {file}: no such file", err=True)
        raise typer.Exit(1) from None
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"invalid: {file}: not JSON ({exc})", err=True)
        raise typer.Exit(1) from None
    try:
        if org is not None:
            identity: OrgIdentity = Keystore(keystore_root(directory)).identity(org)
            identity.verify_document(document)
        result = verify_signed(document)
    except KeysError as exc:
        typer.echo(f"invalid: {file}: [{exc.code}] {exc}", err=True)
        raise typer.Exit(1) from None
    who = f" ({org})" if org else ""
    typer.echo(
        f"valid: {file} signed by {result.signer.key_id}{who}, suite {result.suite}, created {result.created}"
    )
