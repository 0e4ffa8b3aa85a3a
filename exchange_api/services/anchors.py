"""Queueing chain writes in the caller's transaction, and showing where they stand."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exchange_api.models import OutboxEntry
from exchange_api.schemas.common import AnchorPublic
from exchange_api.services.context import Ctx

__all__ = ["OUTBOX_KINDS", "anchor_view", "enqueue"]

# One kind per chain write; `exchange_api.chain.ChainWriter` has one method for each.
OUTBOX_KINDS = (
    "member.admit",
    "catalog.register",
    "catalog.publish_version",
    "catalog.withdraw",
    "grants.apply",
    "grants.approve",
    "grants.reject",
    "grants.withdraw",
    "grants.revoke",
)


def enqueue(
    ctx: Ctx, kind: str, sender_org_id: str, payload: dict[str, Any], depends_on: OutboxEntry | None = None
) -> OutboxEntry:
    """Add an outbox row in the current transaction, so it commits exactly when the change does."""
    if kind not in OUTBOX_KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    now = ctx.now()
    entry = OutboxEntry(
        kind=kind,
        sender_org_id=sender_org_id,
        payload=payload,
        depends_on_id=depends_on.id if depends_on is not None else None,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    return entry


def anchor_view(session: Session, outbox_id: int | None) -> AnchorPublic:
    """Where the chain write `outbox_id` stands (`none` when there is none)."""
    if outbox_id is None:
        return AnchorPublic(status="none")
    entry = session.get(OutboxEntry, outbox_id)
    if entry is None:  # pragma: no cover - a foreign key keeps it
        return AnchorPublic(status="none")
    return AnchorPublic(
        status=entry.status,  # type: ignore[arg-type]
        outbox_id=entry.id,
        tx_hash=entry.tx_hash,
        block_number=entry.block_number,
        anchored_at=entry.anchored_at,
        error=entry.last_error if entry.status == "failed" else None,
    )


def is_anchored(session: Session, outbox_id: int | None) -> bool:
    """Whether the chain write `outbox_id` is confirmed on chain."""
    if outbox_id is None:
        return False
    entry = session.get(OutboxEntry, outbox_id)
    return entry is not None and entry.status == "anchored"
