"""E-certificates through the exchange: registration, status lists, consents and verified look-ups."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from api_support import World, make_uscc
from certificates_support import STATUS_BASE, Market
from sqlalchemy import select

from exchange_api.client import ApiProblem
from exchange_api.models import Event


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


@pytest.fixture
def market(world: World) -> Market:
    """A certificate-issuing department with its status lists published at the exchange."""
    return Market(world)


def _consent(world: World, subject: str, verifier: str, days: float = 30) -> dict[str, Any]:
    body = {
        "verifier_org_id": world[verifier].org_id,
        "purpose": "信易贷贷前核验营业执照",
        "expires_at": (world.clock() + dt.timedelta(days=days)).isoformat(),
    }
    consent: dict[str, Any] = world[subject].client.post("/certificates/consents", body)
    return consent


def _lookup(world: World, verifier: str, uscc: str, consent_id: str) -> Any:
    return world[verifier].client.post("/certificates/lookups", {"uscc": uscc, "consent_id": consent_id})


def _kinds(world: World) -> list[str]:
    with world.app.state.sessions() as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_cert_lookup_with_consent_returns_verified_certificates(world: World, market: Market) -> None:
    """A verifier with the subject's consent gets the subject's licence verified on every check."""
    firm = world["logistics"]
    issued = market.licence(firm.uscc)
    consent = _consent(world, "logistics", "bank")
    assert consent["kind"] == "consent" and consent["subject_uscc"] == firm.uscc
    result = _lookup(world, "bank", firm.uscc, consent["id"])
    assert [c["id"] for c in result["certificates"]] == [issued.credential["id"]]
    found = result["certificates"][0]
    assert found["status"] == "active" and found["ok"] is True
    assert {k: v["outcome"] for k, v in found["checks"].items()} == {
        "proof": "pass",
        "schema": "pass",
        "validity": "pass",
        "status": "pass",
        "anchor": "not_applicable",
    }
    assert found["credential"] == issued.credential
    kinds = _kinds(world)
    for kind in (
        "certificate.status_list_published",
        "certificate.issued",
        "certificate.consent_given",
        "certificate.looked_up",
    ):
        assert kind in kinds


def test_cert_lookup_without_consent_is_refused(world: World, market: Market) -> None:
    """Without a consent naming the caller and the subject, a look-up is 403 whatever exists."""
    firm = world["logistics"]
    market.licence(firm.uscc)
    unknown = _problem(lambda: _lookup(world, "bank", firm.uscc, "cns_unknown"))
    someone_elses = _consent(world, "logistics", "dept_b")
    not_mine = _problem(lambda: _lookup(world, "bank", firm.uscc, someone_elses["id"]))
    nobody = _problem(lambda: _lookup(world, "bank", make_uscc(77), "cns_unknown"))
    for problem in (unknown, not_mine, nobody):
        assert (problem.status, problem.code) == (403, "certificate.no_consent")
    assert unknown.problem["detail"] == nobody.problem["detail"] == not_mine.problem["detail"]


def test_cert_lookup_with_expired_or_withdrawn_consent_is_refused(world: World, market: Market) -> None:
    """An expired consent, and a withdrawn one, no longer let the verifier look the subject up."""
    firm = world["logistics"]
    market.licence(firm.uscc)
    short = _consent(world, "logistics", "bank", days=1)
    withdrawn = _consent(world, "logistics", "bank", days=30)
    firm.client.post(f"/certificates/consents/{withdrawn['id']}/revoke", {})
    refused = _problem(lambda: _lookup(world, "bank", firm.uscc, withdrawn["id"]))
    assert (refused.status, refused.code) == (403, "certificate.no_consent")
    assert _lookup(world, "bank", firm.uscc, short["id"])["certificates"]
    world.clock.advance(days=2)
    expired = _problem(lambda: _lookup(world, "bank", firm.uscc, short["id"]))
    assert (expired.status, expired.code) == (403, "certificate.no_consent")


def test_cert_bureau_grant_allows_lookup(world: World, market: Market) -> None:
    """The bureau's grant with a legal basis stands in for the subject's consent."""
    firm = world["logistics"]
    market.licence(firm.uscc)
    grant = world["bureau"].client.post(
        "/certificates/consents",
        {
            "verifier_org_id": world["dept_b"].org_id,
            "purpose": "双随机抽查",
            "expires_at": (world.clock() + dt.timedelta(days=10)).isoformat(),
            "subject_uscc": firm.uscc,
            "legal_basis": "《优化营商环境条例》第三十五条",
        },
    )
    assert grant["kind"] == "grant"
    assert len(_lookup(world, "dept_b", firm.uscc, grant["id"])["certificates"]) == 1


def test_cert_consent_is_hidden_from_third_parties(world: World) -> None:
    """A consent is 404 for an organisation that is neither its subject, its verifier nor an overseer."""
    consent = _consent(world, "logistics", "bank")
    missing = _problem(lambda: world["dept_a"].client.call("GET", f"/certificates/consents/{consent['id']}"))
    assert (missing.status, missing.code) == (404, "exchange.not_found")
    assert world["bank"].client.call("GET", f"/certificates/consents/{consent['id']}")["id"] == consent["id"]


def test_cert_tampered_credential_is_rejected_at_registration(world: World, market: Market) -> None:
    """A credential changed after signing fails its proof and is not stored."""
    issued = market.issuer.issue(
        "business-licence",
        {
            "uscc": world["logistics"].uscc,
            "name": "某某物流有限公司",
            "entityType": "有限责任公司",
            "legalRepresentative": "张三",
            "establishedOn": "2020-05-01",
            "operatingPeriodFrom": "2020-05-01",
            "operatingPeriodUntil": "长期",
            "domicile": "某市某区某路1号",
            "businessScope": "道路普通货物运输",
            "registrationAuthority": "某市市场监督管理局",
        },
    )
    tampered = copy.deepcopy(issued.credential)
    tampered["credentialSubject"]["businessScope"] = "危险化学品运输"
    problem = _problem(lambda: market.client.post("/certificates", {"credential": tampered}))
    assert (problem.status, problem.code) == (422, "certificate.invalid")
    assert "proof" in problem.problem["detail"]
    consent = _consent(world, "logistics", "bank")
    assert _lookup(world, "bank", world["logistics"].uscc, consent["id"])["certificates"] == []


def test_cert_registration_needs_the_cert_issuer_capability(world: World, market: Market) -> None:
    """A department admitted without CERT_ISSUER cannot register certificates."""
    issued = market.licence(world["logistics"].uscc)
    problem = _problem(
        lambda: world["dept_a"].client.post("/certificates", {"credential": issued.credential})
    )
    assert (problem.status, problem.code) == (403, "certificate.not_issuer")


def test_cert_suspended_certificate_is_shown_as_suspended(world: World, market: Market) -> None:
    """After the issuer publishes a suspension, the look-up reports the certificate suspended, not ok."""
    firm = world["logistics"]
    issued = market.licence(firm.uscc)
    change = market.issuer.suspend(issued.credential, "责令停业整顿")
    published = market.client.post(
        "/certificates/status",
        {
            "status_lists": [u.credential for u in change.list_updates],
            "changes": [
                {"credential_id": issued.credential["id"], "status": "suspended", "reason": "责令停业整顿"}
            ],
        },
    )
    assert [s["version"] for s in published["status_lists"]] == [2]
    consent = _consent(world, "logistics", "bank")
    found = _lookup(world, "bank", firm.uscc, consent["id"])["certificates"][0]
    assert found["status"] == "suspended" and found["ok"] is False
    assert found["checks"]["status"]["code"] == "credentials.status.suspended"
    assert found["checks"]["proof"]["outcome"] == "pass"
    assert "certificate.suspended" in _kinds(world)


def test_cert_status_change_must_match_the_lists(world: World, market: Market) -> None:
    """A stated revocation the published lists do not show is refused."""
    issued = market.licence(world["logistics"].uscc)
    change = market.issuer.suspend(issued.credential, "核查中")
    problem = _problem(
        lambda: market.client.post(
            "/certificates/status",
            {
                "status_lists": [u.credential for u in change.list_updates],
                "changes": [
                    {"credential_id": issued.credential["id"], "status": "revoked", "reason": "吊销"}
                ],
            },
        )
    )
    assert (problem.status, problem.code) == (422, "certificate.status_mismatch")


def test_cert_status_list_is_served_publicly(world: World, market: Market) -> None:
    """The latest signed status list is served unsigned where the credentials point; unknown ones 404."""
    issued = market.licence(world["logistics"].uscc)
    url = STATUS_BASE + "/suspension"
    assert url in {e["statusListCredential"] for e in issued.credential["credentialStatus"]}
    first = world.http.get("/status-lists/market/suspension")
    assert first.status_code == 200 and first.json() == market.issuer.status_list_credential("suspension")
    change = market.issuer.suspend(issued.credential, "核查中")
    market.client.post("/certificates/status", {"status_lists": [u.credential for u in change.list_updates]})
    second = world.http.get("/status-lists/market/suspension")
    assert second.json() == change.list_updates[0].credential != first.json()
    missing = world.http.get("/status-lists/market/unknown")
    assert (missing.status_code, missing.json()["code"]) == (404, "exchange.not_found")
