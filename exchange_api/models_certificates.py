"""SQLAlchemy models of e-certificates at the exchange: credentials, status lists, consents, attestations.

Created by migrations ``0004_certificates`` and ``0007_credit_attestations``. Kept apart from
`exchange_api.models` (like the jobs' models) so the certificate tables change without touching
the catalogue's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange_api.models import Base

__all__ = [
    "CertificateConsent",
    "CertificateStatusList",
    "CreditAttestation",
    "CreditRequirement",
    "RegisteredCertificate",
]


class RegisteredCertificate(Base):
    """A signed credential an issuing department registered; it was verified when registered."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_subject", "subject_uscc", "registered_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    issuer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    issuer_did: Mapped[str] = mapped_column(String(200))
    subject_uscc: Mapped[str] = mapped_column(String(18))
    types: Mapped[list[str]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    document_hash: Mapped[str] = mapped_column(String(66))
    registered_at: Mapped[dt.datetime]


class CertificateStatusList(Base):
    """The latest version of one issuer's status list credential, served at /status-lists/{path_id}."""

    __tablename__ = "certificate_status_lists"

    url: Mapped[str] = mapped_column(String(500), primary_key=True)
    path_id: Mapped[str] = mapped_column(String(500), unique=True)
    issuer_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime]


class CertificateConsent(Base):
    """A subject's consent (or the bureau's grant) that one verifier may look up its certificates."""

    __tablename__ = "certificate_consents"
    __table_args__ = (Index("ix_certificate_consents_pair", "verifier_org_id", "subject_uscc"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # consent (by the subject) or grant (by ADMIN)
    subject_uscc: Mapped[str] = mapped_column(String(18))
    verifier_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class CreditRequirement(Base):
    """The minimum credit grade a resource's provider requires of applicants for a conditional share."""

    __tablename__ = "credit_requirements"

    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), primary_key=True)
    min_grade: Mapped[str] = mapped_column(String(1))
    set_by: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    updated_at: Mapped[dt.datetime]


class CreditAttestation(Base):
    """A credit threshold attestation registered with the exchange (verified when registered).

    The audit entry of an attestation names its subject only by the keyed subject reference; the
    USCC is kept here so the subject can list the attestations about itself.
    """

    __tablename__ = "credit_attestations"
    __table_args__ = (Index("ix_credit_attestations_subject", "subject_uscc", "registered_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    subject_uscc: Mapped[str] = mapped_column(String(18))
    attester_did: Mapped[str] = mapped_column(String(200))
    presented_by: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    score_at_least: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    document_hash: Mapped[str] = mapped_column(String(66))
    registered_at: Mapped[dt.datetime]
