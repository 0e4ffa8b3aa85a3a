"""Organisations: admission by the bureau and public identities."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import IdempotencyKey, UnitDep
from exchange_api.schemas.orgs import OrgCreate, OrgPublic
from exchange_api.services import orgs

router = APIRouter(prefix="/orgs", tags=["organisations"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, response_model=OrgPublic, summary="Admit an organisation (ADMIN)")
def admit(data: OrgCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Admit an organisation with a validated USCC, a role and its public keys; anchored on chain."""
    return unit.write(key, lambda ctx: orgs.admit(ctx, data), 201, lambda o: f"/orgs/{o.id}")


@router.get("/me", response_model=OrgPublic, summary="The calling organisation")
async def me(unit: UnitDep) -> Response:
    """The organisation that signed this request."""
    return unit.show(lambda ctx: orgs.get_org(ctx, ctx.actor.org_id))


@router.get("/{org_id}", response_model=OrgPublic, summary="An organisation's public identity")
async def get(org_id: str, unit: UnitDep) -> Response:
    """Any member may read another member's name, USCC, role and public keys."""
    return unit.show(lambda ctx: orgs.get_org(ctx, org_id))
