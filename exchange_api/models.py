"""SQLAlchemy models of the exchange store (the Alembic migrations create exactly these tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every exchange table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Organization(Base):
    """A member organisation admitted by the bureau."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    uscc_override_reason: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    chain_account: Mapped[str | None] = mapped_column(String(42))
    created_at: Mapped[dt.datetime]
    admitted_by: Mapped[str | None] = mapped_column(String(40))
    anchor_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class OrgKey(Base):
    """A public request-signing key of an organisation; retired keys stay for the record."""

    __tablename__ = "org_keys"

    key_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="current")
    created_at: Mapped[dt.datetime]


class Resource(Base):
    """A catalogue entry; its searchable columns mirror the current version."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    classification: Mapped[str] = mapped_column(String(32))
    share_type: Mapped[str] = mapped_column(String(16))
    open_type: Mapped[str] = mapped_column(String(16))
    data_grade: Mapped[str] = mapped_column(String(16))
    update_cycle: Mapped[str] = mapped_column(String(16))
    release_date: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_resources_provider", "provider_org_id", "id"),
        Index("ix_resources_share_type", "share_type", "id"),
        Index("ix_resources_grade", "data_grade", "id"),
        Index("ix_resources_classification", "classification", "id"),
        Index("ix_resources_cycle", "update_cycle", "id"),
        Index("ix_resources_status", "status", "id"),
    )


class ResourceVersion(Base):
    """One immutable version of a catalogue entry with its metadata hash and the previous one's."""

    __tablename__ = "resource_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    version: Mapped[int] = mapped_column(Integer)
    metadata_doc: Mapped[dict[str, Any]]
    metadata_hash: Mapped[str] = mapped_column(String(66))
    previous_hash: Mapped[str | None] = mapped_column(String(66))
    created_at: Mapped[dt.datetime]
    anchor_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))

    __table_args__ = (UniqueConstraint("resource_id", "version", name="uq_resource_version"),)


class SearchTerm(Base):
    """One search term (a CJK bigram or a lower-cased word) of a resource's current version."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), primary_key=True)

    __table_args__ = (Index("ix_search_terms_resource", "resource_id"),)


class Application(Base):
    """An application for a resource, with explicit states, deadlines and stored reasons."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    resource_version: Mapped[int] = mapped_column(Integer)
    applicant_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    requested_items: Mapped[list[Any]]
    computation_kinds: Mapped[list[Any]]
    templates: Mapped[list[Any]]
    duration_days: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime]
    review_due: Mapped[dt.datetime | None]
    answer_due: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    apply_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    decision_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class Grant(Base):
    """An approved application's grant: its ODRL Agreement, limits and on-chain anchor."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    grantee_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    agreement: Mapped[dict[str, Any]]
    agreement_hash: Mapped[str] = mapped_column(String(66))
    expires_at: Mapped[dt.datetime]
    max_uses: Mapped[int] = mapped_column(Integer)
    privacy_budget: Mapped[str] = mapped_column(String(32))
    templates: Mapped[list[Any]]
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    anchor_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    revoke_outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class OutboxEntry(Base):
    """A chain write waiting to be (or already) anchored; committed with the change it anchors."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    sender_org_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    depends_on_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    sender_account: Mapped[str | None] = mapped_column(String(42))
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    raw_tx: Mapped[str | None] = mapped_column(Text)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    anchored_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_outbox_status", "status", "id"),)


class IdempotencyRecord(Base):
    """The first response to a state-changing POST, replayed for the same key and body."""

    __tablename__ = "idempotency"

    org_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(66))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class SeenNonce(Base):
    """A request-signature nonce seen inside the replay window (the replay cache)."""

    __tablename__ = "seen_nonces"

    key_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class Event(Base):
    """One state change as recorded by `record_event` (the audit log hooks in there)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(120), index=True)
    record: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]


class ChainDiscrepancy(Base):
    """A disagreement between the chain and the store found by the background sync."""

    __tablename__ = "chain_discrepancies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(64))
    store_value: Mapped[str | None] = mapped_column(Text)
    chain_value: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("subject", "field", "chain_value", name="uq_discrepancy"),)


class SyncCursor(Base):
    """How far the background sync has read chain events."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger)
