"""Service health, the outbox and chain-sync status (the bureau and auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select, text

from exchange_api.core.db import session_scope
from exchange_api.models import ChainDiscrepancy, OutboxEntry
from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import FactoryDep, UnitDep
from exchange_api.schemas.orgs import Role
from exchange_api.services.context import Ctx
from exchange_api.services.orgs import require_role

router = APIRouter(tags=["system"])


class Health(BaseModel):
    """Whether the store answers, and how many chain writes wait."""

    status: str
    database: str
    outbox_waiting: int
    outbox_failed: int


@router.get("/health", response_model=Health, summary="Health check (unsigned)")
def health(request: Request, factory: FactoryDep) -> Health:
    """The store answers and the outbox backlog; no signature needed."""
    with session_scope(factory) as session:
        session.execute(text("SELECT 1"))
        counts: dict[str, int] = {
            status: n
            for status, n in session.execute(
                select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
            )
        }
    waiting = sum(counts.get(s, 0) for s in ("pending", "signed", "sent"))
    return Health(
        status="ok",
        database=factory.kw["bind"].dialect.name,
        outbox_waiting=waiting,
        outbox_failed=counts.get("failed", 0),
    )


class OutboxRow(BaseModel):
    """One queued chain write."""

    id: int
    kind: str
    status: str
    attempts: int
    tx_hash: str | None
    block_number: int | None
    last_error: str | None


class Discrepancy(BaseModel):
    """A disagreement between chain and store found by the sync."""

    id: int
    subject: str
    field: str
    store_value: str | None
    chain_value: str | None


def _outbox(ctx: Ctx, status: str | None, limit: int) -> list[OutboxRow]:
    require_role(ctx, Role.ADMIN, Role.AUDITOR)
    stmt = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(OutboxEntry.status == status)
    return [
        OutboxRow(
            id=r.id,
            kind=r.kind,
            status=r.status,
            attempts=r.attempts,
            tx_hash=r.tx_hash,
            block_number=r.block_number,
            last_error=r.last_error,
        )
        for r in ctx.session.scalars(stmt)
    ]


def _discrepancies(ctx: Ctx) -> list[Discrepancy]:
    require_role(ctx, Role.ADMIN, Role.AUDITOR)
    rows = ctx.session.scalars(select(ChainDiscrepancy).where(ChainDiscrepancy.resolved_at.is_(None)))
    return [
        Discrepancy(
            id=d.id, subject=d.subject, field=d.field, store_value=d.store_value, chain_value=d.chain_value
        )
        for d in rows
    ]


@router.get(
    "/outbox",
    response_model=list[OutboxRow],
    responses=PROBLEM_RESPONSES,
    summary="Chain writes (ADMIN, AUDITOR)",
)
def outbox(
    unit: UnitDep,
    status: Annotated[str | None, Query(pattern="^(pending|signed|sent|anchored|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The most recent chain writes and where each stands."""
    return unit.read(lambda ctx: _outbox(ctx, status, limit))


@router.get(
    "/chain/discrepancies",
    response_model=list[Discrepancy],
    responses=PROBLEM_RESPONSES,
    summary="Chain/store disagreements (ADMIN, AUDITOR)",
)
def discrepancies(unit: UnitDep) -> Any:
    """Unresolved disagreements the background sync found between the chain and the store."""
    return unit.read(_discrepancies)
