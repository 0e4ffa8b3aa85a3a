"""E-certificates (免证办): issuers register, status lists (public), consents, verified look-ups, the
subject's own view; credit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from exchange_api.core.db import session_scope
from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import FactoryDep, IdempotencyKey, UnitDep
from exchange_api.schemas.certificates import (
    AttestationPublic,
    AttestationRegister,
    CertificatePublic,
    CertificateRegister,
    ConsentCreate,
    ConsentPublic,
    CreditRequirementPublic,
    CreditRequirementSet,
    HeldAttestations,
    HeldCertificates,
    LookupRequest,
    LookupResult,
    StatusPublish,
    StatusPublished,
)
from exchange_api.services import certificates
from exchange_api.services.context import SYSTEM, Ctx

__all__ = ["anchors_of", "credit_reader_of", "router"]

router = APIRouter(tags=["certificates"], responses=PROBLEM_RESPONSES)

ConsentId = Annotated[str, Path(max_length=40)]


def anchors_of(app: FastAPI) -> Any:
    """The chain's certificate anchors set on the app (`app.state.certificate_anchors`), or None."""
    return getattr(app.state, "certificate_anchors", None)


def credit_reader_of(app: FastAPI) -> certificates.CreditReader | None:
    """The credit reader set on the app (`app.state.credit_reader`), or None."""
    reader: certificates.CreditReader | None = getattr(app.state, "credit_reader", None)
    return reader


@router.post(
    "/certificates",
    status_code=201,
    response_model=CertificatePublic,
    summary="Register an issued credential",
)
def register(data: CertificateRegister, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """A CERT_ISSUER department registers a credential it signed; it is verified before it is stored."""
    anchors = anchors_of(unit.request.app)
    return unit.write(key, lambda ctx: certificates.register_certificate(ctx, data.credential, anchors), 201)


@router.post("/certificates/status", response_model=StatusPublished, summary="Publish status lists (issuer)")
def publish(data: StatusPublish, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """New versions of the issuer's signed status lists, and the suspensions/revocations they publish."""
    anchors = anchors_of(unit.request.app)
    return unit.write(key, lambda ctx: certificates.publish_status(ctx, data, anchors))


@router.post(
    "/certificates/consents", status_code=201, response_model=ConsentPublic, summary="Consent to a verifier"
)
def consent(data: ConsentCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """The subject consents (the bureau grants, with a legal basis) that a verifier may look it up."""
    return unit.write(key, lambda ctx: certificates.create_consent(ctx, data), 201)


@router.get("/certificates/consents/{consent_id}", response_model=ConsentPublic, summary="One consent")
async def get_consent(consent_id: ConsentId, unit: UnitDep) -> Response:
    """A consent, for who gave it, its verifier, the bureau or an auditor."""
    return unit.show(lambda ctx: certificates.get_consent(ctx, consent_id))


@router.post(
    "/certificates/consents/{consent_id}/revoke", response_model=ConsentPublic, summary="Withdraw a consent"
)
def revoke_consent(consent_id: ConsentId, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Who gave the consent withdraws it; look-ups under it are refused from now on."""
    return unit.write(key, lambda ctx: certificates.revoke_consent(ctx, consent_id))


@router.post("/certificates/lookups", response_model=LookupResult, summary="Look up a subject's certificates")
def lookup(data: LookupRequest, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Every registered certificate of the subject, verified; 403 `certificate.no_consent` without consent."""
    anchors = anchors_of(unit.request.app)
    return unit.write(key, lambda ctx: certificates.lookup(ctx, data, anchors))


@router.get("/certificates/held", response_model=HeldCertificates, summary="The caller's own certificates")
def held(unit: UnitDep) -> Response:
    """Every certificate whose subject is the caller, verified now; no consent needed, not logged as a
    look-up (ENTERPRISE or DEPARTMENT)."""
    anchors = anchors_of(unit.request.app)
    return unit.show(lambda ctx: certificates.held_certificates(ctx, anchors))


@router.get("/status-lists/{path_id:path}", summary="A status list credential (unsigned, public)")
def status_list(path_id: str, request: Request, factory: FactoryDep) -> JSONResponse:
    """The latest signed BitstringStatusListCredential: where a credential's `statusListCredential` points."""
    with session_scope(factory) as session:
        ctx = Ctx(session, request.app.state.settings, SYSTEM, request.app.state.clock)
        doc = certificates.status_list_document(ctx, path_id)
    return JSONResponse(doc, media_type="application/vc+ld+json", headers={"Cache-Control": "no-cache"})


@router.post(
    "/credit/attestations",
    status_code=201,
    response_model=AttestationPublic,
    summary="Record a credit attestation",
)
def attestation(data: AttestationRegister, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """The attester registers a threshold attestation it signed (verified first): stored and audited."""
    return unit.write(key, lambda ctx: certificates.register_attestation(ctx, data.attestation), 201)


@router.get(
    "/credit/attestations/held",
    response_model=HeldAttestations,
    summary="Credit attestations about the caller",
)
def held_attestations(unit: UnitDep) -> Response:
    """The threshold attestations about the caller registered with the exchange (ENTERPRISE or DEPARTMENT)."""
    return unit.show(lambda ctx: certificates.held_attestations(ctx))


@router.post(
    "/credit/requirements",
    response_model=CreditRequirementPublic,
    summary="Require a credit grade (provider)",
)
def requirement(data: CreditRequirementSet, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """The provider of a resource requires a minimum credit grade of applicants for its conditional share."""
    return unit.write(key, lambda ctx: certificates.set_credit_requirement(ctx, data))
