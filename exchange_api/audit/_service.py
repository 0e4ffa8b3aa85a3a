"""What the audit endpoints do, as the signed caller: visibility rules, then the log's answers.

The bureau (ADMIN) and auditors see every entry; other members see the entries that concern
them (an ``org:`` ref of their own). Checkpoints and consistency proofs are public to members.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api.audit._log import AuditLog, CheckpointView
from exchange_api.audit._models import AuditEntryRef
from exchange_api.audit._risk import RiskRules, risk_signals
from exchange_api.audit._schemas import (
    AnchorPublic,
    CheckpointPage,
    CheckpointPublic,
    ConsistencyProof,
    EntryPublic,
    InclusionProof,
    RiskPage,
    TrailPage,
)
from exchange_api.audit._store import read_entry
from exchange_api.audit._trail import TrailItem, TrailQuery, query_trail
from exchange_api.audit.errors import EntryNotFound
from exchange_api.models import Application, Grant, OutboxEntry
from exchange_api.schemas.orgs import Role
from exchange_api.services.context import Ctx
from exchange_api.services.orgs import require_role

__all__ = [
    "bundle",
    "checkpoints",
    "consistency",
    "entry",
    "inclusion",
    "latest_checkpoint",
    "risks",
    "trail",
]

_OVERSEERS = {Role.ADMIN.value, Role.AUDITOR.value}


def _sees_all(ctx: Ctx) -> bool:
    return ctx.actor.role in _OVERSEERS


def _require_visible(ctx: Ctx, index: int) -> None:
    if _sees_all(ctx):
        return
    ref = ctx.session.get(AuditEntryRef, (f"org:{ctx.actor.org_id}", index))
    if ref is None:
        # Not revealing whether the entry exists: same answer as a missing one.
        raise EntryNotFound(f"no audit entry {index} visible to the caller", index=index)


def _checkpoint(view: CheckpointView) -> CheckpointPublic:
    anchor = AnchorPublic(**view.anchor.to_json()) if view.anchor is not None else None
    return CheckpointPublic(
        size=view.size,
        root=view.root.hex(),
        note=view.note,
        status=view.status,
        log_key=view.log_key,
        witness_keys=list(view.witness_keys),
        anchor=anchor,
    )


def latest_checkpoint(ctx: Ctx) -> CheckpointPublic:
    """The newest signed checkpoint."""
    return _checkpoint(AuditLog.latest(ctx.session))


def checkpoints(ctx: Ctx, after: int, limit: int) -> CheckpointPage:
    """Signed checkpoints above size ``after``."""
    return CheckpointPage(
        items=[_checkpoint(v) for v in AuditLog.checkpoints(ctx.session, after=after, limit=limit)]
    )


def entry(ctx: Ctx, index: int) -> EntryPublic:
    """Entry ``index`` with its record."""
    _require_visible(ctx, index)
    stored = read_entry(ctx.session, index)
    return EntryPublic(
        index=index, entry=stored.entry_text, leaf_hash=stored.leaf_hash.hex(), record=dict(stored.record)
    )


def inclusion(ctx: Ctx, log: AuditLog, index: int, size: int | None) -> InclusionProof:
    """The inclusion proof of entry ``index`` at ``size`` (default: the newest checkpoint's size)."""
    _require_visible(ctx, index)
    if size is None:
        size = AuditLog.covering(ctx.session, index).size
    proof = log.inclusion_proof(index, size)
    stored = read_entry(ctx.session, index)
    return InclusionProof(
        index=index,
        size=size,
        leaf_hash=stored.leaf_hash.hex(),
        root=log.root(size).hex(),
        proof=[p.hex() for p in proof],
    )


def consistency(ctx: Ctx, log: AuditLog, first: int, second: int | None) -> ConsistencyProof:
    """The consistency proof between two sizes (default second: the newest checkpoint's size)."""
    if second is None:
        second = AuditLog.latest(ctx.session).size
    proof = log.consistency_proof(first, second)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=log.root(first).hex(),
        second_root=log.root(second).hex(),
        proof=[p.hex() for p in proof],
    )


def bundle(ctx: Ctx, log: AuditLog, index: int, include_record: bool) -> dict[str, Any]:
    """The proof bundle of entry ``index`` as JSON."""
    _require_visible(ctx, index)
    return log.bundle(ctx.session, index, include_record=include_record).to_json()


def trail_items(ctx: Ctx, query: TrailQuery) -> list[TrailItem]:
    """Trail entries matching ``query`` that the caller may see."""
    visible_to = None if _sees_all(ctx) else ctx.actor.org_id
    return query_trail(ctx.session, query, visible_to=visible_to)


def trail(ctx: Ctx, query: TrailQuery) -> TrailPage:
    """A page of trail entries."""
    items = trail_items(ctx, query)
    next_after = items[-1].index if len(items) == query.limit else None
    return TrailPage(entries=[i.to_json() for i in items], next_after=next_after)


def grant_budgets(session: Session) -> tuple[dict[str, int], dict[str, str]]:
    """Each grant's privacy budget in micro-ε by its id, and its id by its chain id once anchored.

    The nodes' receipts name grants by chain id: the id ``applyFor`` returned, kept in the result
    of the application's anchored outbox row (as ``services.jobs.chain_grant_id`` reads it).
    """
    rows = session.execute(
        select(Grant.id, Grant.privacy_budget, OutboxEntry.result)
        .join(Application, Application.id == Grant.application_id)
        .outerjoin(OutboxEntry, OutboxEntry.id == Application.apply_outbox_id)
    )
    budgets: dict[str, int] = {}
    ids: dict[str, str] = {}
    for grant_id, budget, result in rows:
        # Micro-ε is the chain's unit (services/applications.py); a malformed budget just has none.
        with contextlib.suppress(InvalidOperation):
            budgets[grant_id] = int(Decimal(budget) * 1_000_000)
        chain_id = (result or {}).get("chain_application_id")
        if chain_id is not None:
            ids[str(int(chain_id))] = grant_id
    return budgets, ids


def exchange_risk_rules(
    session: Session, holidays: frozenset[dt.date] = frozenset(), workdays: frozenset[dt.date] = frozenset()
) -> RiskRules:
    """The default rules with this exchange's calendar, grant budgets and chain grant ids."""
    budgets, ids = grant_budgets(session)
    return RiskRules(holidays=holidays, workdays=workdays, budget_micro=budgets, grant_ids=ids)


def risks(ctx: Ctx, since: dt.datetime | None, until: dt.datetime | None) -> RiskPage:
    """Risk signals over the trail (ADMIN and AUDITOR only)."""
    require_role(ctx, Role.ADMIN, Role.AUDITOR)
    rules = exchange_risk_rules(ctx.session, ctx.settings.holidays, ctx.settings.workdays)
    found = risk_signals(ctx.session, rules, since=since, until=until)
    return RiskPage(signals=[s.to_json() for s in found])
