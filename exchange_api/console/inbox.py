"""The department's inbox: pending applications (overdue first), answering them, its datasets and nodes."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from exchange_api.console._auth import ConsoleUser
from exchange_api.console._pages import (
    ConsoleRoute,
    UserDep,
    call,
    check_csrf,
    field_errors,
    redirect,
    render,
    require_role,
)
from exchange_api.errors import InvalidInput
from exchange_api.schemas.applications import ApplicationApprove, ApplicationPublic, ApplicationReason
from exchange_api.services import applications, catalog, jobs, orgs, stats
from exchange_api.services.context import Ctx
from exchange_api.services.deadlines import LOCAL

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)
PENDING_STATES = ("submitted", "under_review")
MAX_PENDING = 500  # per state; an inbox longer than this is a problem no page solves
DATASETS_SHOWN = 100
# How long the page waits for the exchange's node probe (cached for 15 s by `NodeHealth`) before it
# shows "checking": a dead node must not hold the page for the probe's full timeout.
NODE_WAIT_S = 0.5
_PROBES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-node-probe")


@dataclass(frozen=True)
class Row:
    """One pending application as the inbox lists it."""

    app: ApplicationPublic
    applicant: str
    resource: str


def _names(ctx: Ctx, apps: list[ApplicationPublic]) -> tuple[dict[str, str], dict[str, str]]:
    org_ids = {a.applicant_org_id for a in apps} | {a.provider_org_id for a in apps}
    codes = {a.resource_code for a in apps}
    return (
        {oid: orgs.get_org(ctx, oid).name for oid in org_ids},
        {code: catalog.get_resource(ctx, code).name for code in codes},
    )


def _pending(ctx: Ctx) -> list[Row]:
    apps: list[ApplicationPublic] = []
    for state in PENDING_STATES:
        cursor = None
        while len(apps) < MAX_PENDING * len(PENDING_STATES):
            page, cursor = applications.list_applications(
                ctx,
                as_party="provider",
                state=state,
                overdue=None,
                resource_code=None,
                cursor=cursor,
                limit=100,
            )
            apps.extend(page)
            if cursor is None:
                break
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    apps.sort(key=lambda a: (not a.overdue, a.answer_due or far, a.submitted_at))
    org_names, resource_names = _names(ctx, apps)
    return [Row(a, org_names[a.applicant_org_id], resource_names[a.resource_code]) for a in apps]


def _inbox_data(ctx: Ctx) -> dict[str, Any]:
    datasets, _ = catalog.search(
        ctx, None, catalog.SearchFilters(provider=ctx.actor.org_id, status=None), None, DATASETS_SHOWN
    )
    return {
        "rows": _pending(ctx),
        "datasets": datasets,
        "nodes": [n for n in jobs.list_nodes(ctx) if n.org_id == ctx.actor.org_id],
        "load": stats.department_load(ctx),
    }


def _node_health(request: Request, urls: list[str]) -> dict[str, str]:
    """Node URL -> "up", "down", "checking" or "unmonitored", from the exchange's own probe."""
    health = getattr(request.app.state, "node_health", None)
    monitored: dict[str, str] = {}  # the node's URL -> its name in the probe
    for name, url in (getattr(health, "urls", None) or {}).items():
        monitored[url.rstrip("/")] = name
    hosts = {httpx.URL(u).host: name for u, name in monitored.items()}
    names = {u: monitored.get(u.rstrip("/")) or hosts.get(httpx.URL(u).host) for u in urls}
    if health is None or not any(names.values()):
        return {u: "unmonitored" for u in urls}
    try:
        up: dict[str, bool] | None = _PROBES.submit(health.up).result(timeout=NODE_WAIT_S)
    except FutureTimeout:
        up = None  # still probing: the probe's cache is filled for the next visit
    out = {}
    for url, name in names.items():
        if name is None:
            out[url] = "unmonitored"
        elif up is None or name not in up:
            out[url] = "checking"
        else:
            out[url] = "up" if up[name] else "down"
    return out


@router.get("/inbox", name="console.inbox")
def inbox(request: Request, user: UserDep) -> Response:
    require_role(user, "DEPARTMENT")
    data = call(request, user, _inbox_data)
    load: list[stats.DepartmentLoad] = data["load"]
    return render(
        request,
        "inbox.html",
        user=user,
        health=_node_health(request, [n.url for n in data["nodes"]]),
        counts=[(d.name, float(d.applications)) for d in load],
        answer_hours=[
            (d.name, round(d.average_answer_hours, 1)) for d in load if d.average_answer_hours is not None
        ],
        **data,
    )


# ------------------------------------------------------------------------------ one application


def _local_input(value: dt.datetime) -> str:
    """`value` as a datetime-local field shows it, in the city's time, to the minute."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def _approve_defaults(request: Request, app: ApplicationPublic) -> dict[str, Any]:
    # The requested term, to the minute (rounded down, so it never passes what was asked for), and
    # the exchange's default limits, which the provider narrows as its conditions require.
    settings = request.app.state.settings
    latest = app.submitted_at + dt.timedelta(days=app.duration_days)
    return {
        "expires_at": _local_input(latest),
        "max_uses": str(settings.default_max_uses),
        "privacy_budget": str(settings.default_privacy_budget),
        "templates": list(app.templates),
    }


def _application_page(
    request: Request,
    user: ConsoleUser,
    app_id: str,
    *,
    status_code: int = 200,
    approve_form: dict[str, Any] | None = None,
    approve_errors: list[dict[str, str]] | None = None,
    reject_reason: str = "",
    reject_errors: list[dict[str, str]] | None = None,
) -> Response:
    def load(ctx: Ctx) -> dict[str, Any]:
        app = applications.get_application(ctx, app_id)
        org_names, resource_names = _names(ctx, [app])
        return {"app": app, "org_names": org_names, "resource_name": resource_names[app.resource_code]}

    data = call(request, user, load)
    app: ApplicationPublic = data["app"]
    return render(
        request,
        "application.html",
        status_code=status_code,
        user=user,
        can_answer=app.provider_org_id == user.org_id and app.state.value in PENDING_STATES,
        approve_form=approve_form or _approve_defaults(request, app),
        approve_errors=approve_errors or [],
        reject_reason=reject_reason,
        reject_errors=reject_errors or [],
        **data,
    )


@router.get("/applications/{app_id}", name="console.application")
def application(request: Request, app_id: str, user: UserDep) -> Response:
    return _application_page(request, user, app_id)


@router.post("/applications/{app_id}/review")
async def review(request: Request, app_id: str, user: UserDep) -> Response:
    await check_csrf(request, user)
    call(request, user, lambda ctx: applications.start_review(ctx, app_id))
    return redirect(f"/console/applications/{app_id}", notice="inbox.reviewed")


@router.post("/applications/{app_id}/approve")
async def approve(request: Request, app_id: str, user: UserDep) -> Response:
    fields = await check_csrf(request, user)
    form = await request.form()
    expires_text = fields.get("expires_at", "").strip()
    chosen: dict[str, Any] = {
        "expires_at": expires_text,
        "max_uses": fields.get("max_uses", "").strip(),
        "privacy_budget": fields.get("privacy_budget", "").strip(),
        "templates": [v for v in form.getlist("templates") if isinstance(v, str)],
    }
    try:
        # A datetime-local field has no zone: it is the city's time, as the page shows times.
        expires = dt.datetime.fromisoformat(expires_text).replace(tzinfo=LOCAL)
    except ValueError:
        bad = {
            "type": "datetime_parsing",
            "loc": ("expires_at",),
            "msg": "not a date and time (YYYY-MM-DDTHH:MM)",
        }
        errors = field_errors(request, [bad])
        return _application_page(
            request, user, app_id, status_code=422, approve_form=chosen, approve_errors=errors
        )
    try:
        data = ApplicationApprove.model_validate(
            {
                "expires_at": expires,
                "max_uses": chosen["max_uses"],
                "privacy_budget": chosen["privacy_budget"],
                "templates": chosen["templates"] or None,
            }
        )
    except ValidationError as exc:
        return _application_page(
            request,
            user,
            app_id,
            status_code=422,
            approve_form=chosen,
            approve_errors=field_errors(request, exc.errors()),
        )
    try:
        call(request, user, lambda ctx: applications.approve(ctx, app_id, data))
    except InvalidInput as exc:
        errors = [e.as_dict() for e in exc.errors] or [{"loc": "", "message": exc.detail}]
        return _application_page(
            request, user, app_id, status_code=422, approve_form=chosen, approve_errors=errors
        )
    return redirect("/console/inbox", notice="inbox.approved")


@router.post("/applications/{app_id}/reject")
async def reject(request: Request, app_id: str, user: UserDep) -> Response:
    fields = await check_csrf(request, user)
    reason = fields.get("reason", "").strip()
    if not reason:
        # Said in the page's language: the most common mistake here deserves more than a schema message.
        missing = [{"loc": "reason", "message": "", "key": "inbox.reject.reason_required"}]
        return _application_page(request, user, app_id, status_code=422, reject_errors=missing)
    try:
        data = ApplicationReason(reason=reason)
    except ValidationError as exc:
        return _application_page(
            request,
            user,
            app_id,
            status_code=422,
            reject_reason=reason,
            reject_errors=field_errors(request, exc.errors()),
        )
    call(request, user, lambda ctx: applications.reject(ctx, app_id, data.reason))
    return redirect("/console/inbox", notice="inbox.rejected")
