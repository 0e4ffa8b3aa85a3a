"""The public surface of `credentials`: locked names, stable error codes, imports of `keys` only."""

from __future__ import annotations

import ast
from pathlib import Path

import credentials
from credentials import errors

EXPECTED_ALL = {
    "BUSINESS_LICENCE", "CERTIFICATE_TYPES", "CHECKS", "CREDIT_THRESHOLD", "CRYPTOSUITES",
    "DEFAULT_RATES_PERMILLE", "EDDSA_JCS_2022", "FOOD_OPERATION_PERMIT", "GRADES", "MIN_ENTRIES", "MODELS",
    "MODEL_V1", "SM2_JCS_TDEX_2026", "VC_V2_CONTEXT", "AnchoredCertificate", "AnchoredStatusList",
    "CertificateAnchorRequest", "CertificateAnchors", "CertificateIssuer", "CertificateStatus",
    "CertificateType", "CheckResult", "Clock", "Contribution", "CredentialsError", "CreditBook",
    "CreditCategory", "CreditEvent", "CreditModel", "CreditScore", "Cryptosuite", "EventStatus",
    "InMemoryAnchors", "IssuedCertificate", "KeyResolver", "Outcome", "SamplingPlan", "SchemaRegistry",
    "StatusChange", "StatusEntry", "StatusList", "StatusListResolver", "StatusListUpdate", "StatusPurpose",
    "ThresholdAttestation", "VerificationReport", "VerifiedProof", "Verifier", "add_proof",
    "attest_threshold", "attestation_audit_event", "audit_attestation", "build_credential",
    "build_status_list_credential",
    "certificate_anchor_id", "certificate_type", "chain_account", "check_data_model", "compute_score",
    "cryptosuite_for", "default_registry", "document_hash", "draw_inspection_sample", "encoded_list_hash",
    "errors", "events_digest", "format_time", "grade_at_least", "issue_business_licence", "issuer_id",
    "parse_chain_account", "parse_status_entry", "parse_time", "reason_hash", "status_entry",
    "status_list_id", "system_clock", "verify_certificate", "verify_proof", "verify_threshold_attestation",
}  # fmt: skip

EXPECTED_CODES = {
    "CredentialsError": "credentials.error",
    "CredentialMalformed": "credentials.malformed",
    "ProofError": "credentials.proof.error",
    "ProofMalformed": "credentials.proof.malformed",
    "UnsupportedCryptosuite": "credentials.proof.unsupported_suite",
    "UnresolvableVerificationMethod": "credentials.proof.unresolvable_method",
    "ProofInvalid": "credentials.proof.invalid",
    "ProofExpired": "credentials.proof.expired",
    "IssuerMismatch": "credentials.proof.issuer_mismatch",
    "UntrustedIssuer": "credentials.proof.untrusted_issuer",
    "SchemaError": "credentials.schema.error",
    "UnknownSchema": "credentials.schema.unknown",
    "SchemaViolation": "credentials.schema.violation",
    "ValidityError": "credentials.validity.error",
    "NotYetValid": "credentials.validity.not_yet_valid",
    "Expired": "credentials.validity.expired",
    "StatusError": "credentials.status.error",
    "StatusListMalformed": "credentials.status.malformed",
    "StatusListUnavailable": "credentials.status.unavailable",
    "StatusListMismatch": "credentials.status.mismatch",
    "StatusIndexOutOfRange": "credentials.status.out_of_range",
    "CredentialRevoked": "credentials.status.revoked",
    "CredentialSuspended": "credentials.status.suspended",
    "AnchorError": "credentials.anchor.error",
    "AnchorMissing": "credentials.anchor.missing",
    "AnchorMismatch": "credentials.anchor.mismatch",
    "IssuanceError": "credentials.issuance.error",
    "CreditError": "credentials.credit.error",
    "CreditEventInvalid": "credentials.credit.event_invalid",
    "CreditModelUnknown": "credentials.credit.unknown_model",
    "ScoreBelowThreshold": "credentials.credit.below_threshold",
    "AttestationInvalid": "credentials.credit.attestation_invalid",
    "UntrustedAttester": "credentials.credit.untrusted_attester",
    "SamplingError": "credentials.credit.sampling",
}

ALLOWED_IMPORTS = {"keys", "credentials", "base58", "jsonschema_rs"}
PACKAGE = Path(credentials.__file__).parent


def test_public_names_are_locked() -> None:
    """`credentials.__all__` is exactly the documented surface, and every name resolves."""
    assert set(credentials.__all__) == EXPECTED_ALL
    assert all(hasattr(credentials, name) for name in credentials.__all__)


def test_error_codes_are_stable_and_rooted() -> None:
    """Every error has its documented code and derives from CredentialsError."""
    assert set(errors.__all__) == set(EXPECTED_CODES)
    for name, code in EXPECTED_CODES.items():
        cls = getattr(errors, name)
        assert cls.code == code and issubclass(cls, errors.CredentialsError)
        assert cls.__doc__ and cls.__doc__.startswith("Raised when")


def test_imports_only_keys_and_the_standard_library() -> None:
    """No module imports ledger, web, database or other project packages (only keys)."""
    import sys

    stdlib = set(sys.stdlib_module_names)
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_IMPORTS, f"{path.name} imports {name}"
