"""Threshold attestations for credit-based loans (信易贷): "score ≥ X as of checkpoint N", signed.

An attestation is a VC 2.0 credential of type CreditThresholdAttestation (schema
`credit-threshold/v1`), secured with the attester's DataIntegrityProof. A bank verifies it with
the attester's public key alone: it never sees the events. An auditor holding the events can
recompute the score at the same time and checkpoint (`audit_attestation`) and confirm both the
events digest and that the score really was at least X.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from credentials._credit import CreditEvent, CreditScore, compute_score
from credentials._model import build_credential
from credentials._proof import add_proof, verify_proof
from credentials._schemas import CREDIT_THRESHOLD, SchemaRegistry
from credentials._time import parse_time, system_clock
from credentials.errors import (
    AttestationInvalid,
    CredentialsError,
    ProofError,
    ScoreBelowThreshold,
    UntrustedAttester,
)
from keys import KeysError, SigningKey, validate_uscc

__all__ = [
    "ThresholdAttestation",
    "attest_threshold",
    "attestation_audit_event",
    "audit_attestation",
    "verify_threshold_attestation",
]

_REGISTRY = SchemaRegistry([CREDIT_THRESHOLD.schema])


@dataclass(frozen=True, slots=True)
class ThresholdAttestation:
    """A verified attestation: who attests what about whom, as of when, until when."""

    attester: str
    uscc: str
    subject_ref: bytes
    score_at_least: int
    model: str
    as_of: int
    event_count: int
    events_digest: bytes
    audience: str | None
    valid_until: datetime


def attest_threshold(
    key: SigningKey,
    score: CreditScore,
    *,
    uscc: str,
    threshold: int,
    attester_name: str,
    audience: str | None = None,
    ledger: str | None = None,
    valid_for: timedelta = timedelta(days=30),
    now: datetime | None = None,
) -> dict[str, Any]:
    """Sign "the subject's score was ≥ `threshold` at `score.as_of` over checkpoint `score.checkpoint`".

    Raises ScoreBelowThreshold when the score is below the threshold (nothing is signed then).
    `audience` names the relying party (e.g. the bank's DID) so the statement is not replayed to
    others; `ledger` names the CreditLedger (CAIP-10 of the contract).
    """
    if score.score < threshold:
        raise ScoreBelowThreshold(f"score {score.score} is below {threshold}; no attestation is made")
    try:
        validate_uscc(uscc)
    except KeysError as exc:
        raise AttestationInvalid(f"subject uscc: {exc}") from None
    moment = now or system_clock()
    checkpoint: dict[str, Any] = {"eventCount": score.checkpoint, "eventsDigest": score.events_digest.hex()}
    if ledger is not None:
        checkpoint["ledger"] = ledger
    subject: dict[str, Any] = {
        "type": "CreditThreshold",
        "uscc": uscc,
        "subjectRef": "0x" + score.subject_ref.hex(),
        "scoreAtLeast": threshold,
        "model": score.model,
        "asOf": datetime.fromtimestamp(score.as_of, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "checkpoint": checkpoint,
    }
    if audience is not None:
        subject["audience"] = audience
    unsigned = build_credential(
        types=[CREDIT_THRESHOLD.credential_type],
        issuer={"id": key.verify_key.did, "name": attester_name},
        subject=subject,
        valid_from=moment,
        valid_until=moment + valid_for,
        schemas=[CREDIT_THRESHOLD.schema_id],
    )
    return add_proof(unsigned, key, created=moment)


def attestation_audit_event(attestation: Mapping[str, Any]) -> dict[str, Any]:
    """The audit-log record of an attestation just made (kind tdex.credit.attested): no score, no events."""
    subject = attestation["credentialSubject"]
    return {
        "kind": "tdex.credit.attested",
        "version": 1,
        "at": attestation["validFrom"],
        "attestation": attestation["id"],
        "attester": attestation["issuer"]["id"],
        "subjectRef": subject["subjectRef"],
        "scoreAtLeast": subject["scoreAtLeast"],
        "model": subject["model"],
        "checkpoint": subject["checkpoint"]["eventCount"],
        "audience": subject.get("audience"),
        "validUntil": attestation["validUntil"],
    }


def verify_threshold_attestation(
    attestation: Mapping[str, Any],
    *,
    trusted_attesters: Iterable[str],
    min_score: int,
    uscc: str | None = None,
    audience: str | None = None,
    now: datetime | None = None,
) -> ThresholdAttestation:
    """Check an attestation as a bank does; return it, or raise AttestationInvalid / UntrustedAttester.

    Checked: the proof; that the signer is the issuer and one of `trusted_attesters` (DIDs); the
    schema; the validity window at `now`; that `scoreAtLeast` ≥ `min_score`; and, when given,
    the subject's USCC and the audience.
    """
    moment = now or system_clock()
    try:
        proofs = verify_proof(attestation, now=moment)
    except ProofError as exc:
        raise AttestationInvalid(f"the attestation's proof fails: {exc}") from None
    try:
        _REGISTRY.validate(attestation)
        if len(proofs) != 1 or proofs[0].controller != attestation["issuer"]["id"]:
            raise AttestationInvalid("the attestation must carry one proof by its issuer")
        signer = proofs[0].controller
        if signer not in set(trusted_attesters):
            raise UntrustedAttester(f"{signer[:60]} is not a trusted credit attester")
        subject = attestation["credentialSubject"]
        start = parse_time(attestation["validFrom"], "validFrom")
        end = parse_time(attestation["validUntil"], "validUntil")
        if not start <= moment <= end:
            raise AttestationInvalid(f"the attestation is valid from {start} to {end}, not at {moment}")
        if subject["scoreAtLeast"] < min_score:
            raise AttestationInvalid(
                f"it attests a score of at least {subject['scoreAtLeast']}, not {min_score}"
            )
        if uscc is not None and subject["uscc"] != uscc:
            raise AttestationInvalid("the attestation is about another subject")
        if audience is not None and subject.get("audience") != audience:
            raise AttestationInvalid("the attestation was made for another relying party")
        return ThresholdAttestation(
            attester=signer,
            uscc=subject["uscc"],
            subject_ref=bytes.fromhex(subject["subjectRef"][2:]),
            score_at_least=int(subject["scoreAtLeast"]),
            model=subject["model"],
            as_of=int(parse_time(subject["asOf"], "asOf").timestamp()),
            event_count=int(subject["checkpoint"]["eventCount"]),
            events_digest=bytes.fromhex(subject["checkpoint"]["eventsDigest"]),
            audience=subject.get("audience"),
            valid_until=end,
        )
    except (AttestationInvalid, UntrustedAttester):
        raise
    except CredentialsError as exc:
        raise AttestationInvalid(f"the attestation is malformed: {exc}") from None


def audit_attestation(attestation: ThresholdAttestation, events: Iterable[CreditEvent]) -> CreditScore:
    """Recompute the attested score from the ledger's events; AttestationInvalid when it was not honest."""
    score = compute_score(
        events,
        attestation.subject_ref,
        as_of=attestation.as_of,
        checkpoint=attestation.event_count,
        model=attestation.model,
    )
    if score.events_digest != attestation.events_digest:
        raise AttestationInvalid("the events at that checkpoint are not the ones the attester scored")
    if score.score < attestation.score_at_least:
        raise AttestationInvalid(
            f"the recomputed score {score.score} is below the attested {attestation.score_at_least}"
        )
    return score
