"""`tdex doctor`: check a deployment's configuration and connectivity, and say how to fix each problem.

Reads the same environment as `tdex serve` (`Settings.from_env()`), plus TDEX_LEDGER_MANIFEST,
TDEX_ACCOUNT_KEYS, TDEX_NODE_URLS and the keystore folder (`--dir`, else $TDEX_HOME, else
./var/keys). Every check prints `ok` or `FAIL` with what was found and, when it fails, how to fix
it; the exit code is 1 when any check fails.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

NAME = "doctor"
app = typer.Typer(help="Check a deployment's configuration and connectivity.", invoke_without_command=True)

TIMEOUT_S = 3.0
MANIFEST_KIND = "tdex.ledger.manifest"
_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, whether it passed, what was seen and the fix."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    import httpx

    reply = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=TIMEOUT_S
    )
    reply.raise_for_status()
    body = reply.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def check_settings(env: Mapping[str, str]) -> tuple[Check, Any]:
    """The service's settings, refused as the service would refuse them; production required."""
    from exchange_api.core.config import Settings, SettingsError

    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        return Check(
            "settings", False, str(exc), "fix the variable named above (docs/api.md lists them)"
        ), None
    if settings.mode != "production":
        return (
            Check(
                "settings",
                False,
                f"TDEX_MODE is {settings.mode!r}: development defaults (secret key, no chain) are accepted",
                "set TDEX_MODE=production and a TDEX_SECRET_KEY of at least 32 random characters",
            ),
            settings,
        )
    if not settings.chain_url:
        return Check(
            "settings", False, "TDEX_CHAIN_URL is empty", "set TDEX_CHAIN_URL to a Besu RPC URL"
        ), settings
    return Check("settings", True, "production mode, secret key set, chain configured"), settings


def check_database(database_url: str) -> Check:
    """The store answers and its schema is at the migrations' head."""
    from exchange_api.core.db import make_engine
    from exchange_api.routes.ops import migration_state

    engine = make_engine(database_url)
    try:
        current, heads = migration_state(engine)
    except Exception as exc:  # any driver or connection error: say which
        return Check(
            "database",
            False,
            f"cannot reach the store: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            "check DATABASE_URL (host, port, user, password) and that PostgreSQL is up (pg_isready)",
        )
    finally:
        engine.dispose()
    if current != heads:
        return Check(
            "database",
            False,
            f"schema at {sorted(current) or 'nothing'}, migrations head {sorted(heads)}",
            "start `tdex serve` once (migrations run at start) or restart the exchange container",
        )
    return Check("database", True, f"{engine.dialect.name} reachable, schema at head {sorted(heads)}")


def check_chain(url: str) -> tuple[Check, int | None]:
    """The chain answers JSON-RPC; its chain id."""
    try:
        chain_id = int(_rpc(url, "eth_chainId", []), 16)
    except Exception as exc:  # connection refused, timeout, not JSON-RPC
        return (
            Check(
                "chain",
                False,
                f"{url} does not answer eth_chainId ({type(exc).__name__})",
                "start the Besu validators (docker compose up besu-1 ...) or correct TDEX_CHAIN_URL",
            ),
            None,
        )
    return Check("chain", True, f"{url} answers, chain id {chain_id}"), chain_id


def check_manifest(path: str, url: str | None, chain_id: int | None) -> Check:
    """The manifest is there, is for this chain, and code is at each of its addresses."""
    fix_deploy = "run `tdex chain deploy --rpc URL --manifest PATH --admin USCC=0xADDR:LOG_OPERATOR`"
    if not path:
        return Check(
            "manifest", False, "TDEX_LEDGER_MANIFEST is not set", f"set it to the manifest path; {fix_deploy}"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check("manifest", False, f"{path}: no such file", fix_deploy)
    except ValueError as exc:
        return Check("manifest", False, f"{path}: not JSON ({exc})", fix_deploy)
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        return Check("manifest", False, f"{path} is not a {MANIFEST_KIND}", fix_deploy)
    if url is None or chain_id is None:
        return Check(
            "manifest", False, f"{path} read, but the chain is unreachable", "fix the chain check first"
        )
    if int(data.get("chain_id", -1)) != chain_id:
        return Check(
            "manifest",
            False,
            f"manifest is for chain {data.get('chain_id')}, the chain answers {chain_id}",
            f"point TDEX_CHAIN_URL at the right network, or {fix_deploy}",
        )
    missing = []
    contracts = data.get("contracts", {})
    for name, entry in sorted(contracts.items()):
        try:
            code = _rpc(url, "eth_getCode", [entry["address"], "latest"])
        except Exception as exc:  # a lost connection mid-way
            return Check(
                "manifest", False, f"eth_getCode failed ({type(exc).__name__})", "retry; check the chain"
            )
        if code in ("0x", "0x0", "", None):
            missing.append(f"{name} at {entry['address']}")
    if missing or not contracts:
        return Check(
            "manifest",
            False,
            "no code at " + (", ".join(missing) if missing else "any address (no contracts listed)"),
            f"the chain was reset or the manifest is stale; {fix_deploy}",
        )
    return Check("manifest", True, f"{len(contracts)} contracts with code on chain {chain_id}")


def _loose(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def check_account_keys(path: str) -> Check:
    """The custodial account-key file exists, is JSON, and only its owner can read it."""
    if not path:
        return Check("account keys", True, "TDEX_ACCOUNT_KEYS not set (no custodial signing)")
    file = Path(path)
    if not file.is_file():
        return Check("account keys", False, f"{path}: no such file", "write the org id -> key JSON map there")
    if _loose(file):
        return Check("account keys", False, f"{path} is readable by others", f"chmod 600 {path}")
    return Check("account keys", True, f"{path} (0600)")


def check_keystores(root: Path) -> Check:
    """Every file under the keystore folder is 0600 (owner only)."""
    if not root.is_dir():
        return Check(
            "keystores",
            False,
            f"{root}: no such folder",
            "create the keys with `tdex keys init --org NAME --dir DIR`",
        )
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    loose = [str(p) for p in files if _loose(p)]
    if loose:
        return Check(
            "keystores",
            False,
            f"readable by group or others: {', '.join(loose)}",
            f"chmod 600 {' '.join(loose)} (and chmod 700 on their folders)",
        )
    return Check("keystores", True, f"{len(files)} file(s) under {root}, all 0600")


def check_nodes(raw: str) -> list[Check]:
    """Each department node in TDEX_NODE_URLS answers /health."""
    import httpx

    out = []
    for url in (u.strip().rstrip("/") for u in raw.split(",")):
        if not url:
            continue
        try:
            status = httpx.get(url + "/health", timeout=TIMEOUT_S).status_code
        except httpx.HTTPError as exc:
            status, reason = 0, type(exc).__name__
        else:
            reason = f"HTTP {status}"
        if status == 200:
            out.append(Check(f"node {url}", True, "/health answers 200"))
        else:
            out.append(
                Check(
                    f"node {url}",
                    False,
                    f"/health: {reason}",
                    "start the node (`tdex node serve ...` or its container) or correct TDEX_NODE_URLS",
                )
            )
    return out


def run_checks(env: Mapping[str, str], keystore: Path) -> list[Check]:
    """Every check, in order; later ones skip what an earlier failure makes pointless."""
    results: list[Check] = []
    results.append(check_settings(env)[0])
    # The store is checked even when other settings are refused (its URL alone is enough).
    results.append(check_database(env.get("DATABASE_URL", "sqlite:///./var/exchange.db")))
    chain_url = env.get("TDEX_CHAIN_URL", "")
    chain_id = None
    if chain_url:
        chain_check, chain_id = check_chain(chain_url)
        results.append(chain_check)
    results.append(check_manifest(env.get("TDEX_LEDGER_MANIFEST", ""), chain_url or None, chain_id))
    results.append(check_account_keys(env.get("TDEX_ACCOUNT_KEYS", "")))
    results.append(check_keystores(keystore))
    results += check_nodes(env.get("TDEX_NODE_URLS", ""))
    return results


def _print(check: Check, echo: Callable[[str], None]) -> None:
    echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    if not check.ok and check.fix:
        echo(f"      fix: {check.fix}")


@app.callback(invoke_without_command=True)
def doctor(
    directory: Path | None = _DIR,
) -> None:
    """Check settings, store, chain, manifest, key files and nodes; exit 1 when anything fails."""
    from tdex.commands.keys import keystore_root

    results = run_checks(dict(os.environ), keystore_root(directory))
    for check in results:
        _print(check, typer.echo)
    failed = [c for c in results if not c.ok]
    typer.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)
