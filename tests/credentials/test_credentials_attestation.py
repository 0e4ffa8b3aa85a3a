"""Threshold attestations: a bank verifies "score ≥ X" without the events; forgeries are rejected."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from credentials_support import DAY, REF, T0, credit_book

from credentials import (
    CreditScore,
    add_proof,
    attest_threshold,
    attestation_audit_event,
    audit_attestation,
    compute_score,
    verify_threshold_attestation,
)
from credentials.errors import AttestationInvalid, ScoreBelowThreshold, UntrustedAttester
from keys import SigningKey

NOW = datetime.fromtimestamp(T0 + 100 * DAY, UTC)
USCC = "91110000600037341L"
BANK = "did:web:bank.example"
ATTESTER = SigningKey.generate("intl")


def _score() -> CreditScore:
    return compute_score(credit_book().events, REF, as_of=T0 + 100 * DAY)


def _attestation(**kwargs: Any) -> dict[str, Any]:
    return attest_threshold(
        ATTESTER,
        _score(),
        uscc=USCC,
        threshold=600,
        attester_name="市信用中心",
        audience=BANK,
        now=NOW,
        **kwargs,
    )


def _verify(doc: dict[str, Any], **kwargs: Any) -> Any:
    kwargs.setdefault("trusted_attesters", [ATTESTER.verify_key.did])
    kwargs.setdefault("min_score", 600)
    kwargs.setdefault("now", NOW + timedelta(days=1))
    return verify_threshold_attestation(doc, **kwargs)


def test_bank_verifies_without_the_events() -> None:
    """The bank learns "≥ 600 as of checkpoint 3" and the attester, not the events or the score."""
    doc = _attestation()
    result = _verify(doc, uscc=USCC, audience=BANK)
    assert (result.score_at_least, result.event_count, result.uscc) == (600, 3, USCC)
    assert "645" not in str(doc["credentialSubject"])


def test_below_threshold_is_not_attested() -> None:
    """Asking for "≥ 700" when the score is 645 signs nothing."""
    with pytest.raises(ScoreBelowThreshold) as info:
        attest_threshold(ATTESTER, _score(), uscc=USCC, threshold=700, attester_name="x", now=NOW)
    assert info.value.code == "credentials.credit.below_threshold"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scoreAtLeast", 800),
        ("uscc", "91350100M000100Y43"),
        ("asOf", "2030-01-01T00:00:00Z"),
        ("audience", "x"),
    ],
)
def test_edited_attestation_is_rejected(field: str, value: Any) -> None:
    """Raising the threshold or changing the subject, time or audience breaks the proof."""
    doc = copy.deepcopy(_attestation())
    doc["credentialSubject"][field] = value
    with pytest.raises(AttestationInvalid) as info:
        _verify(doc)
    assert info.value.code == "credentials.credit.attestation_invalid"


def test_self_signed_forgery_is_untrusted() -> None:
    """A well-formed attestation signed by a key the bank does not trust is rejected."""
    forger = SigningKey.generate("intl")
    doc = copy.deepcopy(_attestation())
    del doc["proof"]
    doc["issuer"]["id"] = forger.verify_key.did
    doc["credentialSubject"]["scoreAtLeast"] = 900
    with pytest.raises(UntrustedAttester) as info:
        _verify(add_proof(doc, forger))
    assert info.value.code == "credentials.credit.untrusted_attester"


def test_weaker_expired_or_misdirected_attestations_are_rejected() -> None:
    """A threshold below the bank's minimum, an expired attestation or another audience fail."""
    doc = _attestation()
    with pytest.raises(AttestationInvalid):
        _verify(doc, min_score=650)
    with pytest.raises(AttestationInvalid):
        _verify(doc, now=NOW + timedelta(days=31))
    with pytest.raises(AttestationInvalid):
        _verify(doc, audience="did:web:other-bank.example")
    with pytest.raises(AttestationInvalid):
        _verify(doc, uscc="91350100M000100Y43")


def test_auditor_recomputes_the_attested_score() -> None:
    """With the events an auditor confirms the digest and score; a rewritten history is caught."""
    result = _verify(_attestation())
    assert audit_attestation(result, credit_book().events).score == 645
    rewritten = [replace(e, weight=-1) if e.event_id == 1 else e for e in credit_book().events]
    with pytest.raises(AttestationInvalid):
        audit_attestation(result, rewritten)
    dishonest = replace(result, score_at_least=700)
    with pytest.raises(AttestationInvalid):
        audit_attestation(dishonest, credit_book().events)


def test_attestation_audit_event_reveals_no_score() -> None:
    """The audit record names attester, subject reference, threshold and checkpoint, not the score."""
    doc = _attestation()
    event = attestation_audit_event(doc)
    assert event["kind"] == "tdex.credit.attested" and event["scoreAtLeast"] == 600
    assert event["checkpoint"] == 3 and event["attester"] == ATTESTER.verify_key.did
    assert "645" not in str(event)
