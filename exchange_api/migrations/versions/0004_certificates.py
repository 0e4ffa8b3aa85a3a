"""certificates at the exchange: registered credentials, status lists, consents, credit requirements

Revision ID: 0004_certificates
Revises: 0002_audit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_certificates"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("issuer_org_id", sa.String(length=40), nullable=False),
        sa.Column("issuer_did", sa.String(length=200), nullable=False),
        sa.Column("subject_uscc", sa.String(length=18), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index("ix_certificates_issuer_org_id", ["issuer_org_id"], unique=False)
        batch_op.create_index("ix_certificates_subject", ["subject_uscc", "registered_at"], unique=False)
    op.create_table(
        "certificate_status_lists",
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("path_id", sa.String(length=500), nullable=False),
        sa.Column("issuer_org_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("url"),
        sa.UniqueConstraint("path_id"),
    )
    with op.batch_alter_table("certificate_status_lists", schema=None) as batch_op:
        batch_op.create_index("ix_certificate_status_lists_issuer_org_id", ["issuer_org_id"], unique=False)
    op.create_table(
        "certificate_consents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_uscc", sa.String(length=18), nullable=False),
        sa.Column("verifier_org_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["verifier_org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("certificate_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificate_consents_pair", ["verifier_org_id", "subject_uscc"], unique=False
        )
    op.create_table(
        "credit_requirements",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("min_grade", sa.String(length=1), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"]),
        sa.ForeignKeyConstraint(["set_by"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("resource_id"),
    )


def downgrade() -> None:
    op.drop_table("credit_requirements")
    with op.batch_alter_table("certificate_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_consents_pair")
    op.drop_table("certificate_consents")
    with op.batch_alter_table("certificate_status_lists", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_status_lists_issuer_org_id")
    op.drop_table("certificate_status_lists")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_subject")
        batch_op.drop_index("ix_certificates_issuer_org_id")
    op.drop_table("certificates")
