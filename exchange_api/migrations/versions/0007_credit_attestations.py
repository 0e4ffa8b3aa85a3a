"""credit attestations registered with the exchange, by subject USCC

Revision ID: 0007_credit_attestations
Revises: 0006_console
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_credit_attestations"
down_revision = "0006_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_attestations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("subject_uscc", sa.String(length=18), nullable=False),
        sa.Column("attester_did", sa.String(length=200), nullable=False),
        sa.Column("presented_by", sa.String(length=40), nullable=False),
        sa.Column("score_at_least", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["presented_by"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_credit_attestations_subject", "credit_attestations", ["subject_uscc", "registered_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_credit_attestations_subject", table_name="credit_attestations")
    op.drop_table("credit_attestations")
