"""Short paths through the package for the common cases: issue a business licence, verify a certificate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from credentials._anchor import CertificateAnchors
from credentials._issuer import CertificateIssuer, IssuedCertificate
from credentials._schemas import BUSINESS_LICENCE
from credentials._verify import StatusListResolver, VerificationReport, Verifier

__all__ = ["issue_business_licence", "verify_certificate"]


def issue_business_licence(
    issuer: CertificateIssuer,
    *,
    uscc: str,
    name: str,
    entity_type: str,
    legal_representative: str,
    established_on: date,
    domicile: str,
    business_scope: str,
    registration_authority: str,
    registered_capital: str | None = None,
    operating_until: date | None = None,
    valid_from: datetime | None = None,
) -> IssuedCertificate:
    """Issue a 营业执照 (business licence); an open-ended operating period is written 长期."""
    subject: dict[str, Any] = {
        "uscc": uscc,
        "name": name,
        "entityType": entity_type,
        "legalRepresentative": legal_representative,
        "establishedOn": established_on.isoformat(),
        "operatingPeriodFrom": established_on.isoformat(),
        "operatingPeriodUntil": operating_until.isoformat() if operating_until else "长期",
        "domicile": domicile,
        "businessScope": business_scope,
        "registrationAuthority": registration_authority,
    }
    if registered_capital is not None:
        subject["registeredCapital"] = registered_capital
    return issuer.issue(BUSINESS_LICENCE, subject, valid_from=valid_from)


def verify_certificate(
    credential: Mapping[str, Any],
    *,
    status_lists: StatusListResolver | Mapping[str, Mapping[str, Any]] | None = None,
    anchors: CertificateAnchors | None = None,
    trusted_issuers: Iterable[str] | None = None,
    at: datetime | None = None,
) -> VerificationReport:
    """Verify a certificate with the built-in schemas (a one-off `Verifier`); see `Verifier.verify`."""
    verifier = Verifier(status_lists=status_lists, anchors=anchors, trusted_issuers=trusted_issuers)
    return verifier.verify(credential, at=at)
