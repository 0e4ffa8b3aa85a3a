"""`tdex audit`: verify proof bundles offline, check the whole trail, query it, list risks, watch anchors.

`tdex audit witness …` (init, vkey, serve) runs an auditor's own witness; it lives in
:mod:`tdex.commands._audit_witness`.

Exit status: 0 when everything verified, 1 when something did not (each failure is printed with
what failed), 2 for unusable input (a file that is not a bundle, a missing option).
The store is `--db`, else `$DATABASE_URL`, else `sqlite:///./var/exchange.db`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import typer

from tdex.commands._audit_witness import app as witness_app

NAME = "audit"
app = typer.Typer(help="Auditor tools: proof bundles, full trail check, trail queries, risks, chain monitor.")
app.add_typer(witness_app, name="witness")

DEFAULT_DB = "sqlite:///./var/exchange.db"
_DB = typer.Option(None, "--db", help="Store URL (default: $DATABASE_URL or ./var/exchange.db).")
_RPC = typer.Option(None, "--rpc", help="JSON-RPC URL of the chain holding the anchors.")
_CONTRACT = typer.Option(None, "--contract", help="AuditAnchor address to pin (else from --manifest).")
_MANIFEST = typer.Option(
    None, "--manifest", help="Ledger deployment manifest (gives the AuditAnchor address)."
)
_LOG_KEY = typer.Option([], "--log-key", help="Trusted log operator key (name+id+key); repeatable.")
_WITNESS_KEY = typer.Option([], "--witness-key", help="Trusted witness key (name+id+key); repeatable.")
_MIN_WITNESSES = typer.Option(1, "--min-witnesses", min=0, help="Witness cosignatures required.")
_JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
_BUNDLE = typer.Argument(..., help="A proof bundle (JSON) exported by the exchange.")
_OUTPUT = typer.Option(None, "--output", "-o", help="Write here instead of stdout.")


def _db(url: str | None) -> str:
    return url or os.environ.get("DATABASE_URL") or DEFAULT_DB


def _trusted(log_keys: list[str], witness_keys: list[str], min_witnesses: int) -> Any:
    from exchange_api.audit import TrustedKeys

    if not log_keys:
        if witness_keys:
            typer.echo("--witness-key needs --log-key as well", err=True)
            raise typer.Exit(2)
        return None
    try:
        return TrustedKeys.from_vkeys(log_keys, witness_keys, min_witnesses)
    except ValueError as err:
        typer.echo(f"error: bad key: {err}", err=True)
        raise typer.Exit(2) from None


def _contract(contract: str | None, manifest: Path | None) -> str | None:
    if contract:
        return contract
    if manifest is None:
        return None
    import ledger

    return ledger.Manifest.load(manifest).address("AuditAnchor")


def _time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: {text!r} is not an ISO 8601 time", err=True)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@app.command("verify")
def verify(
    bundle: Path = _BUNDLE,
    rpc: str | None = _RPC,
    contract: str | None = _CONTRACT,
    manifest: Path | None = _MANIFEST,
    log_key: list[str] = _LOG_KEY,
    witness_key: list[str] = _WITNESS_KEY,
    min_witnesses: int = _MIN_WITNESSES,
) -> None:
    """Verify BUNDLE offline: entry, record, inclusion proof, signatures; with --rpc, the anchor on chain."""
    from exchange_api.audit import verify_bundle_file
    from exchange_api.audit.errors import BundleInvalid, BundleMalformed

    trusted = _trusted(log_key, witness_key, min_witnesses)
    try:
        report = verify_bundle_file(bundle, trusted=trusted, rpc=rpc, contract=_contract(contract, manifest))
    except OSError as err:
        typer.echo(f"error: cannot read {bundle}: {err}", err=True)
        raise typer.Exit(2) from None
    except BundleMalformed as err:
        typer.echo(f"error [{err.code}]: {err}", err=True)
        raise typer.Exit(2) from None
    except BundleInvalid as err:
        for failure in err.failures:
            typer.echo(f"FAIL {failure.field}: {failure.message} [{failure.code}]")
        typer.echo(f"bundle does NOT verify ({len(err.failures)} failure(s))")
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)
    typer.echo("bundle verifies")


@app.command("bundle")
def export(
    index: int = typer.Argument(..., min=0, help="The entry's index in the log."),
    db: str | None = _DB,
    output: Path | None = _OUTPUT,
    no_record: bool = typer.Option(False, "--no-record", help="Leave the full record out."),
) -> None:
    """Export the proof bundle of entry INDEX from the store."""
    from exchange_api.audit import export_bundle
    from exchange_api.audit.errors import AuditError
    from exchange_api.core.db import make_engine

    engine = make_engine(_db(db))
    try:
        bundle = export_bundle(engine, index, output, include_record=not no_record)
    except AuditError as err:
        typer.echo(f"error [{err.code}]: {err}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if output is None:
        typer.echo(bundle.dumps(), nl=False)
    else:
        typer.echo(f"wrote the bundle of entry {index} to {output}")


@app.command("check")
def check(
    db: str | None = _DB,
    rpc: str | None = _RPC,
    contract: str | None = _CONTRACT,
    manifest: Path | None = _MANIFEST,
    log_key: list[str] = _LOG_KEY,
    witness_key: list[str] = _WITNESS_KEY,
    min_witnesses: int = _MIN_WITNESSES,
    no_records: bool = typer.Option(False, "--no-records", help="Skip re-hashing every full record."),
    as_json: bool = _JSON,
) -> None:
    """Recompute the whole trail and compare it with every checkpoint (anchored ones with --rpc)."""
    from exchange_api.audit import verify_trail
    from exchange_api.core.db import make_engine

    trusted = _trusted(log_key, witness_key, min_witnesses)
    address = _contract(contract, manifest)
    if rpc and not address:
        typer.echo("--rpc needs --contract or --manifest to find the AuditAnchor contract", err=True)
        raise typer.Exit(2)
    engine = make_engine(_db(db))
    try:
        if rpc:
            import ledger

            with ledger.connect(rpc) as chain:
                anchor = ledger.AuditAnchor(chain, str(address))
                report = verify_trail(engine, anchor=anchor, trusted=trusted, check_records=not no_records)
        else:
            report = verify_trail(engine, trusted=trusted, check_records=not no_records)
    finally:
        engine.dispose()
    if as_json:
        first = report.first_contradicted
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "entries": report.entries,
                    "root": report.root.hex(),
                    "checkpoints_checked": report.checkpoints_checked,
                    "first_bad_index": report.first_bad_index,
                    "first_bad_reason": report.first_bad_reason,
                    "first_contradicted": (
                        {"size": first.size, "source": first.source, "root": first.root.hex()}
                        if first
                        else None
                    ),
                    "bad_index_range": report.bad_index_range,
                    "bad_checkpoints": list(report.bad_checkpoints),
                },
                indent=2,
            )
        )
    else:
        for line in report.lines():
            typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command("trail")
def trail(
    db: str | None = _DB,
    org: str | None = typer.Option(None, "--org", help="Organisation id."),
    resource: str | None = typer.Option(None, "--resource", help="Resource code."),
    grant: str | None = typer.Option(None, "--grant", help="Grant id."),
    application: str | None = typer.Option(None, "--application", help="Application id."),
    kind: str | None = typer.Option(None, "--kind", help="Entry kind, e.g. grant.revoked."),
    since: str | None = typer.Option(None, "--since", help="From this ISO 8601 time (inclusive)."),
    until: str | None = typer.Option(None, "--until", help="Up to this ISO 8601 time (exclusive)."),
    after: int = typer.Option(-1, "--after", help="Continue after this index."),
    limit: int = typer.Option(1000, "--limit", min=1, max=10_000),
    fmt: str = typer.Option("json", "--format", help="json or csv."),
    output: Path | None = _OUTPUT,
) -> None:
    """Export the entries matching the filters, in log order, as JSON or CSV."""
    from exchange_api.audit import TrailQuery, query_trail, trail_csv, trail_json
    from exchange_api.core.db import make_engine, make_sessionmaker

    if fmt not in {"json", "csv"}:
        typer.echo("--format must be json or csv", err=True)
        raise typer.Exit(2)
    query = TrailQuery(org, resource, grant, application, kind, _time(since), _time(until), after, limit)
    engine = make_engine(_db(db))
    try:
        with make_sessionmaker(engine)() as session:
            items = query_trail(session, query, with_records=fmt == "json")
    finally:
        engine.dispose()
    text = trail_json(items) if fmt == "json" else trail_csv(items)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(items)} entries to {output}")


@app.command("risks")
def risks(
    db: str | None = _DB,
    since: str | None = typer.Option(None, "--since", help="From this ISO 8601 time (inclusive)."),
    until: str | None = typer.Option(None, "--until", help="Up to this ISO 8601 time (exclusive)."),
    as_json: bool = _JSON,
) -> None:
    """List risk signals with the entries that raised them."""
    from exchange_api.audit import risk_signals
    from exchange_api.audit._service import exchange_risk_rules
    from exchange_api.core.db import make_engine, make_sessionmaker

    engine = make_engine(_db(db))
    try:
        with make_sessionmaker(engine)() as session:
            # The exchange's grants give the receipts' chain grant ids their budgets (as over HTTP).
            rules = exchange_risk_rules(session)
            found = risk_signals(session, rules, since=_time(since), until=_time(until))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps({"signals": [s.to_json() for s in found]}, indent=2, ensure_ascii=False))
        return
    for s in found:
        typer.echo(f"{s.kind} {s.subject}: {s.detail}; entries {', '.join(map(str, s.entries))}")
    typer.echo(f"{len(found)} signal(s)")


@app.command("monitor")
def monitor(
    db: str | None = _DB,
    rpc: str = typer.Option(..., "--rpc", help="JSON-RPC URL of the chain holding the anchors."),
    contract: str | None = _CONTRACT,
    manifest: Path | None = _MANIFEST,
    max_gap: float = typer.Option(
        600.0, "--max-gap", help="Alarm after this many seconds without an anchor."
    ),
    follow: bool = typer.Option(False, "--follow", help="Keep polling until interrupted."),
    interval: float = typer.Option(10.0, "--interval", help="Seconds between polls with --follow."),
) -> None:
    """Check each anchored checkpoint extends the previous one; alarm when anchors stop arriving."""
    import ledger
    from exchange_api.audit import AuditLog, ChainMonitor, anchored_checkpoints, log_id_for
    from exchange_api.audit._store import log_origin
    from exchange_api.core.db import make_engine, make_sessionmaker

    address = _contract(contract, manifest)
    if not address:
        typer.echo("the monitor needs --contract or --manifest", err=True)
        raise typer.Exit(2)
    engine = make_engine(_db(db))
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        log_id = log_id_for(log_origin(session))
    alarmed = False
    with ledger.connect(rpc) as chain:
        anchor = ledger.AuditAnchor(chain, address)
        watcher = ChainMonitor(
            lambda start: anchored_checkpoints(anchor, log_id, start),
            AuditLog(sessions),
            max_gap_s=max_gap,
        )
        while True:
            report = watcher.poll()
            for line in report.lines():
                typer.echo(line)
            alarmed = alarmed or not report.ok
            if not follow:
                break
            time.sleep(interval)
    engine.dispose()
    if alarmed:
        raise typer.Exit(1)
