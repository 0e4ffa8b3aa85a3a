"""SQLAlchemy models of the audit trail (migration ``0002_audit_trail`` creates exactly these tables)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange_api.models import Base

__all__ = ["AuditCheckpointRow", "AuditEntryRef", "AuditEntryRow", "AuditLogHead"]

HEAD_ID = 1


class AuditLogHead(Base):
    """The log's origin and size; appends update this one row, which orders them."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime]


class AuditEntryRow(Base):
    """One entry: its canonical JSON (the leaf), the leaf hash, the full record and query columns."""

    @property
    def record(self) -> dict[str, Any]:
        """The full record, parsed."""
        value: dict[str, Any] = json.loads(self.record_json)
        return value

    __tablename__ = "audit_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[dt.datetime]
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The full record as RFC 8785 text: exactly the bytes ``record_sha256`` covers, so checking a
    # record is one hash, and no JSON type re-serialises it on the way in.
    record_json: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_entries_time", "occurred_at", "idx"),
        Index("ix_audit_entries_subject", "subject", "idx"),
        Index("ix_audit_entries_kind", "kind", "idx"),
    )


class AuditEntryRef(Base):
    """One thing an entry concerns (``org:…``, ``resource:…``, ``grant:…``, ``application:…``)."""

    __tablename__ = "audit_entry_refs"

    ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditCheckpointRow(Base):
    """A signed, cosigned checkpoint and where its anchoring stands.

    ``status``: ``pending`` (signed, not yet on chain), ``anchored``, or ``superseded`` (a later
    checkpoint was anchored first, which covers this one too).
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    # Verifier keys of the signers at signing time: {"log": vkey, "witnesses": [vkey, …]}.
    vkeys: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    contract: Mapped[str | None] = mapped_column(String(42))
    log_id: Mapped[str | None] = mapped_column(String(66))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    anchored_at: Mapped[dt.datetime | None]

    __table_args__ = (
        UniqueConstraint("origin", "size", name="uq_audit_checkpoint_size"),
        Index("ix_audit_checkpoints_status", "status", "size"),
    )
