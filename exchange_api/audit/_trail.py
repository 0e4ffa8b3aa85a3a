"""Trail queries by organisation, resource, grant, application, kind and time, exported as JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api.audit._models import AuditEntryRef, AuditEntryRow

__all__ = ["CSV_COLUMNS", "TrailItem", "TrailQuery", "query_trail", "trail_csv", "trail_json"]

CSV_COLUMNS = ("index", "time", "kind", "version", "actor", "subject", "refs", "record_sha256", "leaf_hash")


@dataclass(frozen=True)
class TrailQuery:
    """Filters (all optional, combined with AND) and paging after an index."""

    org: str | None = None
    resource: str | None = None
    grant: str | None = None
    application: str | None = None
    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: int = -1
    limit: int = 1000

    def refs(self) -> list[str]:
        """The refs an entry must all have."""
        pairs = (
            ("org", self.org),
            ("resource", self.resource),
            ("grant", self.grant),
            ("application", self.application),
        )
        return [f"{kind}:{value}" for kind, value in pairs if value]


@dataclass(frozen=True)
class TrailItem:
    """One entry of a trail, with its full record when asked for."""

    index: int
    time: str
    kind: str
    version: int
    actor: str
    subject: str
    refs: tuple[str, ...]
    record_sha256: str
    leaf_hash: str
    record: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """The item as a JSON object."""
        out: dict[str, Any] = {
            "index": self.index,
            "time": self.time,
            "kind": self.kind,
            "version": self.version,
            "actor": self.actor,
            "subject": self.subject,
            "refs": list(self.refs),
            "record_sha256": self.record_sha256,
            "leaf_hash": self.leaf_hash,
        }
        if self.record is not None:
            out["record"] = self.record
        return out


def query_trail(
    session: Session, query: TrailQuery, *, visible_to: str | None = None, with_records: bool = True
) -> list[TrailItem]:
    """Entries matching ``query`` in log order; ``visible_to`` keeps only those concerning that org."""
    stmt = select(AuditEntryRow).where(AuditEntryRow.idx > query.after)
    refs = query.refs()
    if visible_to is not None:
        refs.append(f"org:{visible_to}")
    for ref in refs:
        stmt = stmt.where(AuditEntryRow.idx.in_(select(AuditEntryRef.idx).where(AuditEntryRef.ref == ref)))
    if query.kind:
        stmt = stmt.where(AuditEntryRow.kind == query.kind)
    if query.since is not None:
        stmt = stmt.where(AuditEntryRow.occurred_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEntryRow.occurred_at < query.until)
    stmt = stmt.order_by(AuditEntryRow.idx).limit(max(1, min(query.limit, 10_000)))
    out = []
    for row in session.scalars(stmt):
        entry = json.loads(row.entry)
        out.append(
            TrailItem(
                index=row.idx,
                time=entry.get("time", ""),
                kind=row.kind,
                version=row.version,
                actor=row.actor,
                subject=row.subject,
                refs=tuple(entry.get("refs", ())),
                record_sha256=entry.get("record_sha256", ""),
                leaf_hash=bytes(row.leaf_hash).hex(),
                record=row.record if with_records else None,
            )
        )
    return out


def trail_json(items: Sequence[TrailItem]) -> str:
    """The items as a JSON document ``{"entries": [...]}``."""
    return json.dumps({"entries": [i.to_json() for i in items]}, ensure_ascii=False, indent=2) + "\n"


def trail_csv(items: Sequence[TrailItem]) -> str:
    """The items as CSV with a header row (refs separated by spaces; records are not included)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        writer.writerow(
            (
                i.index,
                i.time,
                i.kind,
                i.version,
                i.actor,
                i.subject,
                " ".join(i.refs),
                i.record_sha256,
                i.leaf_hash,
            )
        )
    return buffer.getvalue()
