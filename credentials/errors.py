"""The exceptions of the `credentials` package: one root, a stable machine `code` on every class.

The tree::

    CredentialsError                    credentials.error
    ├── CredentialMalformed             credentials.malformed
    ├── ProofError                      credentials.proof.error
    │   ├── ProofMalformed              credentials.proof.malformed
    │   ├── UnsupportedCryptosuite      credentials.proof.unsupported_suite
    │   ├── UnresolvableVerificationMethod  credentials.proof.unresolvable_method
    │   ├── ProofInvalid                credentials.proof.invalid
    │   ├── ProofExpired                credentials.proof.expired
    │   ├── IssuerMismatch              credentials.proof.issuer_mismatch
    │   └── UntrustedIssuer             credentials.proof.untrusted_issuer
    ├── SchemaError                     credentials.schema.error
    │   ├── UnknownSchema               credentials.schema.unknown
    │   └── SchemaViolation             credentials.schema.violation
    ├── ValidityError                   credentials.validity.error
    │   ├── NotYetValid                 credentials.validity.not_yet_valid
    │   └── Expired                     credentials.validity.expired
    ├── StatusError                     credentials.status.error
    │   ├── StatusListMalformed         credentials.status.malformed
    │   ├── StatusListUnavailable       credentials.status.unavailable
    │   ├── StatusListMismatch          credentials.status.mismatch
    │   ├── StatusIndexOutOfRange       credentials.status.out_of_range
    │   ├── CredentialRevoked           credentials.status.revoked
    │   └── CredentialSuspended         credentials.status.suspended
    ├── AnchorError                     credentials.anchor.error
    │   ├── AnchorMissing               credentials.anchor.missing
    │   └── AnchorMismatch              credentials.anchor.mismatch
    ├── IssuanceError                   credentials.issuance.error
    └── CreditError                     credentials.credit.error
        ├── CreditEventInvalid          credentials.credit.event_invalid
        ├── CreditModelUnknown          credentials.credit.unknown_model
        ├── ScoreBelowThreshold         credentials.credit.below_threshold
        ├── AttestationInvalid          credentials.credit.attestation_invalid
        ├── UntrustedAttester           credentials.credit.untrusted_attester
        └── SamplingError               credentials.credit.sampling

Codes are part of the public contract (reports and HTTP problem types carry them): never rename one.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AnchorError",
    "AnchorMismatch",
    "AnchorMissing",
    "AttestationInvalid",
    "CredentialMalformed",
    "CredentialRevoked",
    "CredentialSuspended",
    "CredentialsError",
    "CreditError",
    "CreditEventInvalid",
    "CreditModelUnknown",
    "Expired",
    "IssuanceError",
    "IssuerMismatch",
    "NotYetValid",
    "ProofError",
    "ProofExpired",
    "ProofInvalid",
    "ProofMalformed",
    "SamplingError",
    "SchemaError",
    "SchemaViolation",
    "ScoreBelowThreshold",
    "StatusError",
    "StatusIndexOutOfRange",
    "StatusListMalformed",
    "StatusListMismatch",
    "StatusListUnavailable",
    "UnknownSchema",
    "UnresolvableVerificationMethod",
    "UnsupportedCryptosuite",
    "UntrustedAttester",
    "UntrustedIssuer",
    "ValidityError",
]


class CredentialsError(Exception):
    """Raised when anything in `credentials` fails; the root of every error of this package."""

    code: ClassVar[str] = "credentials.error"


class CredentialMalformed(CredentialsError):
    """Raised when a document is not a VC 2.0 credential (missing @context, type, issuer, subject...)."""

    code = "credentials.malformed"


class ProofError(CredentialsError):
    """Raised when a Data Integrity proof does not verify; the root of proof errors."""

    code = "credentials.proof.error"


class ProofMalformed(ProofError):
    """Raised when a proof lacks a field, has a wrong type or purpose, or a bad encoding."""

    code = "credentials.proof.malformed"


class UnsupportedCryptosuite(ProofError):
    """Raised when a proof names a cryptosuite this package does not implement."""

    code = "credentials.proof.unsupported_suite"


class UnresolvableVerificationMethod(ProofError):
    """Raised when a verificationMethod is neither a did:key of the suite's key type nor resolvable."""

    code = "credentials.proof.unresolvable_method"


class ProofInvalid(ProofError):
    """Raised when the signature does not verify over the document and the proof options."""

    code = "credentials.proof.invalid"


class ProofExpired(ProofError):
    """Raised when the proof's `expires` time has passed."""

    code = "credentials.proof.expired"


class IssuerMismatch(ProofError):
    """Raised when the credential's issuer is a DID other than the controller of the signing key."""

    code = "credentials.proof.issuer_mismatch"


class UntrustedIssuer(ProofError):
    """Raised when the signing key is not one of the issuers the verifier was told to trust."""

    code = "credentials.proof.untrusted_issuer"


class SchemaError(CredentialsError):
    """Raised when a credential does not conform to its schema; the root of schema errors."""

    code = "credentials.schema.error"


class UnknownSchema(SchemaError):
    """Raised when `credentialSchema` names a schema the registry does not hold."""

    code = "credentials.schema.unknown"


class SchemaViolation(SchemaError):
    """Raised when a credential violates its JSON Schema or the VC 2.0 data model."""

    code = "credentials.schema.violation"


class ValidityError(CredentialsError):
    """Raised when a credential is outside its validity window; the root of validity errors."""

    code = "credentials.validity.error"


class NotYetValid(ValidityError):
    """Raised when `validFrom` is after the verification time."""

    code = "credentials.validity.not_yet_valid"


class Expired(ValidityError):
    """Raised when `validUntil` is before the verification time."""

    code = "credentials.validity.expired"


class StatusError(CredentialsError):
    """Raised when a credential's status cannot be confirmed as good; the root of status errors."""

    code = "credentials.status.error"


class StatusListMalformed(StatusError):
    """Raised when a status entry or status list credential is malformed, or its list is too short."""

    code = "credentials.status.malformed"


class StatusListUnavailable(StatusError):
    """Raised when the status list credential an entry names cannot be obtained."""

    code = "credentials.status.unavailable"


class StatusListMismatch(StatusError):
    """Raised when a status list credential has another issuer or purpose, or a bad proof or window."""

    code = "credentials.status.mismatch"


class StatusIndexOutOfRange(StatusError):
    """Raised when `statusListIndex` is beyond the end of the list."""

    code = "credentials.status.out_of_range"


class CredentialRevoked(StatusError):
    """Raised when the credential's bit is set in its revocation list (or the anchor says revoked)."""

    code = "credentials.status.revoked"


class CredentialSuspended(StatusError):
    """Raised when the credential's bit is set in its suspension list (or the anchor says suspended)."""

    code = "credentials.status.suspended"


class AnchorError(CredentialsError):
    """Raised when the on-chain anchor of a credential does not confirm it; the root of anchor errors."""

    code = "credentials.anchor.error"


class AnchorMissing(AnchorError):
    """Raised when a credential claims to be anchored (its issuer names a chain account) but is not."""

    code = "credentials.anchor.missing"


class AnchorMismatch(AnchorError):
    """Raised when the anchor's issuer, document hash or validity window differ from the credential's."""

    code = "credentials.anchor.mismatch"


class IssuanceError(CredentialsError):
    """Raised when an issuer cannot issue a credential or change its status (bad input, no free index...)."""

    code = "credentials.issuance.error"


class CreditError(CredentialsError):
    """Raised when a credit computation, attestation or sampling fails; the root of credit errors."""

    code = "credentials.credit.error"


class CreditEventInvalid(CreditError):
    """Raised when a credit event has a weight outside its category's bounds or inconsistent fields."""

    code = "credentials.credit.event_invalid"


class CreditModelUnknown(CreditError):
    """Raised when a score or attestation names a scoring model version this code does not know."""

    code = "credentials.credit.unknown_model"


class ScoreBelowThreshold(CreditError):
    """Raised when asked to attest "score >= X" for a subject whose score is below X."""

    code = "credentials.credit.below_threshold"


class AttestationInvalid(CreditError):
    """Raised when a threshold attestation is malformed, forged, expired or weaker than required."""

    code = "credentials.credit.attestation_invalid"


class UntrustedAttester(CreditError):
    """Raised when a threshold attestation is signed by a key the relying party does not trust."""

    code = "credentials.credit.untrusted_attester"


class SamplingError(CreditError):
    """Raised when an inspection sample cannot be drawn (bad rates, empty seed, too few inspectors)."""

    code = "credentials.credit.sampling"
