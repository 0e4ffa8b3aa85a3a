"""E-certificates (电子证照) as W3C Verifiable Credentials 2.0, and public credit (公共信用).

- Credentials: VC 2.0 documents secured with a DataIntegrityProof, `eddsa-jcs-2022` (W3C) or the
  project's SM2 variant `sm2-jcs-tdex-2026`; JSON Schemas per certificate type; Bitstring Status
  Lists for revocation and suspension; a verifier reporting proof, schema, validity, status and
  on-chain anchor separately.
- Credit: a deterministic, versioned scoring model with time decay, explained scores, threshold
  attestations for banks, and 双随机 inspection sampling from a published seed.

The package imports only `keys` (no chain, web or database code): anchors are read through the
`CertificateAnchors` protocol and written by the application. See docs/credentials.md. Errors
live in `credentials.errors` (root `CredentialsError`, each with a stable `code`).

Typical use::

    issuer = CertificateIssuer(dept_key, name="市场监督管理局", status_base_url=url,
                               subject_secret=secret, chain_account=chain_account(chain_id, addr))
    issued = issue_business_licence(issuer, uscc="91110000600037341L", ...)
    report = Verifier(status_lists=issuer.status_list_credentials(), anchors=anchors).verify(
        issued.credential)
    report.ok, report.to_json()
"""

from __future__ import annotations

from credentials import errors
from credentials._anchor import (
    AnchoredCertificate,
    AnchoredStatusList,
    CertificateAnchors,
    CertificateStatus,
    InMemoryAnchors,
    certificate_anchor_id,
    chain_account,
    document_hash,
    encoded_list_hash,
    parse_chain_account,
    reason_hash,
    status_list_id,
)
from credentials._attest import (
    ThresholdAttestation,
    attest_threshold,
    attestation_audit_event,
    audit_attestation,
    verify_threshold_attestation,
)
from credentials._credit import (
    GRADES,
    MODEL_V1,
    MODELS,
    Contribution,
    CreditBook,
    CreditCategory,
    CreditEvent,
    CreditModel,
    CreditScore,
    EventStatus,
    compute_score,
    events_digest,
    grade_at_least,
)
from credentials._flows import issue_business_licence, verify_certificate
from credentials._issuer import (
    CertificateAnchorRequest,
    CertificateIssuer,
    IssuedCertificate,
    StatusChange,
    StatusListUpdate,
)
from credentials._model import VC_V2_CONTEXT, build_credential, check_data_model, issuer_id
from credentials._proof import (
    CRYPTOSUITES,
    EDDSA_JCS_2022,
    SM2_JCS_TDEX_2026,
    Cryptosuite,
    KeyResolver,
    VerifiedProof,
    add_proof,
    cryptosuite_for,
    verify_proof,
)
from credentials._sampling import DEFAULT_RATES_PERMILLE, SamplingPlan, draw_inspection_sample
from credentials._schemas import (
    BUSINESS_LICENCE,
    CERTIFICATE_TYPES,
    CREDIT_THRESHOLD,
    FOOD_OPERATION_PERMIT,
    CertificateType,
    SchemaRegistry,
    certificate_type,
    default_registry,
)
from credentials._status import (
    MIN_ENTRIES,
    StatusEntry,
    StatusList,
    StatusPurpose,
    build_status_list_credential,
    parse_status_entry,
    status_entry,
)
from credentials._time import Clock, format_time, parse_time, system_clock
from credentials._verify import (
    CHECKS,
    CheckResult,
    Outcome,
    StatusListResolver,
    VerificationReport,
    Verifier,
)
from credentials.errors import CredentialsError

__all__ = [
    "BUSINESS_LICENCE",
    "CERTIFICATE_TYPES",
    "CHECKS",
    "CREDIT_THRESHOLD",
    "CRYPTOSUITES",
    "DEFAULT_RATES_PERMILLE",
    "EDDSA_JCS_2022",
    "FOOD_OPERATION_PERMIT",
    "GRADES",
    "MIN_ENTRIES",
    "MODELS",
    "MODEL_V1",
    "SM2_JCS_TDEX_2026",
    "VC_V2_CONTEXT",
    "AnchoredCertificate",
    "AnchoredStatusList",
    "CertificateAnchorRequest",
    "CertificateAnchors",
    "CertificateIssuer",
    "CertificateStatus",
    "CertificateType",
    "CheckResult",
    "Clock",
    "Contribution",
    "CredentialsError",
    "CreditBook",
    "CreditCategory",
    "CreditEvent",
    "CreditModel",
    "CreditScore",
    "Cryptosuite",
    "EventStatus",
    "InMemoryAnchors",
    "IssuedCertificate",
    "KeyResolver",
    "Outcome",
    "SamplingPlan",
    "SchemaRegistry",
    "StatusChange",
    "StatusEntry",
    "StatusList",
    "StatusListResolver",
    "StatusListUpdate",
    "StatusPurpose",
    "ThresholdAttestation",
    "VerificationReport",
    "VerifiedProof",
    "Verifier",
    "add_proof",
    "attest_threshold",
    "attestation_audit_event",
    "audit_attestation",
    "build_credential",
    "build_status_list_credential",
    "certificate_anchor_id",
    "certificate_type",
    "chain_account",
    "check_data_model",
    "compute_score",
    "cryptosuite_for",
    "default_registry",
    "document_hash",
    "draw_inspection_sample",
    "encoded_list_hash",
    "errors",
    "events_digest",
    "format_time",
    "grade_at_least",
    "issue_business_licence",
    "issuer_id",
    "parse_chain_account",
    "parse_status_entry",
    "parse_time",
    "reason_hash",
    "status_entry",
    "status_list_id",
    "system_clock",
    "verify_certificate",
    "verify_proof",
    "verify_threshold_attestation",
]
