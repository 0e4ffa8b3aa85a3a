"""audit trail: log head, entries, entry refs, checkpoints

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The head row exists from the start, so concurrent first appends only ever UPDATE it.
    op.bulk_insert(
        sa.table(
            "audit_log",
            sa.column("id", sa.Integer()),
            sa.column("origin", sa.String()),
            sa.column("size", sa.BigInteger()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        ),
        [{"id": 1, "origin": "tdex.exchange/audit", "size": 0, "created_at": dt.datetime.now(dt.UTC)}],
    )
    op.create_table(
        "audit_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_time", ["occurred_at", "idx"], unique=False)
        batch_op.create_index("ix_audit_entries_subject", ["subject", "idx"], unique=False)
        batch_op.create_index("ix_audit_entries_kind", ["kind", "idx"], unique=False)
    op.create_table(
        "audit_entry_refs",
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("ref", "idx"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("vkeys", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("contract", sa.String(length=42), nullable=True),
        sa.Column("log_id", sa.String(length=66), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("anchored_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin", "size", name="uq_audit_checkpoint_size"),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_audit_checkpoints_status", ["status", "size"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_checkpoints_status")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_entry_refs")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_kind")
        batch_op.drop_index("ix_audit_entries_subject")
        batch_op.drop_index("ix_audit_entries_time")
    op.drop_table("audit_entries")
    op.drop_table("audit_log")
