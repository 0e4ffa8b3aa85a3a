"""The subject's own view: its certificates verified now and the credit attestations about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_support import World
from certificates_support import CreditCentre, Market, event_kinds

from exchange_api.client import ApiProblem


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


def _held(world: World, name: str) -> dict[str, Any]:
    found: dict[str, Any] = world[name].client.call("GET", "/certificates/held")
    return found


def test_held_certificates_lists_the_subjects_licence_as_valid(world: World) -> None:
    """The enterprise sees its registered licence, verified on every check, with status valid."""
    market = Market(world)
    firm = world["logistics"]
    issued = market.licence(firm.uscc)
    held = _held(world, "logistics")
    assert held["uscc"] == firm.uscc
    assert [c["id"] for c in held["certificates"]] == [issued.credential["id"]]
    cert = held["certificates"][0]
    assert (cert["status"], cert["ok"], cert["anchor"]) == ("valid", True, "not_applicable")
    assert cert["types"] == issued.credential["type"]
    assert cert["issuer_org_id"] == market.org_id
    assert cert["issuer_name"] == "某市市场监督管理局"
    assert cert["valid_from"] == issued.credential["validFrom"]
    assert cert["checks"]["status"]["outcome"] == "pass"


def test_held_certificate_shows_suspended_after_suspension(world: World) -> None:
    """After the issuer publishes a suspension, the subject's own view says suspended, not ok."""
    market = Market(world)
    issued = market.licence(world["logistics"].uscc)
    market.suspend(issued)
    cert = _held(world, "logistics")["certificates"][0]
    assert (cert["status"], cert["ok"]) == ("suspended", False)
    assert cert["checks"]["status"]["code"] == "credentials.status.suspended"


def test_held_certificate_shows_expired_after_its_validity(world: World) -> None:
    """A food permit read after its five years is expired."""
    market = Market(world)
    firm = world["logistics"]
    issued = market.issuer.issue(
        "food-operation-permit",
        {
            "permitNumber": "JY13101010000001",
            "uscc": firm.uscc,
            "operatorName": "某某餐饮有限公司",
            "legalRepresentative": "李四",
            "domicile": "某市某区某路2号",
            "premises": "某市某区某路2号一层",
            "businessFormat": "餐饮服务经营者",
            "operatingItems": ["热食类食品制售"],
            "supervisoryAuthority": "某市市场监督管理局",
            "issuingAuthority": "某市市场监督管理局",
            "complaintHotline": "12315",
        },
    )
    market.client.post("/certificates", {"credential": issued.credential})
    world.clock.advance(days=5 * 366 + 1)
    cert = _held(world, "logistics")["certificates"][0]
    assert (cert["status"], cert["ok"]) == ("expired", False)
    assert cert["checks"]["validity"]["code"] == "credentials.validity.expired"


def test_held_certificates_are_only_the_callers(world: World) -> None:
    """Another enterprise sees none of the logistics company's certificates, and it sees its own only."""
    market = Market(world)
    mine = market.licence(world["logistics"].uscc)
    theirs = market.licence(world["bank"].uscc)
    assert [c["id"] for c in _held(world, "logistics")["certificates"]] == [mine.credential["id"]]
    assert [c["id"] for c in _held(world, "bank")["certificates"]] == [theirs.credential["id"]]
    assert _held(world, "dept_a")["certificates"] == []


def test_reading_ones_own_certificates_writes_no_lookup_event(world: World) -> None:
    """The subject's own read needs no consent and leaves no look-up (or any other) audit entry."""
    market = Market(world)
    market.licence(world["logistics"].uscc)
    before = event_kinds(world)
    _held(world, "logistics")
    world["logistics"].client.call("GET", "/credit/attestations/held")
    after = event_kinds(world)
    assert after == before
    assert "certificate.looked_up" not in after


def test_held_views_are_refused_to_the_bureau_and_auditors(world: World) -> None:
    """Only enterprises and departments are subjects: the bureau and an auditor get 403."""
    for name in ("bureau", "auditor"):
        for path in ("/certificates/held", "/credit/attestations/held"):
            problem = _problem(lambda path=path, name=name: world[name].client.call("GET", path))
            assert (problem.status, problem.code) == (403, "auth.forbidden")


def test_held_views_need_a_signature(world: World) -> None:
    """An unsigned request for one's certificates is 401."""
    for path in ("/certificates/held", "/credit/attestations/held"):
        response = world.http.get(path)
        assert (response.status_code, response.json()["code"]) == (401, "auth.missing_signature")


def test_held_attestations_list_those_about_the_caller(world: World) -> None:
    """The enterprise sees the attestation about it with threshold, attester, validity and presenter."""
    centre = CreditCentre(world)
    firm = world["logistics"]
    doc = centre.attest(firm.uscc, threshold=650, audience="did:web:bank.example")
    centre.attest(world["bank"].uscc, threshold=600)
    held = world["logistics"].client.call("GET", "/credit/attestations/held")
    assert held["uscc"] == firm.uscc
    assert [a["id"] for a in held["attestations"]] == [doc["id"]]
    found = held["attestations"][0]
    assert found["score_at_least"] == 650
    assert found["model"] == doc["credentialSubject"]["model"]
    assert (found["attester"], found["attester_name"]) == (doc["issuer"]["id"], "信用中心")
    assert found["presented_by"] == centre.org_id
    assert found["audience"] == "did:web:bank.example"
    assert found["status"] == "valid"
    world.clock.advance(days=31)
    later = world["logistics"].client.call("GET", "/credit/attestations/held")
    assert later["attestations"][0]["status"] == "expired"


def test_registering_an_attestation_twice_keeps_one(world: World) -> None:
    """The same attestation registered again is answered from the store with no second audit entry."""
    centre = CreditCentre(world)
    doc = centre.attest(world["logistics"].uscc)
    again = centre.client.post("/credit/attestations", {"attestation": doc})
    assert again["record"]["attestation"] == doc["id"]
    assert event_kinds(world).count("tdex.credit.attested") == 1
    held = world["logistics"].client.call("GET", "/credit/attestations/held")
    assert len(held["attestations"]) == 1
