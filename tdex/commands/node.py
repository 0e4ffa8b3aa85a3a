"""`tdex node`: run a department node (前置机), ingest its datasets, list them.

The organisation's keys come from its keystore (`--dir`, else `$TDEX_HOME`, else ./var/keys; the
passphrase from `$TDEX_KEYSTORE_PASSPHRASE` or a prompt). The node's data folder defaults to
``./var/node/<org>``; its member directory (the identities it accepts jobs from) to
``<data-dir>/members.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tdex.commands.keys import keystore_root, read_passphrase

NAME = "node"
app = typer.Typer(help="Run a department node, ingest its datasets, list them.", no_args_is_help=True)

_ORG = typer.Option(..., "--org", help="The department (its keystore name).")
_DATA = typer.Option(None, "--data-dir", help="The node's data folder (default ./var/node/<org>).")
_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")
# Tests only: keystores written with the cheap KDF profile (see `tdex keys init`).
_PROFILE = typer.Option("moderate", "--kdf-profile", hidden=True)
_PORT = typer.Option(0, "--port", help="Port on the loopback address (0: a free one).")
_RPC = typer.Option(..., "--rpc", help="The chain's JSON-RPC URL.")
_MANIFEST = typer.Option(..., "--manifest", help="The ledger deployment manifest (JSON).")
_MEMBERS = typer.Option(None, "--members", help="Member identities (tdex.sandbox.members).")
_HOST = typer.Option("127.0.0.1", "--host", help="Address to listen on.")
_LOG = typer.Option("warning", "--log-level", help="uvicorn log level.")
_FILE = typer.Argument(..., help="A .csv (UTF-8, header row) or .parquet file.")
_RESOURCE = typer.Option(..., "--resource", help="The catalogue resource code.")
_ENTRY = typer.Option(..., "--entry", help="The catalogue version record (tdex.catalog.entry).")
_POLICY = typer.Option(
    None, "--policy", help="Bounds, categories, identifiers and k (tdex.sandbox.resource_policy)."
)
_CHECK_RPC = typer.Option(None, "--rpc", help="Check the entry's hashes against the chain.")
_CHECK_MANIFEST = typer.Option(None, "--manifest", help="The deployment manifest (with --rpc).")


def _data_dir(org: str, data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else Path("var/node") / org


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        typer.echo(f"error: {what} {path}: no such file", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"error: {what} {path}: not JSON ({exc})", err=True)
        raise typer.Exit(2) from None


def _fail(error: Exception) -> typer.Exit:
    code = getattr(error, "code", type(error).__name__)
    typer.echo(f"error [{code}]: {error}", err=True)
    return typer.Exit(1)


@app.command("serve")
def serve(
    org: str = _ORG,
    port: int = _PORT,
    data_dir: Path | None = _DATA,
    rpc: str = _RPC,
    manifest: Path = _MANIFEST,
    members: Path | None = _MEMBERS,
    host: str = _HOST,
    directory: Path | None = _DIR,
    kdf_profile: str = _PROFILE,
    log_level: str = _LOG,
) -> None:
    """Serve ORG's node; prints "tdex-node listening on URL" once it accepts connections."""
    from keys import Keystore
    from keys.errors import KeysError
    from tdex.node_process import READY_PREFIX, NodeSettings
    from tdex.node_process import serve as run

    folder = _data_dir(org, data_dir)
    settings = NodeSettings(
        data_dir=folder,
        rpc=rpc,
        manifest=_read_json(manifest, "manifest"),
        members=_read_json(members or folder / "members.json", "members file"),
        host=host,
        port=port,
        log_level=log_level,
    )
    try:
        keys = Keystore(keystore_root(directory), kdf_profile=kdf_profile).load(
            org, read_passphrase(confirm=False)
        )
    except KeysError as exc:
        raise _fail(exc) from None
    try:
        run(keys, settings, lambda url: typer.echo(READY_PREFIX + url))
    except Exception as exc:  # the chain, the manifest or the members file; say which and stop
        raise _fail(exc) from None


@app.command("ingest")
def ingest(
    file: Path = _FILE,
    org: str = _ORG,
    resource: str = _RESOURCE,
    entry: Path = _ENTRY,
    policy: Path | None = _POLICY,
    data_dir: Path | None = _DATA,
    directory: Path | None = _DIR,
    rpc: str | None = _CHECK_RPC,
    manifest: Path | None = _CHECK_MANIFEST,
) -> None:
    """Check FILE against the catalogue entry, encrypt it for ORG and list it; prints the dataset record."""
    from keys import Keystore
    from keys.errors import KeysError
    from sandbox.errors import SandboxError
    from sandbox.node import DatasetPolicy, DatasetStore, entry_binding
    from sandbox.node import ingest as ingest_file

    entry_doc = _read_json(entry, "entry")
    try:
        binding = entry_binding(entry_doc)
        if binding.code != resource:
            typer.echo(f"error: the entry is for {binding.code}, not {resource}", err=True)
            raise typer.Exit(2)
        rules = (
            DatasetPolicy.from_dict(_read_json(policy, "policy")) if policy is not None else DatasetPolicy()
        )
        if rpc is not None:
            import ledger
            from tdex.node_chain import verify_catalogue_binding

            if manifest is None:
                typer.echo("error: --rpc needs --manifest", err=True)
                raise typer.Exit(2)
            with ledger.connect(rpc) as chain:
                verify_catalogue_binding(ledger.attach(chain, manifest), binding)
        identity = Keystore(keystore_root(directory)).identity(org)
        record = ingest_file(
            DatasetStore(_data_dir(org, data_dir)), file, entry_doc, rules, identity.public_encryption_key
        )
    except (SandboxError, KeysError) as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(record.to_dict(), indent=2, ensure_ascii=False, sort_keys=True))


@app.command("datasets")
def datasets(org: str = _ORG, data_dir: Path | None = _DATA) -> None:
    """List ORG's dataset versions (records only: no row ever leaves a node)."""
    from sandbox.node import DatasetStore

    records = DatasetStore(_data_dir(org, data_dir)).records()
    typer.echo(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False, sort_keys=True))
