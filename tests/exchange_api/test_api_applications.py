"""The application and grant workflow over HTTP, with ownership and idempotency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from api_support import TEMPLATE, TEMPLATE_2, World, application, entry

from exchange_api._crypto import record_hash
from exchange_api.client import ApiProblem


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


def _approval(world: World, days: int = 30, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expires_at": (world.clock() + dt.timedelta(days=days)).isoformat(),
        "max_uses": 10,
        "privacy_budget": "1.5",
    }
    body.update(changes)
    return body


@pytest.fixture
def conditional(world: World) -> dict[str, Any]:
    """A conditional resource of dept_a and the bank's pending application for it."""
    world["dept_a"].client.register(
        entry(
            items=[
                {"name": "企业名称", "data_type": "string"},
                {"name": "注册资本", "data_type": "decimal"},
            ]
        )
    )
    return world["bank"].client.apply(application(templates=[TEMPLATE, TEMPLATE_2]))


def test_conditional_application_waits_with_deadlines(world: World, conditional: dict[str, Any]) -> None:
    """A conditional application is submitted with review and answer deadlines and is not overdue."""
    assert conditional["state"] == "submitted" and not conditional["terminal"]
    assert conditional["review_due"] < conditional["answer_due"]
    assert conditional["overdue"] is False and conditional["grant_id"] is None


def test_approval_issues_a_grant_usable_only_once_anchored(world: World, conditional: dict[str, Any]) -> None:
    """Approval creates an ODRL Agreement grant that is `pending_anchor` until the relay confirms it."""
    dept = world["dept_a"].client
    assert dept.review(conditional["id"])["state"] == "under_review"
    approved = dept.approve(conditional["id"], _approval(world, templates=[TEMPLATE]))
    assert approved["state"] == "approved" and approved["terminal"]
    grant = world["bank"].client.grant(approved["grant_id"])
    assert grant["status"] == "pending_anchor" and grant["usable"] is False
    assert grant["agreement"]["@type"] == "Agreement"
    assert grant["agreement_hash"] == record_hash(grant["agreement"])
    assert grant["templates"] == [TEMPLATE]
    problem = _problem(lambda: world["bank"].client.call("GET", f"/grants/{grant['id']}/usable"))
    assert (problem.status, problem.code) == (409, "grant.not_usable")
    world.relay.drain()
    usable = world["bank"].client.call("GET", f"/grants/{grant['id']}/usable")
    assert usable["status"] == "active" and usable["anchor"]["status"] == "anchored"
    approve_tx = next(e for e in world.chain.effects if e["kind"] == "grants.approve")
    assert approve_tx["payload"]["agreement_hash"] == grant["agreement_hash"]
    assert approve_tx["inputs"]["chain_application_id"] == 1


def test_rejection_stores_its_reason(world: World, conditional: dict[str, Any]) -> None:
    """A rejection is terminal and keeps the provider's reason."""
    rejected = world["dept_a"].client.reject(conditional["id"], "申请用途与共享条件不符")
    assert (rejected["state"], rejected["reason"]) == ("rejected", "申请用途与共享条件不符")
    problem = _problem(lambda: world["dept_a"].client.approve(conditional["id"], _approval(world)))
    assert (problem.status, problem.code) == (409, "workflow.invalid_transition")


def test_applicant_withdraws(world: World, conditional: dict[str, Any]) -> None:
    """The applicant withdraws its pending application; nobody else can."""
    problem = _problem(lambda: world["dept_a"].client.withdraw_application(conditional["id"]))
    assert (problem.status, problem.code) == (403, "application.not_applicant")
    withdrawn = world["bank"].client.withdraw_application(conditional["id"], "需求变更")
    assert (withdrawn["state"], withdrawn["reason"]) == ("withdrawn", "需求变更")


def test_unconditional_is_granted_at_once(world: World) -> None:
    """An unconditional resource is granted on application; the grant is usable after its anchor."""
    world["dept_b"].client.register(entry("201002/000001", share_type="unconditional", share_conditions=None))
    app = world["bank"].client.apply(application("201002/000001"))
    assert app["state"] == "approved" and app["grant_id"]
    assert world["bank"].client.grant(app["grant_id"])["status"] == "pending_anchor"
    world.relay.drain()
    assert world["bank"].client.grant(app["grant_id"])["usable"] is True


def test_not_shareable_is_refused_with_its_basis(world: World) -> None:
    """A not-shareable resource is refused at once with its stated basis; nothing goes on chain."""
    world["dept_b"].client.register(
        entry(
            "201002/000002",
            share_type="not_shareable",
            share_conditions="《统计法》第二十五条",
            share_methods=[],
        )
    )
    app = world["bank"].client.apply(application("201002/000002"))
    assert app["state"] == "refused" and "《统计法》第二十五条" in app["reason"]
    assert app["anchor"]["status"] == "none"


def test_application_validation(world: World, conditional: dict[str, Any]) -> None:
    """Unknown items, own resources and bad approvals are refused with their codes."""
    problem = _problem(lambda: world["logistics"].client.apply(application(requested_items=["身份证号"])))
    assert (problem.status, problem.code) == (422, "application.invalid")
    problem = _problem(lambda: world["dept_a"].client.apply(application()))
    assert (problem.status, problem.code) == (422, "application.own_resource")
    problem = _problem(lambda: world["logistics"].client.apply(application(templates=["0x12"])))
    assert (problem.status, problem.code) == (422, "exchange.invalid_input")
    problem = _problem(lambda: world["logistics"].client.apply(application("301001/424242")))
    assert (problem.status, problem.code) == (404, "exchange.not_found")
    dept = world["dept_a"].client
    problem = _problem(lambda: dept.approve(conditional["id"], _approval(world, days=400)))
    assert (problem.status, problem.code) == (422, "application.invalid_approval")
    problem = _problem(
        lambda: dept.approve(conditional["id"], _approval(world, templates=["0x" + "ee" * 32]))
    )
    assert (problem.status, problem.code) == (422, "application.invalid_approval")
    problem = _problem(lambda: dept.approve(conditional["id"], _approval(world, days=-1)))
    assert (problem.status, problem.code) == (422, "application.invalid_approval")
    problem = _problem(lambda: dept.approve(conditional["id"], _approval(world, max_uses=0)))
    assert (problem.status, problem.code) == (422, "exchange.invalid_input")


def test_cross_org_access_is_refused_without_leaks(world: World, conditional: dict[str, Any]) -> None:
    """Outsiders see neither the application nor its grant: 404, as for a missing one."""
    app_id = conditional["id"]
    for outsider in ("logistics", "dept_b"):
        client = world[outsider].client
        problem = _problem(lambda c=client: c.application(app_id))  # type: ignore[misc]
        assert (problem.status, problem.code) == (404, "exchange.not_found")
        problem = _problem(lambda c=client: c.approve(app_id, _approval(world)))  # type: ignore[misc]
        assert problem.status == 404
        problem = _problem(lambda c=client: c.withdraw_application(app_id))  # type: ignore[misc]
        assert problem.status == 404
        problem = _problem(lambda c=client: c.review(app_id))  # type: ignore[misc]
        assert problem.status == 404
        problem = _problem(lambda c=client: c.reject(app_id, "x"))  # type: ignore[misc]
        assert problem.status == 404
        assert app_id not in [a["id"] for a in client.applications()["items"]]
    problem = _problem(lambda: world["bank"].client.approve(app_id, _approval(world)))
    assert (problem.status, problem.code) == (403, "application.not_provider")
    approved = world["dept_a"].client.approve(app_id, _approval(world))
    grant_id = approved["grant_id"]
    for outsider in ("logistics", "dept_b"):
        client = world[outsider].client
        problem = _problem(lambda c=client: c.grant(grant_id))  # type: ignore[misc]
        assert (problem.status, problem.code) == (404, "exchange.not_found")
        problem = _problem(lambda c=client: c.revoke(grant_id, "x"))  # type: ignore[misc]
        assert problem.status == 404
        problem = _problem(lambda c=client: c.call("GET", f"/grants/{grant_id}/usable"))  # type: ignore[misc]
        assert problem.status == 404
        assert client.call("GET", "/grants")["items"] == []
    problem = _problem(lambda: world["bank"].client.revoke(grant_id, "x"))
    assert (problem.status, problem.code) == (403, "grant.not_provider")
    assert world["auditor"].client.application(app_id)["id"] == app_id
    assert world["auditor"].client.grant(grant_id)["id"] == grant_id


def test_revocation_goes_on_chain(world: World, conditional: dict[str, Any]) -> None:
    """A revoked grant stops being usable and its revocation is anchored after the grant."""
    approved = world["dept_a"].client.approve(conditional["id"], _approval(world))
    world.relay.drain()
    revoked = world["dept_a"].client.revoke(approved["grant_id"], "发现超范围使用")
    assert revoked["status"] == "revoked" and revoked["usable"] is False
    problem = _problem(lambda: world["dept_a"].client.revoke(approved["grant_id"], "again"))
    assert (problem.status, problem.code) == (409, "workflow.invalid_transition")
    world.relay.drain()
    kinds = [e["kind"] for e in world.chain.effects if e["kind"].startswith("grants.")]
    assert kinds == ["grants.apply", "grants.approve", "grants.revoke"]
    assert world["bank"].client.grant(approved["grant_id"])["revoke_anchor"]["status"] == "anchored"


def test_overdue_applications_are_listed(world: World, conditional: dict[str, Any]) -> None:
    """Past its deadlines a pending application shows as overdue and is listed by `overdue=true`."""
    dept = world["dept_a"].client
    assert dept.applications(overdue="true")["items"] == []
    world.clock.advance(days=20)
    late = dept.applications(overdue="true", **{"as": "provider"})["items"]
    assert [a["id"] for a in late] == [conditional["id"]]
    assert late[0]["overdue"] is True
    assert dept.application(conditional["id"])["overdue"] is True


def test_listing_pages(world: World) -> None:
    """Applications list newest first in pages with a `Link` header."""
    world["dept_b"].client.register(entry("201002/000001", share_type="unconditional", share_conditions=None))
    ids = [world["bank"].client.apply(application("201002/000001"))["id"] for _ in range(3)]
    first = world["bank"].client.request("GET", "/applications", params={"limit": 2})
    assert 'rel="next"' in first.headers["link"]
    rest = world["bank"].client.applications(limit=2, cursor=first.json()["next_cursor"])
    assert [a["id"] for a in first.json()["items"] + rest["items"]] == sorted(ids, reverse=True)


def test_idempotency_key(world: World, conditional: dict[str, Any]) -> None:
    """The same key and body return the first result; the same key with another body is 422."""
    dept = world["dept_a"].client
    key = "approve-once"
    body = _approval(world)
    first = dept.request(
        "POST", f"/applications/{conditional['id']}/approve", json_body=body, idempotency_key=key
    )
    again = dept.request(
        "POST", f"/applications/{conditional['id']}/approve", json_body=body, idempotency_key=key
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = dept.request(
        "POST",
        f"/applications/{conditional['id']}/approve",
        json_body={**body, "max_uses": 11},
        idempotency_key=key,
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"
    world.relay.drain()
    assert [e["kind"] for e in world.chain.effects].count("grants.approve") == 1


def test_reasons_and_bodies_are_validated(world: World, conditional: dict[str, Any]) -> None:
    """An empty reason, a missing field or an unknown one is a field error with its location."""
    dept, bank = world["dept_a"].client, world["bank"].client
    for call, loc in [
        (lambda: dept.reject(conditional["id"], ""), "/body/reason"),
        (
            lambda: dept.post(f"/applications/{conditional['id']}/approve", {"max_uses": 1}),
            "/body/expires_at",
        ),
        (lambda: bank.post("/applications", {**application(), "surprise": 1}), "/body/surprise"),
        (lambda: dept.revoke("grt_missing", ""), "/body/reason"),
        (lambda: bank.post("/applications", application(duration_days=0)), "/body/duration_days"),
    ]:
        problem = _problem(call)
        assert (problem.status, problem.code) == (422, "exchange.invalid_input")
        assert loc in [e["loc"] for e in problem.problem["errors"]]


def test_system_views_need_oversight(world: World) -> None:
    """Only the bureau and auditors see the outbox and the chain discrepancies."""
    for name in ("bank", "dept_a"):
        problem = _problem(lambda n=name: world[n].client.call("GET", "/outbox"))  # type: ignore[misc]
        assert (problem.status, problem.code) == (403, "auth.forbidden")
    assert isinstance(world["bureau"].client.call("GET", "/outbox"), list)
