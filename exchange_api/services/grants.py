"""Grants: their public view, who may see them, usability, and revocation on chain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from exchange_api._crypto import record_hash
from exchange_api.errors import Forbidden, GrantNotUsable, InvalidTransition, NotFound
from exchange_api.models import Grant, OutboxEntry, Resource
from exchange_api.schemas.applications import GrantPublic, GrantStatus
from exchange_api.schemas.orgs import Role
from exchange_api.services.anchors import anchor_view, enqueue, is_anchored
from exchange_api.services.context import Ctx
from exchange_api.services.events import record_event
from exchange_api.services.orgs import require_role
from exchange_api.services.pagination import decode_cursor, encode_cursor

__all__ = ["get_grant", "grant_public", "grant_status", "list_grants", "require_usable", "revoke"]

OVERSEERS = {Role.ADMIN.value, Role.AUDITOR.value}


def grant_status(session: Session, grant: Grant, now: dt.datetime) -> tuple[GrantStatus, str | None]:
    """What `grant` can do now, and why not when it cannot."""
    if grant.state == "revoked":
        return GrantStatus.REVOKED, f"revoked: {grant.revoke_reason}"
    if not is_anchored(session, grant.anchor_outbox_id):
        return GrantStatus.PENDING_ANCHOR, "the grant's anchor on chain is not confirmed yet"
    if grant.expires_at <= now:
        return GrantStatus.EXPIRED, f"expired at {grant.expires_at.isoformat()}"
    resource = session.get(Resource, grant.resource_id)
    if resource is not None and resource.status == "withdrawn":
        return GrantStatus.SUSPENDED, "the resource was withdrawn"
    return GrantStatus.ACTIVE, None


def grant_public(session: Session, grant: Grant, now: dt.datetime) -> GrantPublic:
    """The public view of `grant`."""
    status, _ = grant_status(session, grant, now)
    resource = session.get(Resource, grant.resource_id)
    assert resource is not None
    return GrantPublic(
        id=grant.id,
        application_id=grant.application_id,
        resource_code=resource.code,
        grantee_org_id=grant.grantee_org_id,
        provider_org_id=grant.provider_org_id,
        status=status,
        usable=status is GrantStatus.ACTIVE,
        agreement=grant.agreement,
        agreement_hash=grant.agreement_hash,
        expires_at=grant.expires_at,
        max_uses=grant.max_uses,
        privacy_budget=grant.privacy_budget,
        templates=list(grant.templates),
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        anchor=anchor_view(session, grant.anchor_outbox_id),
        revoke_anchor=anchor_view(session, grant.revoke_outbox_id),
    )


def _visible(ctx: Ctx, grant_id: str) -> Grant:
    grant = ctx.session.get(Grant, grant_id)
    # A grant the caller is no party to does not exist for it: the same 404 as a missing one.
    if grant is None or (
        ctx.actor.role not in OVERSEERS
        and ctx.actor.org_id not in {grant.grantee_org_id, grant.provider_org_id}
    ):
        raise NotFound(f"no grant {grant_id!r}")
    return grant


def get_grant(ctx: Ctx, grant_id: str) -> GrantPublic:
    """Grant `grant_id` for its grantee, its provider, the bureau or an auditor."""
    return grant_public(ctx.session, _visible(ctx, grant_id), ctx.now())


def require_usable(ctx: Ctx, grant_id: str) -> GrantPublic:
    """Grant `grant_id` if it is usable now; otherwise `GrantNotUsable` says why."""
    grant = _visible(ctx, grant_id)
    status, why = grant_status(ctx.session, grant, ctx.now())
    if status is not GrantStatus.ACTIVE:
        raise GrantNotUsable(f"grant {grant_id} is not usable: {why}", status=status.value)
    return grant_public(ctx.session, grant, ctx.now())


def list_grants(
    ctx: Ctx, *, as_party: str | None, cursor: str | None, limit: int
) -> tuple[list[GrantPublic], str | None]:
    """The grants the caller is a party to (all of them for the bureau and auditors), newest first."""
    stmt: Select[Grant] = select(Grant)
    me = ctx.actor.org_id
    if as_party == "grantee":
        stmt = stmt.where(Grant.grantee_org_id == me)
    elif as_party == "provider":
        stmt = stmt.where(Grant.provider_org_id == me)
    elif ctx.actor.role not in OVERSEERS:
        stmt = stmt.where(or_(Grant.grantee_org_id == me, Grant.provider_org_id == me))
    after = decode_cursor("grant", cursor)
    if after is not None:
        stmt = stmt.where(Grant.id < after)
    rows = list(ctx.session.scalars(stmt.order_by(Grant.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    now = ctx.now()
    return [grant_public(ctx.session, g, now) for g in rows], (
        encode_cursor("grant", rows[-1].id) if more and rows else None
    )


def revoke(ctx: Ctx, grant_id: str, reason: str) -> GrantPublic:
    """Revoke a grant (its provider only); the revocation goes on chain through the outbox."""
    require_role(ctx, Role.DEPARTMENT, Role.ENTERPRISE, Role.ADMIN, Role.AUDITOR)
    grant = _visible(ctx, grant_id)
    if grant.provider_org_id != ctx.actor.org_id:
        raise Forbidden("only the provider of the resource may revoke a grant", code="grant.not_provider")
    if grant.state == "revoked":
        raise InvalidTransition(f"grant {grant_id} is already revoked")
    now = ctx.now()
    depends = ctx.session.get(OutboxEntry, grant.anchor_outbox_id) if grant.anchor_outbox_id else None
    entry = enqueue(
        ctx,
        "grants.revoke",
        ctx.actor.org_id,
        {
            "grant_id": grant.id,
            "reason_hash": record_hash({"kind": "tdex.reason", "version": 1, "reason": reason}),
        },
        depends_on=depends,
    )
    grant.state = "revoked"
    grant.revoked_at = now
    grant.revoke_reason = reason
    grant.revoke_outbox_id = entry.id
    record_event(
        ctx, "grant.revoked", ctx.actor.org_id, f"grant:{grant.id}", {"grant_id": grant.id, "reason": reason}
    )
    ctx.session.flush()
    return grant_public(ctx.session, grant, now)
