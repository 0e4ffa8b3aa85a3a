"""The minimum credit grade of conditional applications, and credit attestations, through the exchange."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from api_support import World, application, entry, make_uscc
from sqlalchemy import select

from credentials import CreditCategory, CreditEvent, attest_threshold, compute_score
from exchange_api.client import ApiProblem
from exchange_api.models import Event
from keys import SigningKey

DAY = 86_400


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


class FakeCreditReader:
    """A CreditReader holding events per USCC (the production one reads the CreditLedger)."""

    def __init__(self) -> None:
        self.events: dict[bytes, list[CreditEvent]] = {}

    def subject_ref(self, uscc: str) -> bytes:
        """A stand-in for the keyed subject reference."""
        return hashlib.sha256(uscc.encode()).digest()

    def events_of(self, subject_ref: bytes) -> Sequence[CreditEvent]:
        """The subject's events."""
        return self.events.get(subject_ref, [])

    def penalise(self, uscc: str, weight: int, at: dt.datetime) -> None:
        """Record an administrative penalty of `weight` effective a day before `at`."""
        ref = self.subject_ref(uscc)
        when = int(at.timestamp()) - DAY
        mine = self.events.setdefault(ref, [])
        mine.append(
            CreditEvent(
                len(mine) + 1,
                ref,
                CreditCategory.ADMINISTRATIVE_PENALTY,
                weight,
                b"\x01" * 32,
                "0x" + "11" * 20,
                when,
                0,
                when,
            )
        )


@pytest.fixture
def reader(world: World) -> FakeCreditReader:
    """A fake credit source installed on the app; dept_a's conditional resource requires grade B."""
    fake = FakeCreditReader()
    world.app.state.credit_reader = fake
    world["dept_a"].client.register(entry())
    world["dept_a"].client.post("/credit/requirements", {"resource_code": "301001/000001", "min_grade": "B"})
    return fake


def _kinds_and_records(world: World, kind: str) -> list[dict[str, Any]]:
    with world.app.state.sessions() as session:
        return list(session.scalars(select(Event.record).where(Event.kind == kind)))


def test_credit_gate_refuses_an_applicant_below_the_grade(world: World, reader: FakeCreditReader) -> None:
    """A grade-D applicant is refused at once, the reason and its code recorded."""
    reader.penalise(world["bank"].uscc, -200, world.clock())
    app = world["bank"].client.apply(application())
    assert app["state"] == "refused" and app["terminal"] is True
    assert app["reason"].startswith("application.credit_too_low: ")
    assert "grade D" in app["reason"] and "required B" in app["reason"]
    (record,) = _kinds_and_records(world, "application.refused")
    assert record["code"] == "application.credit_too_low"
    assert (record["grade"], record["required"], record["score"]) == ("D", "B", 500)
    assert world["bank"].client.application(app["id"])["reason"] == app["reason"]


def test_credit_gate_admits_an_applicant_at_the_grade(world: World, reader: FakeCreditReader) -> None:
    """An applicant with no negative events (700, grade B) waits for review as usual."""
    app = world["bank"].client.apply(application())
    assert app["state"] == "submitted" and app["reason"] is None
    assert _kinds_and_records(world, "application.refused") == []


def test_credit_gate_does_not_apply_without_a_requirement(world: World) -> None:
    """A resource without a credit requirement takes applications even with no credit source."""
    world["dept_a"].client.register(entry())
    assert world["bank"].client.apply(application())["state"] == "submitted"


def test_credit_gate_without_a_credit_source_refuses_to_decide(world: World) -> None:
    """With a requirement but no credit source configured, applying is 409 and nothing is stored."""
    world["dept_a"].client.register(entry())
    world["dept_a"].client.post("/credit/requirements", {"resource_code": "301001/000001", "min_grade": "C"})
    problem = _problem(lambda: world["bank"].client.apply(application()))
    assert (problem.status, problem.code) == (409, "application.credit_unavailable")
    assert world["bank"].client.applications()["items"] == []


def test_credit_requirement_is_set_only_by_the_provider(world: World) -> None:
    """Another department cannot set a resource's credit requirement."""
    world["dept_a"].client.register(entry())
    problem = _problem(
        lambda: world["dept_b"].client.post(
            "/credit/requirements", {"resource_code": "301001/000001", "min_grade": "A"}
        )
    )
    assert (problem.status, problem.code) == (403, "catalog.not_provider")


def test_credit_attestation_is_recorded_as_an_audit_event(world: World) -> None:
    """A threshold attestation signed by the caller is verified and recorded; a forged one is refused."""
    key = SigningKey.generate()
    world["bureau"].client.admit(
        {
            "name": "信用中心",
            "uscc": make_uscc(91),
            "role": "DEPARTMENT",
            "capabilities": ["CREDIT_RECORDER"],
            "public_keys": [key.verify_key.did],
        }
    )
    centre = world.client_for(key)
    uscc = world["logistics"].uscc
    ref = hashlib.sha256(uscc.encode()).digest()
    score = compute_score([], ref, as_of=int(world.clock().timestamp()))
    doc = attest_threshold(key, score, uscc=uscc, threshold=650, attester_name="信用中心", now=world.clock())
    recorded = centre.post("/credit/attestations", {"attestation": doc})
    assert recorded["record"]["attestation"] == doc["id"]
    assert "score" not in recorded["record"]
    assert len(_kinds_and_records(world, "tdex.credit.attested")) == 1
    forged = dict(doc, validUntil="2099-01-01T00:00:00Z")
    problem = _problem(lambda: centre.post("/credit/attestations", {"attestation": forged}))
    assert (problem.status, problem.code) == (422, "credit.invalid_attestation")
    other = _problem(lambda: world["dept_a"].client.post("/credit/attestations", {"attestation": doc}))
    assert (other.status, other.code) == (422, "credit.invalid_attestation")
