"""The one function every state change goes through; the audit log appends to its Merkle log here."""

from __future__ import annotations

from typing import Any

from exchange_api.audit import append_event
from exchange_api.models import Event
from exchange_api.services.context import Ctx

__all__ = ["record_event"]

# Record kinds are versioned: a change to a record's shape bumps its version.
RECORD_VERSION = 1


def record_event(ctx: Ctx, kind: str, actor: str, subject: str, record: dict[str, Any]) -> Event:
    """Record state change `kind` by `actor` on `subject`, in the caller's transaction."""
    event = Event(
        kind=kind,
        actor=actor,
        subject=subject,
        record={"kind": kind, "version": RECORD_VERSION, **record},
        created_at=ctx.now(),
    )
    ctx.session.add(event)
    append_event(ctx.session, kind, actor, subject, event.record, event.created_at)
    return event
