"""Admission of organisations by the bureau, their keys, and who they are."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api._uscc import validate_uscc
from exchange_api.errors import (
    DuplicateOrganization,
    FieldError,
    Forbidden,
    InvalidInput,
    InvalidUSCC,
    NotFound,
)
from exchange_api.models import Organization, OrgKey
from exchange_api.schemas.orgs import KeyPublic, OrgCreate, OrgPublic, Role
from exchange_api.services.anchors import anchor_view, enqueue
from exchange_api.services.context import SYSTEM, Ctx
from exchange_api.services.events import record_event
from ledger.ids import org_id as chain_org_id

__all__ = ["admit", "bootstrap_bureau", "check_uscc", "get_org", "org_id_hash", "public_org", "require_role"]


def check_uscc(uscc: str, override_reason: str | None, approved_by: str) -> dict[str, Any] | None:
    """Validate a USCC through `keys`; a failing check passes only with an explicit, recorded override."""
    try:
        return validate_uscc(uscc, approved_by=approved_by, override_reason=override_reason)
    except ValueError as error:
        raise InvalidUSCC(
            f"USCC {uscc!r} is not valid: {error}",
            errors=[FieldError("/uscc", str(error))],
        ) from None


def org_id_hash(uscc: str) -> str:
    """The organisation id the chain knows (`ledger.ids.org_id`, the one rule for on-chain ids)."""
    return "0x" + chain_org_id(uscc).hex()


def require_role(ctx: Ctx, *roles: Role) -> None:
    """Refuse the operation unless the caller has one of `roles`."""
    if ctx.actor.role not in {r.value for r in roles}:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this operation needs role {allowed}; the caller is {ctx.actor.role}")


def public_org(session: Session, org: Organization) -> OrgPublic:
    """The public view of `org`."""
    keys = session.scalars(select(OrgKey).where(OrgKey.org_id == org.id).order_by(OrgKey.created_at)).all()
    return OrgPublic(
        id=org.id,
        name=org.name,
        uscc=org.uscc,
        role=Role(org.role),
        status=org.status,
        chain_account=org.chain_account,
        created_at=org.created_at,
        keys=[
            KeyPublic(key_id=k.key_id, public_key=k.public_key, status=k.status, created_at=k.created_at)
            for k in keys
        ],
        anchor=anchor_view(session, org.anchor_outbox_id),
    )


def _key_ids(dids: list[str]) -> list[str]:
    from keys import verify_key_from_did
    from keys.errors import KeysError

    out = []
    errors = []
    for index, did in enumerate(dids):
        try:
            out.append(verify_key_from_did(did).key_id)
        except KeysError as error:
            errors.append(FieldError(f"/public_keys/{index}", str(error)))
    if len(set(out)) != len(out):
        errors.append(FieldError("/public_keys", "keys must not repeat"))
    if errors:
        raise InvalidInput("a public key is not a usable did:key", errors=errors, code="org.invalid_key")
    return out


def _insert(ctx: Ctx, data: OrgCreate, admitted_by: str | None) -> Organization:
    session = ctx.session
    if session.scalar(select(Organization.id).where(Organization.uscc == data.uscc)) is not None:
        raise DuplicateOrganization(f"an organisation with USCC {data.uscc} is already admitted")
    key_ids = _key_ids(data.public_keys)
    for key_id in key_ids:
        if session.get(OrgKey, key_id) is not None:
            raise DuplicateOrganization(f"key {key_id!r} is already registered", code="org.duplicate_key")
    now = ctx.now()
    org = Organization(
        id="org_" + secrets.token_hex(8),
        name=data.name,
        uscc=data.uscc,
        uscc_override_reason=data.uscc_override_reason,
        role=data.role.value,
        status="active",
        chain_account=data.chain_account.lower() if data.chain_account else None,
        created_at=now,
        admitted_by=admitted_by,
    )
    session.add(org)
    session.flush()
    for did, key_id in zip(data.public_keys, key_ids, strict=True):
        session.add(OrgKey(key_id=key_id, org_id=org.id, public_key=did, created_at=now))
    return org


def admit(ctx: Ctx, data: OrgCreate) -> OrgPublic:
    """Admit an organisation (ADMIN only); its admission goes on chain through the outbox."""
    require_role(ctx, Role.ADMIN)
    override = check_uscc(data.uscc, data.uscc_override_reason, approved_by=ctx.actor.org_id)
    org = _insert(ctx, data, admitted_by=ctx.actor.org_id)
    if org.chain_account is not None:
        entry = enqueue(
            ctx,
            "member.admit",
            ctx.actor.org_id,
            {
                "org_id": org.id,
                "org_id_hash": org_id_hash(org.uscc),
                "account": org.chain_account,
                "role": org.role,
                "capabilities": sorted({c.value for c in data.capabilities}),
            },
        )
        org.anchor_outbox_id = entry.id
    record_event(
        ctx,
        "org.admitted",
        ctx.actor.org_id,
        f"org:{org.id}",
        {
            "org_id": org.id,
            "uscc": org.uscc,
            "role": org.role,
            "capabilities": sorted({c.value for c in data.capabilities}),
            "keys": _key_ids(data.public_keys),
            "uscc_override": override,
        },
    )
    return public_org(ctx.session, org)


def bootstrap_bureau(ctx: Ctx, data: OrgCreate) -> Organization:
    """Create the bureau's ADMIN organisation at first start (it is the chain's bootstrap admin)."""
    existing = ctx.session.scalar(select(Organization).where(Organization.uscc == data.uscc))
    if existing is not None:
        return existing
    check_uscc(data.uscc, data.uscc_override_reason, approved_by="bootstrap")
    org = _insert(ctx, data, admitted_by=None)
    record_event(
        ctx, "org.bootstrapped", SYSTEM.org_id, f"org:{org.id}", {"org_id": org.id, "uscc": org.uscc}
    )
    return org


def get_org(ctx: Ctx, org_id: str) -> OrgPublic:
    """Any member may look up an organisation's public identity and keys."""
    org = ctx.session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"no organisation {org_id!r}")
    return public_org(ctx.session, org)
