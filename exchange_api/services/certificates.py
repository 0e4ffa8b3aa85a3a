"""E-certificates at the exchange (免证办) and the credit gate of conditional applications.

Issuing departments (CERT_ISSUER) register the credentials they issued and publish their status
lists here; a verifier looks up a subject's certificates by USCC under the subject's consent (or
the bureau's grant) and gets each one *verified*: proof, schema, validity, status, anchor. The
status lists are served as they were signed, publicly, at ``/status-lists/{path}``. A subject
lists its own certificates (verified the same way) and the credit attestations about it, without a
consent and without a look-up entry: reading what is about oneself is no access to another's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import select

import keys
from credentials import (
    CertificateAnchors,
    CredentialsError,
    CreditCategory,
    CreditEvent,
    EventStatus,
    Outcome,
    VerificationReport,
    Verifier,
    attestation_audit_event,
    compute_score,
    grade_at_least,
    issuer_id,
    parse_time,
    verify_proof,
    verify_threshold_attestation,
)
from exchange_api._crypto import record_hash
from exchange_api.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from exchange_api.models import Event, Organization, OrgKey, Resource
from exchange_api.models_certificates import (
    CertificateConsent,
    CertificateStatusList,
    CreditAttestation,
    CreditRequirement,
    RegisteredCertificate,
)
from exchange_api.schemas.certificates import (
    AttestationPublic,
    CertificatePublic,
    ConsentCreate,
    ConsentPublic,
    CreditRequirementPublic,
    CreditRequirementSet,
    HeldAttestation,
    HeldAttestations,
    HeldCertificate,
    HeldCertificates,
    HeldStatus,
    LookupRequest,
    LookupResult,
    StatusListPublic,
    StatusPublish,
    StatusPublished,
    VerifiedCertificate,
)
from exchange_api.schemas.orgs import Capability, Role
from exchange_api.services.context import Ctx, new_id
from exchange_api.services.events import record_event
from exchange_api.services.grants import OVERSEERS
from exchange_api.services.orgs import require_role

__all__ = [
    "CREDIT_TOO_LOW",
    "CREDIT_UNAVAILABLE",
    "NO_CONSENT",
    "CreditReader",
    "CreditRefusal",
    "LedgerCreditReader",
    "create_consent",
    "credit_refusal",
    "get_consent",
    "held_attestations",
    "held_certificates",
    "lookup",
    "publish_status",
    "register_attestation",
    "register_certificate",
    "revoke_consent",
    "set_credit_requirement",
    "status_list_document",
]

NO_CONSENT = "certificate.no_consent"
CREDIT_TOO_LOW = "application.credit_too_low"
CREDIT_UNAVAILABLE = "application.credit_unavailable"
STATUS_LIST_TYPE = "BitstringStatusListCredential"
_STATUS_FROM_CODE = {"credentials.status.revoked": "revoked", "credentials.status.suspended": "suspended"}
_HELD_FROM_VALIDITY: dict[str, HeldStatus] = {
    "credentials.validity.expired": "expired",
    "credentials.validity.not_yet_valid": "not_yet_valid",
}
# Who may be the subject of certificates and attestations: firms and departments (both have USCCs).
SUBJECT_ROLES = (Role.ENTERPRISE, Role.DEPARTMENT)


# ------------------------------------------------------------------------------------ helpers


def _org_dids(ctx: Ctx, org_id: str) -> set[str]:
    """The did:keys registered for `org_id` (its request-signing keys double as its e-seal keys)."""
    rows = ctx.session.scalars(select(OrgKey.public_key).where(OrgKey.org_id == org_id)).all()
    return {did.partition("#")[0] for did in rows}


def _capabilities(ctx: Ctx, org_id: str) -> set[str]:
    """The consortium capabilities `org_id` was admitted with (as its admission recorded them)."""
    record = ctx.session.scalar(
        select(Event.record)
        .where(Event.kind == "org.admitted", Event.subject == f"org:{org_id}")
        .order_by(Event.id.desc())
        .limit(1)
    )
    return set(record.get("capabilities", ())) if isinstance(record, Mapping) else set()


def _require_issuer(ctx: Ctx) -> None:
    require_role(ctx, Role.DEPARTMENT)
    if Capability.CERT_ISSUER.value not in _capabilities(ctx, ctx.actor.org_id):
        raise Forbidden(
            "registering certificates needs the CERT_ISSUER capability", code="certificate.not_issuer"
        )


def _subject(prefix: str, value: str) -> str:
    """An event subject within the events table's 120 characters (a digest stands in for long values)."""
    subject = f"{prefix}:{value}"
    return subject if len(subject) <= 120 else f"{prefix}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def _path_id(url: str) -> str:
    """Where the exchange serves the list at `url`: the part after ``/status-lists/``, else a digest."""
    _, sep, rest = url.partition("/status-lists/")
    return rest if sep and rest else hashlib.sha256(url.encode()).hexdigest()


def _list_resolver(ctx: Ctx) -> Callable[[str], Mapping[str, Any] | None]:
    def resolve(url: str) -> Mapping[str, Any] | None:
        row = ctx.session.get(CertificateStatusList, url)
        return row.document if row is not None else None

    return resolve


def _verifier(ctx: Ctx, anchors: CertificateAnchors | None, *, require_status: bool = True) -> Verifier:
    return Verifier(
        status_lists=_list_resolver(ctx), anchors=anchors, clock=ctx.now, require_status=require_status
    )


def _invalid(detail: str, loc: str = "/credential", code: str = "certificate.invalid") -> InvalidInput:
    return InvalidInput(detail, errors=[FieldError(loc, detail)], code=code)


def _public(cert: RegisteredCertificate) -> CertificatePublic:
    return CertificatePublic(
        id=cert.id,
        types=list(cert.types),
        issuer_org_id=cert.issuer_org_id,
        issuer=cert.issuer_did,
        subject_uscc=cert.subject_uscc,
        document_hash=cert.document_hash,
        registered_at=cert.registered_at,
    )


# ------------------------------------------------------------------------------ registration


def register_certificate(
    ctx: Ctx, credential: dict[str, Any], anchors: CertificateAnchors | None = None
) -> CertificatePublic:
    """Verify and store a credential the calling CERT_ISSUER department issued (422 when it fails)."""
    _require_issuer(ctx)
    report = _verifier(ctx, anchors, require_status=False).verify(credential)
    for name in ("proof", "schema", "validity"):
        result = report.check(name)
        if result.outcome is Outcome.FAIL:
            raise _invalid(f"the credential fails its {name} check: {result.detail} [{result.code}]")
    issuer = issuer_id(credential)
    if issuer not in _org_dids(ctx, ctx.actor.org_id):
        raise Forbidden(
            "the credential's issuer is not a key of the calling organisation", code="certificate.not_issuer"
        )
    subject = credential.get("credentialSubject")
    uscc = subject.get("uscc") if isinstance(subject, Mapping) else None
    if not isinstance(uscc, str) or len(uscc) != 18:
        raise _invalid("the credential's subject carries no USCC", "/credential/credentialSubject/uscc")
    credential_id = str(credential.get("id", ""))
    if not credential_id or len(credential_id) > 200:
        raise _invalid("the credential needs an id of at most 200 characters", "/credential/id")
    doc_hash = record_hash(credential)
    existing = ctx.session.get(RegisteredCertificate, credential_id)
    if existing is not None:
        if existing.document_hash == doc_hash:
            return _public(existing)
        raise Conflict(f"a different credential {credential_id} is registered", code="certificate.duplicate")
    raw_types = credential.get("type", [])
    types = [str(t) for t in raw_types] if isinstance(raw_types, list) else [str(raw_types)]
    cert = RegisteredCertificate(
        id=credential_id,
        issuer_org_id=ctx.actor.org_id,
        issuer_did=issuer,
        subject_uscc=uscc.upper(),
        types=types,
        document=credential,
        document_hash=doc_hash,
        registered_at=ctx.now(),
    )
    ctx.session.add(cert)
    record_event(
        ctx,
        "certificate.issued",
        ctx.actor.org_id,
        _subject("certificate", credential_id),
        {
            "certificate_id": credential_id,
            "document_hash": doc_hash,
            "issuer": issuer,
            "types": types,
            "anchor": report.check("anchor").outcome.value,
        },
    )
    ctx.session.flush()
    return _public(cert)


# ------------------------------------------------------------------------------ status lists


def _store_list(
    ctx: Ctx, doc: dict[str, Any], dids: set[str], index: int
) -> tuple[CertificateStatusList, bool]:
    loc = f"/status_lists/{index}"
    try:
        proofs = verify_proof(doc, now=ctx.now())
    except CredentialsError as exc:
        raise _invalid(f"the status list's proof fails: {exc} [{exc.code}]", loc) from None
    types = doc.get("type", [])
    subject = doc.get("credentialSubject")
    url = doc.get("id")
    if (
        not isinstance(types, list)
        or STATUS_LIST_TYPE not in types
        or not isinstance(subject, Mapping)
        or not isinstance(url, str)
        or not 0 < len(url) <= 500
    ):
        raise _invalid("not a BitstringStatusListCredential with an id", loc)
    if issuer_id(doc) not in dids or any(p.controller not in dids for p in proofs):
        raise Forbidden(
            "the status list is not signed by the calling organisation", code="certificate.not_issuer"
        )
    row = ctx.session.get(CertificateStatusList, url)
    if row is not None and row.issuer_org_id != ctx.actor.org_id:
        raise Forbidden("another organisation publishes this status list", code="certificate.not_issuer")
    if row is not None and row.document == doc:
        return row, False
    if row is not None and str(doc.get("validFrom", "")) < str(row.document.get("validFrom", "")):
        raise Conflict(f"{url} has a newer version already", code="certificate.stale_status_list")
    now = ctx.now()
    if row is None:
        row = CertificateStatusList(
            url=url,
            path_id=_path_id(url),
            issuer_org_id=ctx.actor.org_id,
            purpose=str(subject.get("statusPurpose", "")),
            version=1,
            document=doc,
            updated_at=now,
        )
        ctx.session.add(row)
    else:
        row.version += 1
        row.document = doc
        row.updated_at = now
    return row, True


def _list_public(row: CertificateStatusList) -> StatusListPublic:
    return StatusListPublic(
        url=row.url,
        path=f"/status-lists/{row.path_id}",
        purpose=row.purpose,
        version=row.version,
        updated_at=row.updated_at,
    )


def _status_of(report_status: Any) -> str:
    if report_status.outcome is Outcome.PASS:
        return "active"
    return _STATUS_FROM_CODE.get(report_status.code or "", "unknown")


def publish_status(
    ctx: Ctx, data: StatusPublish, anchors: CertificateAnchors | None = None
) -> StatusPublished:
    """Store new versions of the caller's status lists; each stated change must be what they publish."""
    _require_issuer(ctx)
    dids = _org_dids(ctx, ctx.actor.org_id)
    stored = []
    for i, doc in enumerate(data.status_lists):
        row, changed = _store_list(ctx, doc, dids, i)
        stored.append(row)
        if changed:
            record_event(
                ctx,
                "certificate.status_list_published",
                ctx.actor.org_id,
                _subject("status-list", row.url),
                {
                    "url": row.url,
                    "purpose": row.purpose,
                    "version": row.version,
                    "list_hash": record_hash(doc),
                },
            )
    ctx.session.flush()
    verifier = _verifier(ctx, anchors)
    for i, change in enumerate(data.changes):
        cert = ctx.session.get(RegisteredCertificate, change.credential_id)
        if cert is None or cert.issuer_org_id != ctx.actor.org_id:
            raise NotFound(f"no certificate {change.credential_id!r} of the caller")
        found = _status_of(verifier.verify(cert.document).check("status"))
        if found != change.status:
            raise _invalid(
                f"the published lists show {change.credential_id} as {found}, not {change.status}",
                f"/changes/{i}/status",
                "certificate.status_mismatch",
            )
        kind = {
            "active": "certificate.reinstated",
            "suspended": "certificate.suspended",
            "revoked": "certificate.revoked",
        }
        record_event(
            ctx,
            kind[change.status],
            ctx.actor.org_id,
            _subject("certificate", cert.id),
            {"certificate_id": cert.id, "status": change.status, "reason": change.reason},
        )
    return StatusPublished(status_lists=[_list_public(r) for r in stored], changes=list(data.changes))


def status_list_document(ctx: Ctx, path_id: str) -> dict[str, Any]:
    """The latest signed status list credential served at ``/status-lists/{path_id}``."""
    row = ctx.session.scalar(select(CertificateStatusList).where(CertificateStatusList.path_id == path_id))
    if row is None:
        raise NotFound(f"no status list {path_id!r}")
    return dict(row.document)


# ----------------------------------------------------------------------------------- consents


def _consent_public(c: CertificateConsent) -> ConsentPublic:
    return ConsentPublic(
        id=c.id,
        kind="grant" if c.kind == "grant" else "consent",
        subject_uscc=c.subject_uscc,
        verifier_org_id=c.verifier_org_id,
        purpose=c.purpose,
        legal_basis=c.legal_basis,
        created_by=c.created_by,
        created_at=c.created_at,
        expires_at=c.expires_at,
        revoked_at=c.revoked_at,
    )


def create_consent(ctx: Ctx, data: ConsentCreate) -> ConsentPublic:
    """A subject consents to one verifier looking up its certificates; the bureau may grant it by law."""
    now = ctx.now()
    caller = ctx.session.get(Organization, ctx.actor.org_id)
    assert caller is not None
    if ctx.actor.role == Role.ADMIN.value:
        if data.subject_uscc is None or data.legal_basis is None:
            raise InvalidInput(
                "a grant by the bureau names the subject and its legal basis",
                errors=[FieldError("/legal_basis", "required for a grant")],
            )
        kind, subject_uscc = "grant", data.subject_uscc.upper()
    else:
        if data.subject_uscc not in (None, caller.uscc):
            raise Forbidden("an organisation consents only for itself")
        kind, subject_uscc = "consent", caller.uscc
    if data.expires_at.tzinfo is None or data.expires_at <= now:
        raise InvalidInput(
            "a consent must expire in the future", errors=[FieldError("/expires_at", "in the past")]
        )
    verifier = ctx.session.get(Organization, data.verifier_org_id)
    if verifier is None or verifier.status != "active":
        raise InvalidInput(
            "no such verifier", errors=[FieldError("/verifier_org_id", "not an active member")]
        )
    consent = CertificateConsent(
        id=new_id("cns", now),
        kind=kind,
        subject_uscc=subject_uscc,
        verifier_org_id=verifier.id,
        purpose=data.purpose,
        legal_basis=data.legal_basis,
        created_by=ctx.actor.org_id,
        created_at=now,
        expires_at=data.expires_at,
        revoked_at=None,
    )
    ctx.session.add(consent)
    record_event(
        ctx,
        f"certificate.{kind}_given",
        ctx.actor.org_id,
        f"consent:{consent.id}",
        {
            "consent_id": consent.id,
            "subject_uscc": subject_uscc,
            "verifier_org_id": verifier.id,
            "purpose_hash": record_hash({"kind": "tdex.purpose", "version": 1, "purpose": data.purpose}),
            "expires_at": data.expires_at.astimezone(dt.UTC).isoformat(),
        },
    )
    ctx.session.flush()
    return _consent_public(consent)


def _visible_consent(ctx: Ctx, consent_id: str) -> CertificateConsent:
    consent = ctx.session.get(CertificateConsent, consent_id)
    if consent is None or (
        ctx.actor.role not in OVERSEERS
        and ctx.actor.org_id not in {consent.created_by, consent.verifier_org_id}
    ):
        raise NotFound(f"no consent {consent_id!r}")
    return consent


def get_consent(ctx: Ctx, consent_id: str) -> ConsentPublic:
    """A consent, for its subject, its verifier, the bureau or an auditor (404 for anyone else)."""
    return _consent_public(_visible_consent(ctx, consent_id))


def revoke_consent(ctx: Ctx, consent_id: str) -> ConsentPublic:
    """The organisation that gave a consent (or grant) withdraws it, at once."""
    consent = _visible_consent(ctx, consent_id)
    if consent.created_by != ctx.actor.org_id:
        raise Forbidden("only who gave a consent withdraws it")
    if consent.revoked_at is None:
        consent.revoked_at = ctx.now()
        record_event(
            ctx,
            "certificate.consent_revoked",
            ctx.actor.org_id,
            f"consent:{consent.id}",
            {"consent_id": consent.id, "subject_uscc": consent.subject_uscc},
        )
    return _consent_public(consent)


# ------------------------------------------------------------------------------------ look-up


def lookup(ctx: Ctx, data: LookupRequest, anchors: CertificateAnchors | None = None) -> LookupResult:
    """A verifier's look-up of a subject's certificates, each verified; refused without a current consent."""
    now = ctx.now()
    uscc = data.uscc.upper()
    consent = ctx.session.get(CertificateConsent, data.consent_id)
    # One answer for every refusal (unknown, someone else's, other subject, withdrawn, expired):
    # it says nothing about whether the subject has certificates or the consent exists.
    if (
        consent is None
        or consent.verifier_org_id != ctx.actor.org_id
        or consent.subject_uscc != uscc
        or consent.revoked_at is not None
        or consent.expires_at <= now
    ):
        raise Forbidden("no current consent or grant lets the caller look up this subject", code=NO_CONSENT)
    certs = _certificates_of(ctx, uscc)
    verifier = _verifier(ctx, anchors)
    results = []
    for cert in certs:
        report = verifier.verify(cert.document)
        results.append(
            VerifiedCertificate(
                id=cert.id,
                types=list(cert.types),
                issuer=cert.issuer_did,
                issuer_org_id=cert.issuer_org_id,
                subject_uscc=cert.subject_uscc,
                status=_status_of(report.check("status")),  # type: ignore[arg-type]
                ok=report.ok,
                checks={c.check: c.to_json() for c in report.checks},
                credential=cert.document,
            )
        )
    record_event(
        ctx,
        "certificate.looked_up",
        ctx.actor.org_id,
        f"consent:{consent.id}",
        {
            "consent_id": consent.id,
            "consent_kind": consent.kind,
            "subject_uscc": uscc,
            "verifier_org_id": ctx.actor.org_id,
            "certificates": [r.id for r in results],
            "ok": [r.ok for r in results],
        },
    )
    return LookupResult(uscc=uscc, consent_id=consent.id, verified_at=now, certificates=results)


# ------------------------------------------------------------------------------ subject's view


def _caller_uscc(ctx: Ctx) -> str:
    require_role(ctx, *SUBJECT_ROLES)
    caller = ctx.session.get(Organization, ctx.actor.org_id)
    assert caller is not None
    return caller.uscc.upper()


def _held_status(report: VerificationReport) -> HeldStatus:
    """The one word a subject reads: revocation and suspension first, then the validity window."""
    status = report.check("status")
    if status.code == "credentials.status.revoked":
        return "revoked"
    if status.code == "credentials.status.suspended":
        return "suspended"
    validity = report.check("validity")
    if validity.outcome is Outcome.FAIL:
        return _HELD_FROM_VALIDITY.get(validity.code or "", "invalid")
    if any(report.check(name).outcome is Outcome.FAIL for name in ("proof", "schema")):
        return "invalid"
    return "valid" if status.outcome is Outcome.PASS else "unknown"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _certificates_of(ctx: Ctx, uscc: str) -> Sequence[RegisteredCertificate]:
    """Every registered certificate of subject `uscc`, in registration order."""
    return ctx.session.scalars(
        select(RegisteredCertificate)
        .where(RegisteredCertificate.subject_uscc == uscc)
        .order_by(RegisteredCertificate.registered_at, RegisteredCertificate.id)
    ).all()


def held_certificates(ctx: Ctx, anchors: CertificateAnchors | None = None) -> HeldCertificates:
    """The certificates whose subject is the caller, each verified now; no consent, no look-up entry."""
    uscc = _caller_uscc(ctx)
    certs = _certificates_of(ctx, uscc)
    verifier = _verifier(ctx, anchors)
    held = []
    for cert in certs:
        report = verifier.verify(cert.document)
        issuer = cert.document.get("issuer")
        held.append(
            HeldCertificate(
                id=cert.id,
                types=list(cert.types),
                issuer=cert.issuer_did,
                issuer_name=_text(issuer.get("name")) if isinstance(issuer, Mapping) else None,
                issuer_org_id=cert.issuer_org_id,
                subject_uscc=cert.subject_uscc,
                valid_from=_text(cert.document.get("validFrom")),
                valid_until=_text(cert.document.get("validUntil")),
                status=_held_status(report),
                anchor=report.check("anchor").outcome.value,
                ok=report.ok,
                checks={c.check: c.to_json() for c in report.checks},
                registered_at=cert.registered_at,
            )
        )
    return HeldCertificates(uscc=uscc, verified_at=ctx.now(), certificates=held)


def _attestation_status(
    row: CreditAttestation, now: dt.datetime
) -> Literal["valid", "expired", "not_yet_valid"]:
    if now < row.valid_from:
        return "not_yet_valid"
    return "valid" if now <= row.valid_until else "expired"


def held_attestations(ctx: Ctx) -> HeldAttestations:
    """The credit attestations about the caller registered with the exchange, newest first."""
    uscc = _caller_uscc(ctx)
    rows = ctx.session.scalars(
        select(CreditAttestation)
        .where(CreditAttestation.subject_uscc == uscc)
        .order_by(CreditAttestation.registered_at.desc(), CreditAttestation.id)
    ).all()
    now = ctx.now()
    out = []
    for row in rows:
        issuer = row.document.get("issuer")
        out.append(
            HeldAttestation(
                id=row.id,
                score_at_least=row.score_at_least,
                model=row.model,
                attester=row.attester_did,
                attester_name=_text(issuer.get("name")) if isinstance(issuer, Mapping) else None,
                presented_by=row.presented_by,
                audience=row.audience,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                status=_attestation_status(row, now),
                registered_at=row.registered_at,
            )
        )
    return HeldAttestations(uscc=uscc, attestations=out)


# --------------------------------------------------------------------------------------- credit


def register_attestation(ctx: Ctx, attestation: dict[str, Any]) -> AttestationPublic:
    """Record a credit threshold attestation the caller signed (verified first): stored and audited.

    It is stored by its subject's USCC (for the subject's own view) and recorded as an audit event
    that names the subject only by its keyed reference. Registering the same document again
    returns its record without a second entry.
    """
    dids = _org_dids(ctx, ctx.actor.org_id)
    subject = attestation.get("credentialSubject")
    threshold = subject.get("scoreAtLeast") if isinstance(subject, Mapping) else None
    if not isinstance(threshold, int):
        raise _invalid("not a credit threshold attestation", "/attestation", "credit.invalid_attestation")
    try:
        checked = verify_threshold_attestation(
            attestation, trusted_attesters=dids, min_score=threshold, now=ctx.now()
        )
        valid_from = parse_time(attestation.get("validFrom"), "validFrom")
    except CredentialsError as exc:
        raise _invalid(
            f"the attestation fails: {exc} [{exc.code}]", "/attestation", "credit.invalid_attestation"
        ) from None
    attestation_id = str(attestation.get("id", ""))
    if not 0 < len(attestation_id) <= 200 or len(checked.model) > 64:
        raise _invalid(
            "the attestation needs an id of at most 200 characters and a model name of at most 64",
            "/attestation",
            "credit.invalid_attestation",
        )
    record = {k: v for k, v in attestation_audit_event(attestation).items() if k not in {"kind", "version"}}
    doc_hash = record_hash(attestation)
    existing = ctx.session.get(CreditAttestation, attestation_id)
    if existing is not None:
        if existing.document_hash == doc_hash:
            return AttestationPublic(record=record)
        raise Conflict(
            f"a different attestation {attestation_id} is registered", code="credit.duplicate_attestation"
        )
    ctx.session.add(
        CreditAttestation(
            id=attestation_id,
            subject_uscc=checked.uscc.upper(),
            attester_did=checked.attester,
            presented_by=ctx.actor.org_id,
            score_at_least=checked.score_at_least,
            model=checked.model,
            audience=checked.audience,
            valid_from=valid_from,
            valid_until=checked.valid_until,
            document=attestation,
            document_hash=doc_hash,
            registered_at=ctx.now(),
        )
    )
    record_event(
        ctx,
        "tdex.credit.attested",
        ctx.actor.org_id,
        _subject("attestation", str(record["attestation"])),
        record,
    )
    return AttestationPublic(record=record)


def set_credit_requirement(ctx: Ctx, data: CreditRequirementSet) -> CreditRequirementPublic:
    """The provider of a conditional resource requires a minimum credit grade of its applicants."""
    require_role(ctx, Role.DEPARTMENT)
    resource = ctx.session.scalar(select(Resource).where(Resource.code == data.resource_code))
    if resource is None:
        raise NotFound(f"no catalogue entry {data.resource_code!r}")
    if resource.provider_org_id != ctx.actor.org_id:
        raise Forbidden(
            "only the resource's provider sets its credit requirement", code="catalog.not_provider"
        )
    now = ctx.now()
    row = ctx.session.get(CreditRequirement, resource.id)
    if row is None:
        row = CreditRequirement(
            resource_id=resource.id, min_grade=data.min_grade, set_by=ctx.actor.org_id, updated_at=now
        )
        ctx.session.add(row)
    else:
        row.min_grade, row.set_by, row.updated_at = data.min_grade, ctx.actor.org_id, now
    record_event(
        ctx,
        "credit.requirement_set",
        ctx.actor.org_id,
        f"resource:{resource.code}",
        {"code": resource.code, "min_grade": data.min_grade},
    )
    return CreditRequirementPublic(
        resource_code=resource.code,
        min_grade=data.min_grade,
        set_by=row.set_by,
        updated_at=now,
    )


class CreditReader(Protocol):
    """Where the credit gate reads a subject's credit events (a fake in tests, the chain in production)."""

    def subject_ref(self, uscc: str) -> bytes:
        """The subject's keyed reference (what the chain knows it by)."""
        ...

    def events_of(self, subject_ref: bytes) -> Sequence[CreditEvent]:
        """Every credit event of the subject, corrections included."""
        ...


class LedgerCreditReader:
    """A CreditReader on `ledger.CreditLedger` with the deployment's subject-reference secret."""

    def __init__(self, credit_ledger: Any, subject_secret: bytes, *, suite: str = "intl") -> None:
        self._ledger = credit_ledger
        self._secret = subject_secret
        self._suite = suite

    def subject_ref(self, uscc: str) -> bytes:
        """`keys.subject_ref` of the USCC with the deployment's secret."""
        return keys.subject_ref(uscc, self._secret, suite=self._suite)

    def events_of(self, subject_ref: bytes) -> Sequence[CreditEvent]:
        """The subject's events from the chain, as the scoring model takes them."""
        return [
            CreditEvent(
                e.event_id,
                e.subject_ref,
                CreditCategory(int(e.category)),
                e.weight,
                e.evidence_hash,
                e.recorder,
                e.effective_from,
                e.effective_until,
                e.recorded_at,
                e.corrects,
                EventStatus(int(e.status)),
            )
            for e in self._ledger.events_of(subject_ref)
        ]


@dataclass(frozen=True)
class CreditRefusal:
    """Why an application is refused on credit: the reason (starting with its code) and the record."""

    reason: str
    record: dict[str, Any]


def credit_refusal(
    ctx: Ctx, resource_id: int, uscc: str, reader: CreditReader | None
) -> CreditRefusal | None:
    """None when the resource requires no grade or the applicant holds it; else the refusal to record."""
    requirement = ctx.session.get(CreditRequirement, resource_id)
    if requirement is None:
        return None
    if reader is None:
        raise Conflict(
            "this resource requires a credit grade and no credit source is configured",
            code=CREDIT_UNAVAILABLE,
        )
    ref = reader.subject_ref(uscc)
    score = compute_score(reader.events_of(ref), ref, as_of=int(ctx.now().timestamp()))
    if grade_at_least(score.grade, requirement.min_grade):
        return None
    reason = (
        f"{CREDIT_TOO_LOW}: the applicant's credit grade {score.grade} (score {score.score}, "
        f"model {score.model}) is below the required {requirement.min_grade}"
    )
    return CreditRefusal(
        reason,
        {
            "reason": reason,
            "code": CREDIT_TOO_LOW,
            "grade": score.grade,
            "score": score.score,
            "required": requirement.min_grade,
            "model": score.model,
            "checkpoint": score.checkpoint,
            "events_digest": score.events_digest.hex(),
        },
    )
