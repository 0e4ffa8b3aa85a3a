"""CreditLedger through the ledger client on eth-tester: events, disputes, upholding, corrections."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils import keccak

import ledger
from credentials import CreditCategory as ModelCategory
from credentials import CreditEvent, compute_score
from ledger import Admin, Capability, CreditCategory, CreditEventStatus, CreditLedger, Role, Signer
from ledger.errors import revert_class
from ledger.ids import org_id

SUBJECT = keccak(text="subject-ref")
EVIDENCE = keccak(text="evidence")
GROUNDS = keccak(text="signed dispute request")
DECISION = keccak(text="decision")
T0 = 1_700_000_000


@dataclass
class World:
    """A chain with two credit recorders, a certificate issuer and a bank, and a credit ledger."""

    chain: ledger.Chain
    credit: CreditLedger
    tax: Signer
    court: Signer
    market: Signer
    bank: Signer


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One deployment for the module; each test runs from a snapshot of it."""
    with ledger.connect("eth-tester") as chain:
        signers = [Signer.generate() for _ in range(5)]
        bureau, tax, court, market, bank = signers
        chain.fund([s.address for s in signers])
        dep = ledger.deploy(chain, bureau, [Admin(org_id("bureau"), bureau.address)])
        for name, signer, role, caps in [
            ("tax", tax, Role.DEPARTMENT, Capability.CREDIT_RECORDER),
            ("court", court, Role.DEPARTMENT, Capability.CREDIT_RECORDER),
            ("market", market, Role.DEPARTMENT, Capability.CERT_ISSUER),
            ("bank", bank, Role.ENTERPRISE, Capability.NONE),
        ]:
            dep.consortium.propose_admission(bureau, org_id(name), signer.address, role, caps)
        credit = CreditLedger.deploy(chain, bureau, dep.consortium.address)
        yield World(chain, credit, tax, court, market, bank)


@pytest.fixture
def w(world: World) -> Iterator[World]:
    """The module's world, rolled back after the test."""
    snapshot = world.chain.snapshot()
    yield world
    world.chain.revert_to(snapshot)


def _penalty(w: World, weight: int = -100) -> int:
    return w.credit.record(
        w.tax, SUBJECT, CreditCategory.ADMINISTRATIVE_PENALTY, weight, EVIDENCE, T0, T0 + 365 * 86_400
    )


def test_recorder_records_events(w: World) -> None:
    """A CREDIT_RECORDER records events numbered from 1; the count is the checkpoint."""
    first = _penalty(w)
    second = w.credit.record(w.tax, SUBJECT, CreditCategory.COMMENDATION, 40, EVIDENCE, T0)
    assert (first, second, w.credit.event_count()) == (1, 2, 2)
    event = w.credit.event(first)
    assert (
        event.category is CreditCategory.ADMINISTRATIVE_PENALTY and event.status is CreditEventStatus.ACTIVE
    )
    assert (event.weight, event.recorder_org_id, event.recorder) == (-100, org_id("tax"), w.tax.address)
    assert w.credit.subject_event_ids(SUBJECT) == [1, 2]


@pytest.mark.parametrize("who", ["market", "bank"])
def test_only_recorders_record(w: World, who: str) -> None:
    """A certificate issuer or a bank cannot record credit events."""
    signer = getattr(w, who)
    with pytest.raises(revert_class("CreditLedgerNotRecorder")) as info:
        w.credit.record(signer, SUBJECT, CreditCategory.COMMENDATION, 1, EVIDENCE, T0)
    assert info.value.account == signer.address


def test_record_inputs_are_checked(w: World) -> None:
    """Zero subject, missing evidence, out-of-range weight and inverted periods are refused."""
    with pytest.raises(revert_class("CreditLedgerInvalidSubject")):
        w.credit.record(w.tax, bytes(32), CreditCategory.COMMENDATION, 1, EVIDENCE, T0)
    with pytest.raises(revert_class("CreditLedgerMissingEvidence")):
        w.credit.record(w.tax, SUBJECT, CreditCategory.COMMENDATION, 1, bytes(32), T0)
    with pytest.raises(revert_class("CreditLedgerWeightOutOfRange")) as weight:
        w.credit.record(w.tax, SUBJECT, CreditCategory.SERIOUS_DISHONESTY, -1001, EVIDENCE, T0)
    assert weight.value.weight == -1001
    with pytest.raises(revert_class("CreditLedgerInvalidPeriod")):
        w.credit.record(w.tax, SUBJECT, CreditCategory.COMMENDATION, 1, EVIDENCE, T0, T0)
    with pytest.raises(revert_class("CreditLedgerUnknownEvent")):
        w.credit.event(7)


def test_dispute_then_uphold(w: World) -> None:
    """Any recorder files the subject's dispute; only the recording organisation upholds it."""
    event_id = _penalty(w)
    w.credit.dispute(w.court, event_id, GROUNDS)
    assert w.credit.event(event_id).status is CreditEventStatus.DISPUTED
    dispute = w.credit.dispute_of(event_id)
    assert (dispute.filed_by_org_id, dispute.grounds_hash) == (org_id("court"), GROUNDS)
    with pytest.raises(revert_class("CreditLedgerInvalidEventStatus")) as twice:
        w.credit.dispute(w.tax, event_id, GROUNDS)
    assert twice.value.status == CreditEventStatus.DISPUTED
    with pytest.raises(revert_class("CreditLedgerNotEventRecorder")):
        w.credit.uphold(w.court, event_id, DECISION)
    with pytest.raises(revert_class("CreditLedgerMissingReason")):
        w.credit.uphold(w.tax, event_id, bytes(32))
    receipt = w.credit.uphold(w.tax, event_id, DECISION)
    assert receipt.event("CreditDisputeRejected")["decisionHash"] == DECISION
    assert w.credit.event(event_id).status is CreditEventStatus.UPHELD
    assert w.credit.dispute_of(event_id).decision_hash == DECISION
    with pytest.raises(revert_class("CreditLedgerInvalidEventStatus")):
        w.credit.dispute(w.court, event_id, GROUNDS)


def test_correction_references_the_original_and_erases_nothing(w: World) -> None:
    """A correction is a new event naming the original, which stays readable as CORRECTED."""
    event_id = _penalty(w)
    w.credit.dispute(w.court, event_id, GROUNDS)
    correction = w.credit.correct(w.tax, event_id, -30, EVIDENCE, T0, T0 + 90 * 86_400, DECISION)
    original = w.credit.event(event_id)
    assert (original.status, original.corrected_by, original.weight) == (
        CreditEventStatus.CORRECTED,
        correction,
        -100,
    )
    fixed = w.credit.event(correction)
    assert (fixed.corrects, fixed.weight, fixed.category) == (
        event_id,
        -30,
        CreditCategory.ADMINISTRATIVE_PENALTY,
    )
    assert w.credit.dispute_of(event_id).decision_hash == DECISION
    with pytest.raises(revert_class("CreditLedgerInvalidEventStatus")):
        w.credit.correct(w.tax, event_id, -10, EVIDENCE, T0, 0, DECISION)
    with pytest.raises(revert_class("CreditLedgerNotEventRecorder")):
        w.credit.correct(w.court, correction, -10, EVIDENCE, T0, 0, DECISION)
    assert w.credit.subject_event_ids(SUBJECT) == [event_id, correction]


def test_score_recomputed_from_the_chain(w: World) -> None:
    """The model scores the chain's events; a repair (correction) raises the score; checkpoints pin it."""
    event_id = _penalty(w)
    w.credit.record(w.tax, SUBJECT, CreditCategory.COMMENDATION, 37, EVIDENCE, T0 - 200 * 86_400)
    checkpoint = w.credit.event_count()
    w.credit.correct(w.tax, event_id, -20, EVIDENCE, T0, T0 + 365 * 86_400, DECISION)

    def model_events() -> list[CreditEvent]:
        return [
            CreditEvent(
                e.event_id,
                e.subject_ref,
                ModelCategory(int(e.category)),
                e.weight,
                e.evidence_hash,
                e.recorder,
                e.effective_from,
                e.effective_until,
                e.recorded_at,
                e.corrects,
            )
            for e in w.credit.all_events()
        ]

    as_of = T0 + 100 * 86_400
    before = compute_score(model_events(), SUBJECT, as_of=as_of, checkpoint=checkpoint)
    after = compute_score(model_events(), SUBJECT, as_of=as_of)
    assert (before.score, after.score) == (645, 711)
    assert compute_score(model_events(), SUBJECT, as_of=as_of) == after
