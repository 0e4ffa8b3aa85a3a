"""The application workflow (有条件共享): explicit states, deadlines, reasons, and grants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from exchange_api._crypto import record_hash
from exchange_api.errors import FieldError, Forbidden, InvalidInput, InvalidTransition, NotFound
from exchange_api.models import Application, Grant, Organization, OutboxEntry, Resource, ResourceVersion
from exchange_api.schemas.applications import (
    ApplicationApprove,
    ApplicationCreate,
    ApplicationPublic,
    ApplicationState,
)
from exchange_api.schemas.orgs import Role
from exchange_api.services import odrl
from exchange_api.services.anchors import anchor_view, enqueue
from exchange_api.services.certificates import CreditReader, credit_refusal
from exchange_api.services.context import Ctx, new_id
from exchange_api.services.deadlines import LOCAL, add_working_days
from exchange_api.services.events import record_event
from exchange_api.services.grants import OVERSEERS
from exchange_api.services.orgs import org_id_hash, require_role
from exchange_api.services.pagination import decode_cursor, encode_cursor

__all__ = [
    "PENDING",
    "TERMINAL",
    "TRANSITIONS",
    "apply",
    "approve",
    "get_application",
    "is_overdue",
    "list_applications",
    "reject",
    "start_review",
    "withdraw",
]

S = ApplicationState
PENDING = frozenset({S.SUBMITTED, S.UNDER_REVIEW})
TERMINAL = frozenset({S.APPROVED, S.REJECTED, S.REFUSED, S.WITHDRAWN, S.CANCELLED})
# Every move an application can make; anything else is an InvalidTransition.
TRANSITIONS: dict[ApplicationState, frozenset[ApplicationState]] = {
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN, S.CANCELLED}),
    **{t: frozenset() for t in TERMINAL},
}


def _move(app: Application, to: ApplicationState) -> None:
    current = ApplicationState(app.state)
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(f"application {app.id} is {current.value}; it cannot become {to.value}")
    app.state = to.value


def is_overdue(app: Application, now: dt.datetime) -> bool:
    """Whether a pending application has passed its review or answer deadline."""
    if app.state == S.SUBMITTED and app.review_due is not None and now > app.review_due:
        return True
    return app.state in PENDING and app.answer_due is not None and now > app.answer_due


def _reason_hash(reason: str) -> str:
    return record_hash({"kind": "tdex.reason", "version": 1, "reason": reason})


def application_public(session: Session, app: Application, now: dt.datetime) -> ApplicationPublic:
    """The public view of `app`."""
    resource = session.get(Resource, app.resource_id)
    assert resource is not None
    grant_id = session.scalar(select(Grant.id).where(Grant.application_id == app.id))
    return ApplicationPublic(
        id=app.id,
        resource_code=resource.code,
        resource_version=app.resource_version,
        applicant_org_id=app.applicant_org_id,
        provider_org_id=app.provider_org_id,
        state=ApplicationState(app.state),
        terminal=ApplicationState(app.state) in TERMINAL,
        purpose=app.purpose,
        requested_items=list(app.requested_items),
        computation_kinds=list(app.computation_kinds),
        templates=list(app.templates),
        duration_days=app.duration_days,
        submitted_at=app.submitted_at,
        review_due=app.review_due,
        answer_due=app.answer_due,
        overdue=is_overdue(app, now),
        reviewed_at=app.reviewed_at,
        decided_at=app.decided_at,
        reason=app.reason,
        grant_id=grant_id,
        anchor=anchor_view(session, app.apply_outbox_id),
        decision_anchor=anchor_view(session, app.decision_outbox_id),
    )


def _visible(ctx: Ctx, app_id: str) -> Application:
    app = ctx.session.get(Application, app_id)
    # An application the caller is no party to does not exist for it: the same 404 as a missing one.
    if app is None or (
        ctx.actor.role not in OVERSEERS
        and ctx.actor.org_id not in {app.applicant_org_id, app.provider_org_id}
    ):
        raise NotFound(f"no application {app_id!r}")
    return app


def _org(session: Session, org_id: str) -> Organization:
    org = session.get(Organization, org_id)
    assert org is not None
    return org


def _current(session: Session, resource: Resource) -> ResourceVersion:
    version = session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.version == resource.current_version
        )
    )
    assert version is not None
    return version


def _new_grant(
    ctx: Ctx,
    app: Application,
    resource: Resource,
    *,
    expires_at: dt.datetime,
    max_uses: int,
    privacy_budget: str,
    templates: list[str],
    conditions: str | None,
) -> Grant:
    grant_id = new_id("grt", ctx.now())
    provider = _org(ctx.session, app.provider_org_id)
    grantee = _org(ctx.session, app.applicant_org_id)
    agreement = odrl.agreement(
        grant_id=grant_id,
        code=resource.code,
        version=app.resource_version,
        provider_uscc=provider.uscc,
        grantee_uscc=grantee.uscc,
        purpose=app.purpose,
        expires_at=expires_at,
        max_uses=max_uses,
        privacy_budget=privacy_budget,
        templates=templates,
        conditions=conditions,
    )
    grant = Grant(
        id=grant_id,
        application_id=app.id,
        resource_id=resource.id,
        grantee_org_id=grantee.id,
        provider_org_id=provider.id,
        state="active",
        agreement=agreement,
        agreement_hash=record_hash(agreement),
        expires_at=expires_at,
        max_uses=max_uses,
        privacy_budget=privacy_budget,
        templates=sorted(templates),
        created_at=ctx.now(),
    )
    ctx.session.add(grant)
    return grant


def _budget_units(budget: str) -> int:
    # The chain counts privacy budget in millionths of epsilon.
    return int(Decimal(budget) * 1_000_000)


def apply(ctx: Ctx, data: ApplicationCreate, credit: CreditReader | None = None) -> ApplicationPublic:
    """Apply for a resource: unconditional is granted at once, not-shareable refused, conditional waits.

    A conditional resource may require a minimum credit grade: `credit` reads the applicant's events
    and an applicant below the grade is refused at once, the reason starting `application.credit_too_low`.
    """
    require_role(ctx, Role.ENTERPRISE, Role.DEPARTMENT)
    session = ctx.session
    resource = session.scalar(select(Resource).where(Resource.code == data.resource_code))
    if resource is None:
        raise NotFound(f"no catalogue entry {data.resource_code!r}")
    if resource.status == "withdrawn":
        raise InvalidTransition(
            f"{resource.code} was withdrawn; it takes no applications", code="catalog.withdrawn"
        )
    if resource.provider_org_id == ctx.actor.org_id:
        raise InvalidInput(
            "a provider does not apply for its own resource",
            errors=[FieldError("/resource_code", "this is the caller's own resource")],
            code="application.own_resource",
        )
    version = _current(session, resource)
    doc = version.metadata_doc
    known = {item["name"] for item in doc["items"]}
    errors = [
        FieldError(f"/requested_items/{i}", f"{name!r} is not an item of {resource.code}")
        for i, name in enumerate(data.requested_items)
        if name not in known
    ]
    if len(set(data.templates)) != len(data.templates):
        errors.append(FieldError("/templates", "template digests must not repeat"))
    if errors:
        raise InvalidInput(
            "the application names what the resource does not have", errors=errors, code="application.invalid"
        )
    now = ctx.now()
    settings = ctx.settings
    app = Application(
        id=new_id("app", now),
        resource_id=resource.id,
        resource_version=version.version,
        applicant_org_id=ctx.actor.org_id,
        provider_org_id=resource.provider_org_id,
        state=S.SUBMITTED.value,
        purpose=data.purpose,
        requested_items=list(dict.fromkeys(data.requested_items)),
        computation_kinds=[k.value for k in dict.fromkeys(data.computation_kinds)],
        templates=sorted(data.templates),
        duration_days=data.duration_days,
        submitted_at=now,
    )
    session.add(app)
    session.flush()
    applicant = _org(session, ctx.actor.org_id)
    subject = f"application:{app.id}"
    if resource.share_type == "not_shareable":
        # The chain refuses these too (an invariant); nothing is sent, the refusal is ours to record.
        app.state = S.REFUSED.value
        app.decided_at = now
        app.reason = f"not shareable: {doc.get('share_conditions') or 'no basis stated'}"
        record_event(ctx, "application.refused", "system", subject, {"reason": app.reason})
        session.flush()
        return application_public(session, app, now)
    refusal = None
    if resource.share_type == "conditional":
        refusal = credit_refusal(ctx, resource.id, applicant.uscc, credit)
    if refusal is not None:
        app.state = S.REFUSED.value
        app.decided_at = now
        app.reason = refusal.reason
        record_event(ctx, "application.refused", "system", subject, refusal.record)
        session.flush()
        return application_public(session, app, now)
    if resource.share_type == "unconditional":
        days = min(data.duration_days, settings.unconditional_max_days)
        expires = now + dt.timedelta(days=days)
        grant = _new_grant(
            ctx,
            app,
            resource,
            expires_at=expires,
            max_uses=settings.default_max_uses,
            privacy_budget=settings.default_privacy_budget,
            templates=app.templates,
            conditions=None,
        )
        policy_hash = grant.agreement_hash
    else:
        expires = now + dt.timedelta(days=data.duration_days)
        policy_hash = record_hash(
            odrl.request_policy(
                resource.code, version.version, applicant.uscc, data.purpose, app.templates, expires
            )
        )
    entry = enqueue(
        ctx,
        "grants.apply",
        ctx.actor.org_id,
        {
            "application_id": app.id,
            "code": resource.code,
            "share_type": resource.share_type,
            "applicant_org_id_hash": org_id_hash(applicant.uscc),
            "policy_hash": policy_hash,
            "purpose_hash": record_hash({"kind": "tdex.purpose", "version": 1, "purpose": data.purpose}),
            "requested_expiry": int(expires.timestamp()),
            "templates": app.templates,
        },
    )
    app.apply_outbox_id = entry.id
    if resource.share_type == "unconditional":
        app.state = S.APPROVED.value
        app.decided_at = now
        app.reason = "unconditional share: granted at once"
        grant.anchor_outbox_id = entry.id
        record_event(
            ctx,
            "application.granted",
            "system",
            subject,
            {"grant_id": grant.id, "agreement_hash": grant.agreement_hash},
        )
    else:
        published = (
            resource.release_date is not None and resource.release_date <= now.astimezone(LOCAL).date()
        )
        answer_days = (
            settings.answer_working_days_published if published else settings.answer_working_days_unpublished
        )
        app.review_due = add_working_days(
            now, settings.review_working_days, settings.holidays, settings.workdays
        )
        app.answer_due = add_working_days(now, answer_days, settings.holidays, settings.workdays)
        record_event(
            ctx,
            "application.submitted",
            ctx.actor.org_id,
            subject,
            {"code": resource.code, "answer_due": app.answer_due.isoformat()},
        )
    session.flush()
    return application_public(session, app, now)


def _as_provider(ctx: Ctx, app_id: str) -> Application:
    app = _visible(ctx, app_id)
    if app.provider_org_id != ctx.actor.org_id:
        raise Forbidden(
            "only the provider of the resource answers an application", code="application.not_provider"
        )
    return app


def start_review(ctx: Ctx, app_id: str) -> ApplicationPublic:
    """The provider takes a submitted application under review (meets the review deadline)."""
    app = _as_provider(ctx, app_id)
    _move(app, S.UNDER_REVIEW)
    app.reviewed_at = ctx.now()
    record_event(ctx, "application.under_review", ctx.actor.org_id, f"application:{app.id}", {})
    ctx.session.flush()
    return application_public(ctx.session, app, ctx.now())


def _apply_row(session: Session, app: Application) -> OutboxEntry | None:
    return session.get(OutboxEntry, app.apply_outbox_id) if app.apply_outbox_id else None


def approve(ctx: Ctx, app_id: str, data: ApplicationApprove) -> ApplicationPublic:
    """The provider approves: a grant with an ODRL Agreement, anchored on chain before it is usable."""
    app = _as_provider(ctx, app_id)
    _move(app, S.APPROVED)
    now = ctx.now()
    errors = []
    expires_at = data.expires_at if data.expires_at.tzinfo else data.expires_at.replace(tzinfo=dt.UTC)
    latest = app.submitted_at + dt.timedelta(days=app.duration_days)
    if expires_at <= now:
        errors.append(FieldError("/expires_at", "the expiry must be in the future"))
    elif expires_at > latest:
        errors.append(
            FieldError("/expires_at", f"the expiry may not pass the requested term ({latest.isoformat()})")
        )
    templates = sorted(data.templates) if data.templates is not None else list(app.templates)
    extra = sorted(set(templates) - set(app.templates))
    if extra:
        errors.append(FieldError("/templates", f"not requested by the applicant: {', '.join(extra)}"))
    if errors:
        raise InvalidInput(
            "the approval does not fit the application", errors=errors, code="application.invalid_approval"
        )
    resource = ctx.session.get(Resource, app.resource_id)
    assert resource is not None
    budget = format(data.privacy_budget.normalize(), "f")
    grant = _new_grant(
        ctx,
        app,
        resource,
        expires_at=expires_at,
        max_uses=data.max_uses,
        privacy_budget=budget,
        templates=templates,
        conditions=_current(ctx.session, resource).metadata_doc.get("share_conditions"),
    )
    entry = enqueue(
        ctx,
        "grants.approve",
        ctx.actor.org_id,
        {
            "application_id": app.id,
            "grant_id": grant.id,
            "expiry": int(expires_at.timestamp()),
            "max_uses": data.max_uses,
            "privacy_budget_units": _budget_units(budget),
            "agreement_hash": grant.agreement_hash,
        },
        depends_on=_apply_row(ctx.session, app),
    )
    grant.anchor_outbox_id = entry.id
    app.decision_outbox_id = entry.id
    app.decided_at = now
    record_event(
        ctx,
        "application.approved",
        ctx.actor.org_id,
        f"application:{app.id}",
        {"grant_id": grant.id, "agreement_hash": grant.agreement_hash},
    )
    ctx.session.flush()
    return application_public(ctx.session, app, now)


def reject(ctx: Ctx, app_id: str, reason: str) -> ApplicationPublic:
    """The provider rejects with a stated reason (stored; its hash goes on chain)."""
    app = _as_provider(ctx, app_id)
    _move(app, S.REJECTED)
    entry = enqueue(
        ctx,
        "grants.reject",
        ctx.actor.org_id,
        {"application_id": app.id, "reason_hash": _reason_hash(reason)},
        depends_on=_apply_row(ctx.session, app),
    )
    app.decision_outbox_id = entry.id
    app.decided_at = ctx.now()
    app.reason = reason
    record_event(ctx, "application.rejected", ctx.actor.org_id, f"application:{app.id}", {"reason": reason})
    ctx.session.flush()
    return application_public(ctx.session, app, ctx.now())


def withdraw(ctx: Ctx, app_id: str, reason: str | None) -> ApplicationPublic:
    """The applicant withdraws its own pending application."""
    app = _visible(ctx, app_id)
    if app.applicant_org_id != ctx.actor.org_id:
        raise Forbidden("only the applicant withdraws an application", code="application.not_applicant")
    _move(app, S.WITHDRAWN)
    entry = enqueue(
        ctx,
        "grants.withdraw",
        ctx.actor.org_id,
        {"application_id": app.id},
        depends_on=_apply_row(ctx.session, app),
    )
    app.decision_outbox_id = entry.id
    app.decided_at = ctx.now()
    app.reason = reason or "withdrawn by the applicant"
    record_event(
        ctx, "application.withdrawn", ctx.actor.org_id, f"application:{app.id}", {"reason": app.reason}
    )
    ctx.session.flush()
    return application_public(ctx.session, app, ctx.now())


def get_application(ctx: Ctx, app_id: str) -> ApplicationPublic:
    """Application `app_id` for its applicant, its provider, the bureau or an auditor."""
    return application_public(ctx.session, _visible(ctx, app_id), ctx.now())


def list_applications(
    ctx: Ctx,
    *,
    as_party: str | None,
    state: str | None,
    overdue: bool | None,
    resource_code: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ApplicationPublic], str | None]:
    """Applications the caller is a party to (all for the bureau and auditors), newest first."""
    stmt: Select[Application] = select(Application)
    me = ctx.actor.org_id
    if as_party == "applicant":
        stmt = stmt.where(Application.applicant_org_id == me)
    elif as_party == "provider":
        stmt = stmt.where(Application.provider_org_id == me)
    elif ctx.actor.role not in OVERSEERS:
        stmt = stmt.where(or_(Application.applicant_org_id == me, Application.provider_org_id == me))
    if state is not None:
        stmt = stmt.where(Application.state == state)
    now = ctx.now()
    if overdue is not None:
        late = or_(
            and_(Application.state == S.SUBMITTED.value, Application.review_due < now),
            and_(Application.state.in_([s.value for s in PENDING]), Application.answer_due < now),
        )
        stmt = stmt.where(late if overdue else ~late)
    if resource_code is not None:
        stmt = stmt.join(Resource, Resource.id == Application.resource_id).where(
            Resource.code == resource_code
        )
    after = decode_cursor("application", cursor)
    if after is not None:
        stmt = stmt.where(Application.id < after)
    rows = list(ctx.session.scalars(stmt.order_by(Application.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [application_public(ctx.session, a, now) for a in rows], (
        encode_cursor("application", rows[-1].id) if more and rows else None
    )
