"""Typed facade of the CreditLedger contract: credit events, disputes, upholding and corrections."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ledger._certificates import deploy_contract
from ledger._chain import Chain
from ledger._facade import Facade, record
from ledger._signing import Signer
from ledger._types import Receipt, TxRequest

__all__ = ["CreditCategory", "CreditDispute", "CreditEventRecord", "CreditEventStatus", "CreditLedger"]


class CreditCategory(IntEnum):
    """Credit event categories, in the contract's order."""

    ADMINISTRATIVE_LICENCE = 0
    ADMINISTRATIVE_PENALTY = 1
    TAX_GRADE = 2
    CONTRACT_PERFORMANCE = 3
    COMMENDATION = 4
    SERIOUS_DISHONESTY = 5


class CreditEventStatus(IntEnum):
    """An event's status (NONE: no such event)."""

    NONE = 0
    ACTIVE = 1
    DISPUTED = 2
    UPHELD = 3
    CORRECTED = 4


@dataclass(frozen=True, slots=True)
class CreditEventRecord:
    """A credit event as stored (times in Unix seconds; ``corrects``/``corrected_by`` 0 for none)."""

    event_id: int
    subject_ref: bytes
    recorder_org_id: bytes
    evidence_hash: bytes
    recorder: str
    category: CreditCategory
    status: CreditEventStatus
    weight: int
    effective_from: int
    effective_until: int
    recorded_at: int
    corrects: int
    corrected_by: int


@dataclass(frozen=True, slots=True)
class CreditDispute:
    """The dispute of an event (all zero if it was never disputed)."""

    event_id: int
    filed_by_org_id: bytes
    grounds_hash: bytes
    decision_hash: bytes
    filed_at: int
    resolved_at: int


class CreditLedger(Facade):
    """Public-credit events recorded by CREDIT_RECORDER members; nothing is ever erased."""

    CONTRACT = "CreditLedger"

    @classmethod
    def deploy(cls, chain: Chain, deployer: Signer, consortium: str) -> CreditLedger:
        """Deploy a credit ledger bound to the Consortium at ``consortium``."""
        return cls(chain, deploy_contract(chain, deployer, cls.CONTRACT, consortium))

    # -------------------------------------------------------------------------- mutations

    def record(
        self,
        signer: Signer,
        subject_ref: bytes,
        category: CreditCategory,
        weight: int,
        evidence_hash: bytes,
        effective_from: int,
        effective_until: int = 0,
    ) -> int:
        """Record an event; returns its id."""
        receipt = self.transact(
            signer,
            "record",
            subject_ref,
            int(category),
            weight,
            evidence_hash,
            effective_from,
            effective_until,
        )
        return int(receipt.event("CreditEventRecorded")["eventId"])

    def prepare_record(
        self,
        subject_ref: bytes,
        category: CreditCategory,
        weight: int,
        evidence_hash: bytes,
        effective_from: int,
        effective_until: int = 0,
    ) -> TxRequest:
        """A ``record`` transaction for ``Chain.send_many``."""
        return self.prepare(
            "record", subject_ref, int(category), weight, evidence_hash, effective_from, effective_until
        )

    def dispute(self, signer: Signer, event_id: int, grounds_hash: bytes) -> Receipt:
        """File the subject's dispute of ``event_id`` (a CREDIT_RECORDER on the subject's behalf)."""
        return self.transact(signer, "dispute", event_id, grounds_hash)

    def uphold(self, signer: Signer, event_id: int, decision_hash: bytes) -> Receipt:
        """Reject the dispute: the event stands (its recorder only)."""
        return self.transact(signer, "uphold", event_id, decision_hash)

    def correct(
        self,
        signer: Signer,
        event_id: int,
        weight: int,
        evidence_hash: bytes,
        effective_from: int,
        effective_until: int,
        decision_hash: bytes,
    ) -> int:
        """Correct ``event_id`` with a new event (its recorder only); returns the correction's id."""
        receipt = self.transact(
            signer, "correct", event_id, weight, evidence_hash, effective_from, effective_until, decision_hash
        )
        return int(receipt.event("CreditEventCorrected")["correctionId"])

    # ------------------------------------------------------------------------------ views

    def event_count(self, *, block: int | str = "latest") -> int:
        """Number of events so far: the current checkpoint (or the one at ``block``)."""
        return int(self.call("eventCount", block=block))

    def event(self, event_id: int) -> CreditEventRecord:
        """Event ``event_id``; CreditLedgerUnknownEvent when there is none."""
        values: dict[str, Any] = dict(self.call("creditEvent", event_id))
        values["category"] = CreditCategory(values["category"])
        values["status"] = CreditEventStatus(values["status"])
        return record(CreditEventRecord, values, event_id=event_id)

    def dispute_of(self, event_id: int) -> CreditDispute:
        """The dispute of ``event_id``; CreditLedgerUnknownEvent when the event does not exist."""
        return record(CreditDispute, self.call("disputeOf", event_id), event_id=event_id)

    def subject_event_ids(self, subject_ref: bytes) -> list[int]:
        """Ids of every event about ``subject_ref`` (corrections included), oldest first."""
        count = int(self.call("subjectEventCount", subject_ref))
        return [int(self.call("subjectEventAt", subject_ref, i)) for i in range(count)]

    def events_of(self, subject_ref: bytes) -> list[CreditEventRecord]:
        """Every event about ``subject_ref``, oldest first."""
        return [self.event(i) for i in self.subject_event_ids(subject_ref)]

    def all_events(self, *, upto: int | None = None) -> Iterator[CreditEventRecord]:
        """Events 1..``upto`` (default: all), in id order."""
        last = self.event_count() if upto is None else upto
        for event_id in range(1, last + 1):
            yield self.event(event_id)
