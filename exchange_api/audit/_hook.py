"""The one call ``record_event`` makes: append the state change to the audit log in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from exchange_api.audit._entry import AuditEntry
from exchange_api.audit._refs import entry_refs
from exchange_api.audit._store import NewEntry, append_entries

__all__ = ["append_event"]


def append_event(
    session: Session, kind: str, actor: str, subject: str, record: Mapping[str, Any], at: dt.datetime
) -> AuditEntry:
    """Append one entry for state change ``kind`` in the session's transaction and return it.

    Raises InvalidRecord when a registered kind's record lacks a required field, so a malformed
    change rolls back with the rest of its transaction instead of leaving a gap in the trail.
    """
    refs = frozenset(entry_refs(session, actor, subject, record))
    return append_entries(session, [NewEntry(kind, actor, subject, at, record, refs)])[0]
