"""`tdex audit witness`: an auditor's own witness — create its key, print its vkey, serve tlog-witness.

The witness key lives in a keystore of the ``keys`` package: ``--key DIR`` is that keystore's
folder (``DIR/keystore.json``, encrypted with the passphrase) plus ``DIR/witness.json``, which names
the witness (public, so ``vkey`` needs no passphrase). The passphrase comes from
``$TDEX_KEYSTORE_PASSPHRASE`` or a hidden prompt, as for every tdex keystore.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from keys import Ed25519VerifyKey, KeysError, Keystore
from keys.errors import KeystoreExists
from tdex.commands.keys import read_passphrase

app = typer.Typer(
    help="Run a witness: cosign the exchange's checkpoints from your own premises.", no_args_is_help=True
)

WITNESS_FILE = "witness.json"
WITNESS_KIND = "tdex.witness"

_KEY = typer.Option(..., "--key", help="The witness's keystore folder (created by `init`).")
_STATE = typer.Option(..., "--state", help="The witness's state file (JSON; keep it, back it up).")
_LOG = typer.Option(..., "--log", help="A log to follow: ORIGIN=VKEY (repeatable).")
# Tests only: the cheap KDF profile, hidden as in `tdex keys`.
_PROFILE = typer.Option("moderate", "--kdf-profile", hidden=True)


def _keystore(key: Path, kdf_profile: str) -> tuple[Keystore, str]:
    """The keystore holding the folder ``key``, and the folder's name within it."""
    return Keystore(key.parent, kdf_profile=kdf_profile), key.name


def _fail(message: str, status: int = 1) -> typer.Exit:
    typer.echo(f"error {message}", err=True)
    return typer.Exit(status)


def _vkey(name: str, key: Ed25519VerifyKey) -> str:
    from exchange_api.audit import format_vkey
    from tlog import SIGNATURE_TYPE_COSIGNATURE_V1

    return format_vkey(name, key, SIGNATURE_TYPE_COSIGNATURE_V1)


def _witness_name(key: Path) -> str:
    path = key / WITNESS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _fail(f"[audit.witness_key_missing]: cannot read {path}: {err}", 2) from None
    if not isinstance(document, dict) or document.get("kind") != WITNESS_KIND:
        raise _fail(f"[audit.witness_key_missing]: {path} is not a {WITNESS_KIND} file", 2)
    name = document.get("name")
    if not isinstance(name, str):
        raise _fail(f"[audit.witness_key_missing]: {path} names no witness", 2)
    return name


@app.command("init")
def init(
    name: str = typer.Option(..., "--name", help="The witness's key name, e.g. auditor.example/witness."),
    key: Path = _KEY,
    kdf_profile: str = _PROFILE,
) -> None:
    """Create the witness key in a new keystore at --key and print its verifier key (vkey)."""
    from tlog import TlogError, cosignature_v1_key_id

    try:
        cosignature_v1_key_id(name, bytes(32))  # checks the name before anyone types a passphrase
    except TlogError as err:
        raise _fail(f"[{err.code}]: {err}", 2) from None
    store, org = _keystore(key, kdf_profile)
    try:
        if store.exists(org):
            raise KeystoreExists(store.folder(org), "a keystore already exists here")
        keys = store.create(org, read_passphrase(confirm=True))
    except KeysError as err:
        raise _fail(f"[{err.code}]: {err}") from None
    vkey = _vkey(name, keys.signing.verify_key)
    document = {"kind": WITNESS_KIND, "version": 1, "name": name, "vkey": vkey}
    (key / WITNESS_FILE).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    typer.echo(f"created witness key {key} for {name}", err=True)
    typer.echo(vkey)


@app.command("vkey")
def vkey(key: Path = _KEY) -> None:
    """Print the witness's verifier key (no passphrase needed): give it to the exchange operator."""
    name = _witness_name(key)
    store, org = _keystore(key, "moderate")
    try:
        identity = store.identity(org)
    except KeysError as err:
        raise _fail(f"[{err.code}]: {err}") from None
    typer.echo(_vkey(name, identity.signing_key))


@app.command("serve")
def serve(
    key: Path = _KEY,
    state: Path = _STATE,
    log: list[str] = _LOG,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0 picks a free one)."),
    kdf_profile: str = _PROFILE,
) -> None:
    """Serve POST /add-checkpoint (c2sp.org/tlog-witness) until SIGTERM or Ctrl-C."""
    from exchange_api.audit import WitnessServer, serve_witness
    from tlog import TlogError

    logs: dict[str, list[str]] = {}
    for item in log:
        origin, sep, log_vkey = item.rpartition("=")  # a vkey has no "=", an origin might
        if not (sep and origin and log_vkey):
            raise _fail(f"[audit.witness_config_invalid]: --log {item!r} is not ORIGIN=VKEY", 2)
        logs.setdefault(origin, []).append(log_vkey)
    name = _witness_name(key)
    store, org = _keystore(key, kdf_profile)
    try:
        keys = store.load(org, read_passphrase(confirm=False))
        server = WitnessServer(name, keys.signing, logs, state)
    except KeysError as err:
        raise _fail(f"[{err.code}]: {err}") from None
    except (ValueError, TlogError) as err:  # a log's vkey, or the state file
        raise _fail(f"[audit.witness_config_invalid]: {err}", 2) from None
    serve_witness(server, host, port, lambda url: typer.echo(f"witness {name} listening on {url}"))
