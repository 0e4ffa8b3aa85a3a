"""The enterprise's workspace: its applications, grants (with what is left), sandbox jobs and charts.

Everything comes from the services the signed API uses (`list_applications`, `list_grants`,
`list_jobs`, `job_result`, `withdraw`, `held_certificates`, `held_attestations`), as the signed-in
enterprise, so their visibility rules apply.
What is left of a grant is read from the nodes' signed receipts of its jobs: each receipt's
``chain_use`` is the use the node recorded on chain, with the uses and micro-ε left afterwards.
Uses made outside the exchange's jobs are not in these receipts (the chain has them; the page says
"per receipts").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from exchange_api.console._auth import ConsoleUser
from exchange_api.console._pages import (
    ConsoleRoute,
    UserDep,
    call,
    check_csrf,
    redirect,
    render,
    require_role,
)
from exchange_api.errors import ExchangeError
from exchange_api.routes.certificates import anchors_of
from exchange_api.schemas.applications import ApplicationPublic, ApplicationState, GrantPublic, GrantStatus
from exchange_api.schemas.certificates import HeldAttestations, HeldCertificates
from exchange_api.schemas.jobs import JobKind, JobPublic, JobResult, JobState, TrainingRound
from exchange_api.services import applications, certificates, grants, jobs

__all__ = ["GrantUsage", "grant_usage", "router"]

router = APIRouter(route_class=ConsoleRoute)

AppId = Annotated[str, Path(max_length=64)]
LIMIT = 100  # the newest this many of each; the API pages further
MICRO = 1_000_000
_PENDING = {ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW}


@dataclass
class GrantUsage:
    """What a grant has used, per the receipts of its jobs: uses and micro-ε left, and when each use was."""

    uses_left: int
    budget_left_micro: int
    receipts: int = 0
    # (time, cumulative uses, cumulative ε) after each receipt, in time order.
    points: list[tuple[dt.datetime, int, float]] = field(default_factory=list)


def _micro(budget: str) -> int:
    try:
        return int(Decimal(budget) * MICRO)
    except InvalidOperation:
        return 0


def _time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _receipts(job_list: Iterable[JobPublic]) -> Iterable[tuple[str, dict[str, Any]]]:
    """(exchange grant id, receipt payload) of every part that has a receipt."""
    for job in job_list:
        for part in job.parts:
            payload = (part.receipt or {}).get("payload")
            if isinstance(payload, dict):
                yield part.grant_id, payload


def grant_usage(grant_list: Sequence[GrantPublic], job_list: Sequence[JobPublic]) -> dict[str, GrantUsage]:
    """Each grant's usage from its jobs' receipts (a grant without receipts has everything left)."""
    out = {g.id: GrantUsage(g.max_uses, _micro(g.privacy_budget)) for g in grant_list}
    by_grant: dict[str, list[tuple[dt.datetime, dict[str, Any]]]] = {}
    for grant_id, payload in _receipts(job_list):
        moment = _time(payload.get("time"))
        if grant_id in out and moment is not None:
            by_grant.setdefault(grant_id, []).append((moment, payload))
    for grant_id, rows in by_grant.items():
        usage = out[grant_id]
        uses = 0
        spent = 0
        for moment, payload in sorted(rows, key=lambda r: r[0]):
            use = payload.get("chain_use")
            if not isinstance(use, dict):
                continue  # refused or abandoned before a use was recorded on chain
            uses += 1
            spent += int((payload.get("privacy") or {}).get("budget_spent_micro") or 0)
            usage.receipts += 1
            usage.uses_left = int(use.get("uses_left", usage.uses_left))
            usage.budget_left_micro = int(use.get("budget_left_micro", usage.budget_left_micro))
            usage.points.append((moment, uses, spent / MICRO))
    return out


def _days(moment: dt.datetime, origin: dt.datetime) -> float:
    return round((moment - origin).total_seconds() / 86400, 3)


def _series(
    grant_list: Sequence[GrantPublic], usage: dict[str, GrantUsage], epsilon: bool
) -> tuple[dict[str, list[tuple[float, float]]], dt.datetime | None]:
    """Per-grant series of cumulative uses (or ε spent) over days since the first use of any grant."""
    moments = [p[0] for u in usage.values() for p in u.points]
    if not moments:
        return {}, None
    origin = min(moments)
    series: dict[str, list[tuple[float, float]]] = {}
    for g in grant_list:
        points = usage[g.id].points
        if points:
            series[f"{g.resource_code} · {g.id[-6:]}"] = [
                (_days(moment, origin), spent if epsilon else float(uses)) for moment, uses, spent in points
            ]
    return series, origin


def _time_left(expires_at: dt.datetime, now: dt.datetime) -> tuple[int, int] | None:
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    left = expires_at - now
    if left.total_seconds() <= 0:
        return None
    return left.days, left.seconds // 3600


@dataclass(frozen=True)
class RoundsChart:
    """A federated job's accuracy per round as chart points (x = round, y = accuracy), and its last round."""

    points: list[tuple[float, float]]
    final: TrainingRound | None


def fl_rounds(job_list: Sequence[JobPublic], results: dict[str, JobResult]) -> dict[str, RoundsChart]:
    """Each completed federated job's accuracy per round, from its result (no rounds: an empty chart)."""
    out: dict[str, RoundsChart] = {}
    for job in job_list:
        result = results.get(job.id)
        if job.kind is JobKind.FEDERATED and result is not None:
            rounds = sorted(result.rounds, key=lambda r: r.round)
            out[job.id] = RoundsChart(
                [(float(r.round), r.accuracy) for r in rounds], rounds[-1] if rounds else None
            )
    return out


def _result(request: Request, user: ConsoleUser, job_id: str) -> JobResult:
    return call(request, user, lambda ctx: jobs.job_result(ctx, job_id))


def _results(request: Request, user: ConsoleUser, job_list: Sequence[JobPublic]) -> dict[str, JobResult]:
    out: dict[str, JobResult] = {}
    for job in job_list:
        if job.state is JobState.COMPLETED and job.has_result and job.requester_org_id == user.org_id:
            try:
                out[job.id] = _result(request, user, job.id)
            except ExchangeError:
                continue  # shown without its result; the job's page in the API says why
    return out


# Badge class of each certificate / attestation status on the page.
HELD_BADGE = {
    "valid": "ok",
    "suspended": "warn",
    "not_yet_valid": "warn",
    "unknown": "warn",
    "revoked": "bad",
    "expired": "bad",
    "invalid": "bad",
}


def _held(request: Request, user: ConsoleUser) -> tuple[HeldCertificates, HeldAttestations]:
    """The enterprise's own certificates (verified now) and the credit attestations about it."""
    anchors = anchors_of(request.app)
    held = call(request, user, lambda ctx: certificates.held_certificates(ctx, anchors))
    return held, call(request, user, certificates.held_attestations)


@router.get("/workspace", name="console.workspace")
def workspace(request: Request, user: UserDep) -> Response:
    require_role(user, "ENTERPRISE")
    apps: list[ApplicationPublic] = call(
        request,
        user,
        lambda ctx: applications.list_applications(
            ctx,
            as_party="applicant",
            state=None,
            overdue=None,
            resource_code=None,
            cursor=None,
            limit=LIMIT,
        ),
    )[0]
    grant_list: list[GrantPublic] = call(
        request, user, lambda ctx: grants.list_grants(ctx, as_party="grantee", cursor=None, limit=LIMIT)
    )[0]
    job_list: list[JobPublic] = call(
        request, user, lambda ctx: jobs.list_jobs(ctx, cursor=None, limit=LIMIT)
    )[0]
    job_list = [j for j in job_list if j.requester_org_id == user.org_id]
    usage = grant_usage(grant_list, job_list)
    results = _results(request, user, job_list)
    now: dt.datetime = request.app.state.clock()
    uses_series, origin = _series(grant_list, usage, False)
    budget_series, _ = _series(grant_list, usage, True)
    held, attested = _held(request, user)
    return render(
        request,
        "workspace.html",
        user=user,
        applications=apps,
        pending_states=_PENDING,
        grants=grant_list,
        usage=usage,
        time_left={g.id: _time_left(g.expires_at, now) for g in grant_list},
        micro=MICRO,
        status_badge={
            GrantStatus.ACTIVE: "ok",
            GrantStatus.PENDING_ANCHOR: "warn",
            GrantStatus.EXPIRED: "bad",
            GrantStatus.REVOKED: "bad",
            GrantStatus.SUSPENDED: "bad",
        },
        jobs=job_list,
        results=results,
        fl_rounds=fl_rounds(job_list, results),
        federated=[j for j in job_list if j.kind is JobKind.FEDERATED],
        uses_series=uses_series,
        budget_series=budget_series,
        chart_origin=origin,
        held=held.certificates,
        attestations=attested.attestations,
        held_badge=HELD_BADGE,
    )


@router.post("/workspace/applications/{app_id}/withdraw")
async def withdraw(request: Request, user: UserDep, app_id: AppId) -> Response:
    fields = await check_csrf(request, user)
    require_role(user, "ENTERPRISE")
    reason = fields.get("reason", "").strip()[:2000] or None
    call(request, user, lambda ctx: applications.withdraw(ctx, app_id, reason))
    return redirect("/console/workspace", notice="withdrawn")
