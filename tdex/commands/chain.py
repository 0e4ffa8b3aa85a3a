"""`tdex chain`: run a local Anvil node, deploy the contracts, report a chain's and a deployment's state."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import typer

NAME = "chain"
app = typer.Typer(help="Run a local chain, deploy the contracts, show a chain's state.", no_args_is_help=True)

_RPC = typer.Option(..., "--rpc", help="The chain: a JSON-RPC URL, or eth-tester (in-process, for trying).")
_MANIFEST = typer.Option(
    Path("var/ledger/manifest.json"), "--manifest", help="The deployment manifest (JSON)."
)
_CHECK_MANIFEST = typer.Option(None, "--manifest", help="Also check this deployment manifest.")
_ADMINS = typer.Option(..., "--admin", help="Bootstrap admin USCC=0xADDRESS[:LOG_OPERATOR,...]; repeatable.")


def _fail(error: Exception) -> typer.Exit:
    code = getattr(error, "code", type(error).__name__)
    typer.echo(f"error [{code}]: {error}", err=True)
    return typer.Exit(2)


@app.command("up")
def up(
    port: int = typer.Option(8545, "--port", help="Port on 127.0.0.1 (0: a free one)."),
    chain_id: int = typer.Option(31337, "--chain-id", help="Chain id of the node."),
) -> None:
    """Run a local Anvil node (automine) in the foreground until interrupted."""
    from ledger._anvil import AnvilProcess
    from ledger.errors import LedgerError

    node = AnvilProcess(chain_id=chain_id, port=port or None)
    try:
        node.start()
    except LedgerError as exc:
        raise _fail(exc) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"anvil listening on {node.url} (chain id {chain_id}, pid {node.pid}); Ctrl-C stops it")
    try:
        while not stop.wait(0.5):
            if node.process is None or node.process.poll() is not None:
                typer.echo("error: anvil exited", err=True)
                raise typer.Exit(1)
    finally:
        node.stop()
        typer.echo("anvil stopped")


def _parse_admin(text: str) -> Any:
    """``USCC=0xADDRESS[:CAP,CAP]`` → ledger.Admin."""
    import ledger
    from ledger.ids import org_id

    uscc, _, rest = text.partition("=")
    account, _, caps = rest.partition(":")
    if not uscc or not account:
        raise typer.BadParameter(f"{text!r}: expected USCC=0xADDRESS[:CAPABILITY,...]")
    bits = ledger.Capability.NONE
    for name in [c.strip().upper() for c in caps.split(",") if c.strip()]:
        try:
            bits |= ledger.Capability[name]
        except KeyError:
            known = ", ".join(str(c.name) for c in ledger.Capability if c.name != "NONE")
            raise typer.BadParameter(f"unknown capability {name!r}; known: {known}") from None
    return ledger.Admin(org_id(uscc), account, bits)


@app.command("deploy")
def deploy(
    rpc: str = _RPC,
    manifest: Path = _MANIFEST,
    admin: list[str] = _ADMINS,
    threshold: int = typer.Option(1, "--threshold", help="Votes a proposal needs."),
    key_env: str = typer.Option(
        "TDEX_DEPLOYER_KEY",
        "--key-env",
        help="Environment variable holding the deployer's private key (hex).",
    ),
) -> None:
    """Deploy the four contracts (or reuse the deployment the manifest describes) and write the manifest.

    On a dev chain without a deployer key, the chain's prefunded dev account deploys.
    """
    import ledger
    from ledger.errors import LedgerError

    admins = [_parse_admin(a) for a in admin]
    try:
        with ledger.connect(rpc) as chain:
            key = os.environ.get(key_env)
            if key:
                deployer = ledger.Signer(key)
            elif chain.is_dev:
                deployer = chain.dev_signer()
            else:
                typer.echo(f"error: set {key_env} to the deployer's private key (hex)", err=True)
                raise typer.Exit(2)
            dep = ledger.deploy(chain, deployer, admins, threshold=threshold, manifest_path=manifest)
    except (LedgerError, ValueError) as exc:
        raise _fail(exc) from None
    verb = "reused" if dep.reused else "deployed"
    typer.echo(
        f"{verb} on chain {dep.manifest.chain_id} at block {dep.manifest.deploy_block}; manifest {manifest}"
    )
    for name, address in dep.addresses.items():
        typer.echo(f"  {name:13s} {address}")


@app.command("status")
def status(
    rpc: str = _RPC,
    manifest: Path | None = _CHECK_MANIFEST,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show the chain (id, client, block, PoA, fees) and, with --manifest, whether the contracts are there."""
    import contracts
    import ledger
    from ledger.errors import LedgerError

    report: dict[str, Any] = {}
    healthy = True
    try:
        with ledger.connect(rpc) as chain:
            max_fee, tip = chain.fees()
            report.update(
                rpc=rpc,
                chain_id=chain.chain_id,
                client=chain.client_version,
                block=chain.block_number(),
                poa=chain.poa,
                dev=chain.is_dev,
                max_fee_per_gas=max_fee,
                max_priority_fee_per_gas=tip,
            )
            if manifest is not None:
                loaded = ledger.Manifest.load(manifest)
                report["manifest_chain_id"] = loaded.chain_id
                healthy = loaded.chain_id == chain.chain_id
                checks: dict[str, Any] = {}
                for name, deployed in loaded.contracts.items():
                    has_code = bool(chain.code(deployed.address))
                    same = deployed.artifact_sha256 == contracts.artifact_sha256(name)
                    checks[name] = {"address": deployed.address, "code": has_code, "artifact_current": same}
                    healthy = healthy and has_code
                report["contracts"] = checks
    except LedgerError as exc:
        raise _fail(exc) from None
    report["healthy"] = healthy
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
    else:
        for key, value in report.items():
            if key != "contracts":
                typer.echo(f"{key:26s} {value}")
        for name, check in report.get("contracts", {}).items():
            flags = ("code" if check["code"] else "NO CODE") + (
                "" if check["artifact_current"] else ", stale artifact"
            )
            typer.echo(f"  {name:13s} {check['address']}  {flags}")
    if not healthy:
        raise typer.Exit(1)
