"""The auditor's explorer: checkpoints and anchors, anchoring lag, the trail, risks, the full check, proofs.

Every answer comes from the functions the ``/audit`` API uses (``exchange_api.audit._service``:
checkpoints, entry, inclusion, bundle, trail, risks) as the signed-in organisation, and the full
check is the one ``tdex audit check`` runs (``verify_trail``). The entry page's inclusion proof is
recomputed in the browser by ``static/proof.js``; the checkpoint's signatures are verified here.
Only the checkpoints' signing and anchoring times are read from the store directly (`_times`):
the API does not publish them, and the lag chart needs nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from exchange_api.audit import TrustedKeys, verify_trail
from exchange_api.audit._models import AuditCheckpointRow
from exchange_api.audit._schemas import CheckpointPublic
from exchange_api.audit._service import (
    bundle,
    checkpoints,
    entry,
    inclusion,
    latest_checkpoint,
    risks,
    trail_items,
)
from exchange_api.audit._service import trail as trail_page
from exchange_api.audit._trail import TrailQuery, trail_csv
from exchange_api.audit.bundle import parse_vkey
from exchange_api.audit.errors import CheckpointNotFound
from exchange_api.console._auth import ConsoleUser
from exchange_api.console._i18n import Translator, language_of
from exchange_api.console._pages import ConsoleRoute, UserDep, call, check_csrf, render, require_role
from exchange_api.errors import InvalidInput
from exchange_api.routes.audit import get_audit_log
from tlog import SignedNote, TlogError, verify_note

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)

ROLES = ("AUDITOR", "ADMIN")
Index = Annotated[int, Path(ge=0, le=2**62)]
SHOWN_CHECKPOINTS = 100
SHOWN_ENTRIES = 200
EXPORT_LIMIT = 10_000
CITY = dt.timezone(dt.timedelta(hours=8))  # the console shows (and reads) times in UTC+8
FILTERS = ("org", "resource", "grant", "application", "kind", "since", "until", "after")


# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Signers:
    """Who signed a checkpoint, as verified here against the keys stored with it."""

    log: str | None
    witnesses: tuple[str, ...]
    problem: str | None


def _signers(cp: CheckpointPublic) -> Signers:
    try:
        note = SignedNote.parse(cp.note)
        log = verify_note(note, [parse_vkey(cp.log_key)])[0].name
    except (TlogError, ValueError) as err:
        return Signers(None, (), str(err))
    cosigners: list[str] = []
    for vkey in cp.witness_keys:
        try:
            cosigners.extend(s.name for s in verify_note(note, [parse_vkey(vkey)]))
        except (TlogError, ValueError):
            continue  # not cosigned by this witness (or its signature is bad): not listed
    return Signers(log, tuple(cosigners), None)


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back naive; the store only ever writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _times(request: Request, user: ConsoleUser) -> dict[int, tuple[dt.datetime, dt.datetime | None]]:
    """(signed at, anchored at) of the newest checkpoints, by size."""

    def read(ctx: Any) -> dict[int, tuple[dt.datetime, dt.datetime | None]]:
        rows = ctx.session.execute(
            select(AuditCheckpointRow.size, AuditCheckpointRow.created_at, AuditCheckpointRow.anchored_at)
            .order_by(AuditCheckpointRow.size.desc())
            .limit(SHOWN_CHECKPOINTS)
        )
        return {
            size: (_utc(created), _utc(anchored) if anchored is not None else None)
            for size, created, anchored in rows
        }

    return call(request, user, read)


def _lag_series(
    times: dict[int, tuple[dt.datetime, dt.datetime | None]], now: dt.datetime, labels: tuple[str, str]
) -> tuple[dict[str, list[tuple[float, float]]], dt.datetime | None]:
    """Seconds from signing each checkpoint to the first anchor covering it (or waited so far).

    A checkpoint superseded before it was anchored is covered by the next anchored one of a larger
    size: its entries were on chain from then. x is hours since the first checkpoint shown.
    """
    if not times:
        return {}, None
    origin = min(created for created, _ in times.values())
    anchored: list[tuple[float, float]] = []
    waiting: list[tuple[float, float]] = []
    for size, (created, _) in times.items():
        covers = [at for other, (_, at) in times.items() if other >= size and at is not None]
        x = round((created - origin).total_seconds() / 3600, 3)
        if covers:
            anchored.append((x, max(0.0, (min(covers) - created).total_seconds())))
        else:
            waiting.append((x, max(0.0, (now - created).total_seconds())))
    series = {labels[0]: anchored, labels[1]: waiting}
    return {k: v for k, v in series.items() if v}, origin


def _moment(text: str | None, field: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date and time", code="console.bad_time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CITY)


def _after(text: str) -> int:
    if not text:
        return -1
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"after: {text!r} is not an entry index", code="console.bad_index")
    return int(text)


def _query(request: Request, limit: int) -> tuple[TrailQuery, dict[str, str]]:
    """The trail query of the page's filter form (the same `TrailQuery` as ``/audit/trail``)."""
    form = {name: request.query_params.get(name, "").strip()[:160] for name in FILTERS}
    query = TrailQuery(
        org=form["org"] or None,
        resource=form["resource"] or None,
        grant=form["grant"] or None,
        application=form["application"] or None,
        kind=form["kind"][:64] or None,
        since=_moment(form["since"], "since"),
        until=_moment(form["until"], "until"),
        after=_after(form["after"]),
        limit=limit,
    )
    return query, form


def _json_block(data: dict[str, Any]) -> Markup:
    # Inside <script type="application/json"> nothing is HTML-decoded: escape what could end the block.
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - JSON with <, > and & escaped


def _trusted(request: Request) -> TrustedKeys | None:
    """The running log operator's and witnesses' keys, to pin the stored checkpoints' signatures."""
    anchorer = getattr(request.app.state, "anchorer", None)
    if anchorer is None:
        return None
    return TrustedKeys.from_vkeys(
        [anchorer.operator.vkey], [w.vkey for w in anchorer.witnesses], anchorer.policy.min_witnesses
    )


# ------------------------------------------------------------------------------------ pages


def _explorer(request: Request, user: ConsoleUser, check: dict[str, Any] | None = None) -> Response:
    require_role(user, *ROLES)
    times = _times(request, user)
    after = min(times) - 1 if times else -1
    views = call(request, user, lambda ctx: checkpoints(ctx, after, SHOWN_CHECKPOINTS)).items
    views.reverse()  # newest first on the timeline
    query, form = _query(request, SHOWN_ENTRIES)
    items = call(request, user, lambda ctx: trail_items(ctx, query))
    signals = call(request, user, lambda ctx: risks(ctx, query.since, query.until)).signals
    now = request.app.state.clock()
    t = Translator(language_of(request))
    lag, origin = _lag_series(times, now, (t("charts.lag_anchored"), t("charts.lag_waiting")))
    anchored = [v.size for v in views if v.anchor is not None]
    latest = views[0].size if views else 0
    export = urlencode({k: v for k, v in form.items() if v})
    more = (
        urlencode({**{k: v for k, v in form.items() if v}, "after": items[-1].index})
        if len(items) == SHOWN_ENTRIES
        else ""
    )
    return render(
        request,
        "audit.html",
        user=user,
        checkpoints=views,
        signers={v.size: _signers(v) for v in views},
        times=times,
        lag=lag,
        lag_origin=origin,
        waiting=latest - (max(anchored) if anchored else 0),
        items=items,
        shown=SHOWN_ENTRIES,
        form=form,
        export_query=export,
        next_query=more,
        signals=signals,
        check=check,
    )


@router.get("/audit", name="console.audit")
def explorer(request: Request, user: UserDep) -> Response:
    return _explorer(request, user)


@router.post("/audit/check")
async def full_check(request: Request, user: UserDep) -> Response:
    await check_csrf(request, user)
    require_role(user, *ROLES)
    trusted = _trusted(request)
    report = await run_in_threadpool(verify_trail, request.app.state.engine, trusted=trusted)
    check = {
        "ok": report.ok,
        "lines": report.lines(),
        "first_bad_index": report.first_bad_index,
        "first_bad_reason": report.first_bad_reason,
        "pinned": trusted is not None,
    }
    return _explorer(request, user, check)


def _export_items(request: Request, user: ConsoleUser) -> TrailQuery:
    require_role(user, *ROLES)
    return _query(request, EXPORT_LIMIT)[0]


@router.get("/audit/trail.csv")
def export_csv(request: Request, user: UserDep) -> Response:
    query = _export_items(request, user)
    items = call(request, user, lambda ctx: trail_items(ctx, query))
    return Response(
        trail_csv(items),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="audit-trail.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit/trail.json")
def export_json(request: Request, user: UserDep) -> Response:
    query = _export_items(request, user)
    page = call(request, user, lambda ctx: trail_page(ctx, query))
    return JSONResponse(
        page.model_dump(mode="json"),
        headers={
            "Content-Disposition": 'attachment; filename="audit-trail.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit/entries/{index}", name="console.audit_entry")
def entry_page(request: Request, user: UserDep, index: Index) -> Response:
    require_role(user, *ROLES)
    log = get_audit_log(request)
    shown = call(request, user, lambda ctx: entry(ctx, index))
    try:
        latest = call(request, user, latest_checkpoint)
    except CheckpointNotFound:
        latest = None
    proof = None
    if latest is not None and index < latest.size:
        size = latest.size
        proof = call(request, user, lambda ctx: inclusion(ctx, log, index, size))
    data = None
    signers = None
    if latest is not None:
        signers = _signers(latest)
    if proof is not None and latest is not None:
        data = {
            "index": index,
            "entry": shown.entry,
            "leaf_hash": shown.leaf_hash,
            "proof": proof.proof,
            "checkpoint": SignedNote.parse(latest.note).text,
        }
    return render(
        request,
        "audit_entry.html",
        user=user,
        index=index,
        shown=shown,
        record=json.dumps(shown.record, ensure_ascii=False, indent=2, sort_keys=True),
        latest=latest,
        signers=signers,
        proof=proof,
        proof_data=_json_block(data) if data is not None else None,
    )


@router.get("/audit/entries/{index}/bundle")
def entry_bundle(request: Request, user: UserDep, index: Index) -> Response:
    require_role(user, *ROLES)
    log = get_audit_log(request)
    body = call(request, user, lambda ctx: bundle(ctx, log, index, True))
    return JSONResponse(
        body,
        headers={
            "Content-Disposition": f'attachment; filename="audit-bundle-{index}.json"',
            "Cache-Control": "no-store",
        },
    )
