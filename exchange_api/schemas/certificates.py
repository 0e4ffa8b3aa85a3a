"""E-certificates at the exchange: registration, status lists, consents, look-ups, credit gates."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from exchange_api.schemas.common import Strict

Grade = Literal["A", "B", "C", "D"]


class CertificateRegister(Strict):
    """A signed VC 2.0 credential an issuing department registers (verified before it is stored)."""

    credential: dict[str, Any] = Field(
        description="The signed credential (eddsa-jcs-2022 or sm2-jcs-tdex-2026)."
    )


class CertificatePublic(BaseModel):
    """A registered certificate as the store holds it."""

    id: str
    types: list[str]
    issuer_org_id: str
    issuer: str
    subject_uscc: str
    document_hash: str
    registered_at: dt.datetime


class StatusChangeIn(Strict):
    """One certificate whose status the published lists change, and why."""

    credential_id: str = Field(min_length=1, max_length=200)
    status: Literal["active", "suspended", "revoked"]
    reason: str = Field(min_length=1, max_length=2000)


class StatusPublish(Strict):
    """New versions of the issuer's signed status list credentials, with the changes they publish."""

    status_lists: list[dict[str, Any]] = Field(min_length=1, max_length=8)
    changes: list[StatusChangeIn] = Field(default_factory=list, max_length=1000)


class StatusListPublic(BaseModel):
    """A status list as stored: its URL, where the exchange serves it, its purpose and version."""

    url: str
    path: str
    purpose: str
    version: int
    updated_at: dt.datetime


class StatusPublished(BaseModel):
    """What a publication stored."""

    status_lists: list[StatusListPublic]
    changes: list[StatusChangeIn]


class ConsentCreate(Strict):
    """A subject's consent (or, from the bureau, a grant with its legal basis) for one verifier."""

    verifier_org_id: str = Field(min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=2000)
    expires_at: dt.datetime
    subject_uscc: str | None = Field(
        default=None, min_length=18, max_length=18, description="Only for a grant by the bureau."
    )
    legal_basis: str | None = Field(
        default=None, min_length=1, max_length=2000, description="Required for a grant by the bureau."
    )


class ConsentPublic(BaseModel):
    """A consent or grant as stored."""

    id: str
    kind: Literal["consent", "grant"]
    subject_uscc: str
    verifier_org_id: str
    purpose: str
    legal_basis: str | None
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


class LookupRequest(Strict):
    """Which subject's current certificates a verifier asks for, under which consent or grant."""

    uscc: str = Field(min_length=18, max_length=18)
    consent_id: str = Field(min_length=1, max_length=40)


class VerifiedCertificate(BaseModel):
    """One certificate with what its verification found: proof, schema, validity, status, anchor."""

    id: str
    types: list[str]
    issuer: str
    issuer_org_id: str
    subject_uscc: str
    status: Literal["active", "suspended", "revoked", "unknown"]
    ok: bool
    checks: dict[str, dict[str, Any]]
    credential: dict[str, Any]


class LookupResult(BaseModel):
    """A verifier's look-up: the consent it used and the subject's verified certificates."""

    uscc: str
    consent_id: str
    verified_at: dt.datetime
    certificates: list[VerifiedCertificate]


class AttestationRegister(Strict):
    """A signed CreditThresholdAttestation to record (verified against the caller's keys)."""

    attestation: dict[str, Any]


class AttestationPublic(BaseModel):
    """The audit record of a registered attestation (no score, no events)."""

    record: dict[str, Any]


class CreditRequirementSet(Strict):
    """The minimum credit grade applicants for a conditional resource must hold (its provider sets it)."""

    resource_code: str = Field(min_length=1, max_length=64)
    min_grade: Grade


class CreditRequirementPublic(BaseModel):
    """A resource's credit requirement."""

    resource_code: str
    min_grade: Grade
    set_by: str
    updated_at: dt.datetime


HeldStatus = Literal["valid", "suspended", "revoked", "expired", "not_yet_valid", "invalid", "unknown"]


class HeldCertificate(BaseModel):
    """One of the caller's own certificates with its status as verified now (the subject's view)."""

    id: str
    types: list[str]
    issuer: str
    issuer_name: str | None
    issuer_org_id: str
    subject_uscc: str
    valid_from: str | None
    valid_until: str | None
    status: HeldStatus = Field(
        description=(
            "valid, suspended or revoked per the issuer's status lists; expired or not_yet_valid by its "
            "validity window; invalid when its proof or schema fails; unknown when the lists cannot be read."
        )
    )
    anchor: Literal["pass", "fail", "not_applicable", "not_anchored", "skipped"] = Field(
        description="The anchor check as the verifier reports it (not_anchored: no chain record, no claim)."
    )
    ok: bool
    checks: dict[str, dict[str, Any]]
    registered_at: dt.datetime


class HeldCertificates(BaseModel):
    """The certificates whose subject is the calling organisation, each verified at `verified_at`."""

    uscc: str
    verified_at: dt.datetime
    certificates: list[HeldCertificate]


class HeldAttestation(BaseModel):
    """A credit threshold attestation about the calling organisation, as registered with the exchange."""

    id: str
    score_at_least: int = Field(description="The attested threshold: the score was at least this.")
    model: str
    attester: str
    attester_name: str | None
    presented_by: str = Field(description="The organisation that registered it with the exchange.")
    audience: str | None
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: Literal["valid", "expired", "not_yet_valid"]
    registered_at: dt.datetime


class HeldAttestations(BaseModel):
    """The credit attestations about the calling organisation."""

    uscc: str
    attestations: list[HeldAttestation]
