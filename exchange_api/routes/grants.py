"""Grants: read, check usability, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import Cursor, IdempotencyKey, Limit, UnitDep
from exchange_api.schemas.applications import ApplicationReason, GrantPage, GrantPublic
from exchange_api.services import grants

router = APIRouter(prefix="/grants", tags=["grants"], responses=PROBLEM_RESPONSES)

GrantId = Annotated[str, Path(max_length=64)]


@router.get("", response_model=GrantPage, summary="List grants")
def list_(
    unit: UnitDep,
    as_: Annotated[str | None, Query(alias="as", pattern="^(grantee|provider)$")] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response:
    """Grants the caller is a party to, newest first."""
    return unit.page(lambda ctx: grants.list_grants(ctx, as_party=as_, cursor=cursor, limit=limit), GrantPage)


@router.get("/{grant_id}", response_model=GrantPublic, summary="One grant")
async def get(grant_id: GrantId, unit: UnitDep) -> Response:
    """A grant with its ODRL Agreement, hash, status and anchors."""
    return unit.show(lambda ctx: grants.get_grant(ctx, grant_id))


@router.get("/{grant_id}/usable", response_model=GrantPublic, summary="The grant, if usable now")
async def usable(grant_id: GrantId, unit: UnitDep) -> Response:
    """200 when the grant is anchored, active and unexpired; 409 `grant.not_usable` says why not."""
    return unit.show(lambda ctx: grants.require_usable(ctx, grant_id))


@router.post("/{grant_id}/revoke", response_model=GrantPublic, summary="Revoke (provider)")
def revoke(grant_id: GrantId, data: ApplicationReason, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Revoke a grant with a reason; the revocation takes effect on chain through the outbox."""
    return unit.write(key, lambda ctx: grants.revoke(ctx, grant_id, data.reason))
