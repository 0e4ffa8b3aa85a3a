"""The enterprise workspace: applications with withdraw, grants with what is left, jobs, charts, roles."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from api_support import TEMPLATE, World, application, entry
from console_support import csrf_of, sign_in

from exchange_api.console.workspace import grant_usage
from exchange_api.models_jobs import Job, JobPart
from exchange_api.schemas.applications import GrantPublic
from exchange_api.schemas.jobs import JobPublic


def _granted(world: World, enterprise: str = "bank", code: str = "301001/000001") -> dict[str, Any]:
    """dept_a registers `code`, `enterprise` applies, dept_a approves (10 uses, ε 1.5); anchored."""
    dept = world["dept_a"].client
    dept.register(entry(code))
    app = world[enterprise].client.apply(application(code, templates=[TEMPLATE]))
    decision = {
        "expires_at": (world.clock() + dt.timedelta(days=30, hours=2)).isoformat(),
        "max_uses": 10,
        "privacy_budget": "1.5",
        "templates": [TEMPLATE],
    }
    approved = dept.approve(app["id"], decision)
    world.relay.drain()
    return approved


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-testid="grant-row".*?</tr>', page, flags=re.S)


def test_workspace_shows_a_grant_with_what_is_left(world: World) -> None:
    """A usable grant is a grant-row with its uses, budget and time left."""
    approved = _granted(world)
    page = sign_in(world.http, world["bank"].key, "/console/workspace?lang=en")
    rows = _rows(page)
    assert len(rows) == 1
    row = rows[0]
    assert approved["grant_id"] in row
    assert 'data-testid="grant-uses">10 of 10<' in row
    assert "ε 1.5 of 1.5" in row
    assert "usable" in row
    assert "30 d 1 h left" in row or "30 d 2 h left" in row


def test_other_enterprises_grants_never_appear(world: World) -> None:
    """The bank's grant is not on the logistics company's workspace, nor the reverse."""
    bank = _granted(world, "bank", "301001/000001")
    logistics = _granted(world, "logistics", "301001/000002")
    page = sign_in(world.http, world["logistics"].key, "/console/workspace")
    assert logistics["grant_id"] in page
    assert bank["grant_id"] not in page
    assert len(_rows(page)) == 1


def test_withdraw_a_pending_application(world: World) -> None:
    """Withdrawing from the workspace moves the application to withdrawn and says so."""
    world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application(templates=[TEMPLATE]))
    page = sign_in(world.http, world["bank"].key, "/console/workspace?lang=en")
    assert 'data-testid="withdraw-form"' in page
    forged = world.http.post(f"/console/workspace/applications/{app['id']}/withdraw", data={"csrf": "x"})
    assert forged.status_code == 403 and "console.csrf" in forged.text
    done = world.http.post(
        f"/console/workspace/applications/{app['id']}/withdraw",
        data={"csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/workspace?notice=withdrawn"
    after = world.http.get(done.headers["location"])
    assert 'data-testid="notice"' in after.text and "withdrawn" in after.text
    assert world["bank"].client.call("GET", f"/applications/{app['id']}")["state"] == "withdrawn"
    assert 'data-testid="withdraw-form"' not in after.text


def test_withdrawing_someone_elses_application_is_refused(world: World) -> None:
    """The service's rule applies: another enterprise gets the same 404 as for a missing application."""
    world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application(templates=[TEMPLATE]))
    page = sign_in(world.http, world["logistics"].key, "/console/workspace")
    response = world.http.post(
        f"/console/workspace/applications/{app['id']}/withdraw", data={"csrf": csrf_of(page)}
    )
    assert response.status_code == 404 and 'data-testid="problem"' in response.text


def test_a_department_gets_403_on_the_workspace(world: World) -> None:
    """The workspace is for enterprises only."""
    sign_in(world.http, world["dept_a"].key)
    response = world.http.get("/console/workspace")
    assert response.status_code == 403 and "console.wrong_role" in response.text


def test_the_applied_notice_is_shown_in_both_languages(world: World) -> None:
    """The catalogue's apply form lands here with ?notice=applied."""
    sign_in(world.http, world["bank"].key)
    zh = world.http.get("/console/workspace?notice=applied&lang=zh-CN")
    en = world.http.get("/console/workspace?notice=applied&lang=en")
    assert zh.status_code == en.status_code == 200
    assert "申请已提交" in zh.text and "application was submitted" in en.text


def _grant(grant_id: str, max_uses: int = 10, budget: str = "1.0") -> GrantPublic:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    anchor = {"status": "anchored", "tx_hash": None, "block_number": None, "attempts": 0, "last_error": None}
    return GrantPublic.model_validate(
        {
            "id": grant_id,
            "application_id": "app_1",
            "resource_code": "301001/000001",
            "grantee_org_id": "o_bank",
            "provider_org_id": "o_dept",
            "status": "active",
            "usable": True,
            "agreement": {},
            "agreement_hash": "0x" + "00" * 32,
            "expires_at": now + dt.timedelta(days=30),
            "max_uses": max_uses,
            "privacy_budget": budget,
            "templates": [],
            "created_at": now,
            "revoked_at": None,
            "revoke_reason": None,
            "anchor": anchor,
            "revoke_anchor": anchor,
        }
    )


def _job(job_id: str, grant_id: str, time: str, spent: int, uses_left: int, budget_left: int) -> JobPublic:
    payload = {
        "time": time,
        "privacy": {"epsilon": spent / 1e6, "rho": 0.0, "budget_spent_micro": spent},
        "chain_use": {"uses_left": uses_left, "budget_left_micro": budget_left},
    }
    return JobPublic.model_validate(
        {
            "id": job_id,
            "kind": "aggregate",
            "state": "completed",
            "requester_org_id": "o_bank",
            "deadline": "2026-03-02T00:00:00Z",
            "submitted_at": "2026-03-01T00:00:00Z",
            "authorised_at": None,
            "started_at": None,
            "ended_at": None,
            "reason": None,
            "has_result": False,
            "parts": [
                {
                    "grant_id": grant_id,
                    "provider_org_id": "o_dept",
                    "chain_grant_id": 1,
                    "node_job_id": job_id,
                    "template": "sha256:" + "ab" * 32,
                    "state": "done",
                    "error_code": None,
                    "receipt": {"payload": payload, "signature": {}},
                }
            ],
        }
    )


def test_usage_is_read_from_the_latest_receipt_and_accumulates_epsilon() -> None:
    """Uses and budget left come from the newest receipt's chain use; the chart points accumulate ε."""
    grants = [_grant("g1"), _grant("g2", 5, "2.0")]
    jobs = [
        _job("j2", "g1", "2026-03-03T00:00:00Z", 300_000, 8, 500_000),
        _job("j1", "g1", "2026-03-02T00:00:00Z", 200_000, 9, 800_000),
    ]
    usage = grant_usage(grants, jobs)
    assert (usage["g1"].uses_left, usage["g1"].budget_left_micro, usage["g1"].receipts) == (8, 500_000, 2)
    assert [(uses, eps) for _, uses, eps in usage["g1"].points] == [(1, 0.2), (2, 0.5)]
    assert (usage["g2"].uses_left, usage["g2"].budget_left_micro, usage["g2"].points) == (5, 2_000_000, [])


def _store_receipts(
    world: World, grant_id: str, provider: str, uses: list[tuple[str, int, int, int]]
) -> None:
    """Completed jobs on `grant_id` whose parts hold receipts (time, spent µε, uses left, µε left)."""
    with world.app.state.sessions() as session, session.begin():
        for n, (time, spent, uses_left, budget_left) in enumerate(uses):
            at = dt.datetime.fromisoformat(time)
            job_id = f"job_test_{n}"
            session.add(
                Job(
                    id=job_id,
                    requester_org_id=world["bank"].org_id,
                    kind="aggregate",
                    state="completed",
                    deadline=at + dt.timedelta(hours=1),
                    plan=None,
                    submitted_at=at,
                    ended_at=at,
                    reason="completed",
                    result={"sealed": {"n1": "AAAA"}},
                )
            )
            session.flush()
            payload = {
                "time": time,
                "privacy": {"epsilon": spent / 1e6, "rho": 0.0, "budget_spent_micro": spent},
                "chain_use": {"uses_left": uses_left, "budget_left_micro": budget_left},
            }
            session.add(
                JobPart(
                    job_id=job_id,
                    position=0,
                    grant_id=grant_id,
                    provider_org_id=provider,
                    chain_grant_id=1,
                    node_job_id=f"node_{n}",
                    template="sha256:" + "ab" * 32,
                    signed_job={},
                    state="done",
                    receipt={"payload": payload, "signature": {}},
                )
            )


def test_receipts_show_what_is_left_and_chart_the_usage(world: World) -> None:
    """With two receipts the grant shows 8 of 10 uses and ε 1 of 1.5 left, and both charts draw lines."""
    approved = _granted(world)
    _store_receipts(
        world,
        approved["grant_id"],
        world["dept_a"].org_id,
        [
            ("2026-03-02T01:00:00+00:00", 200_000, 9, 1_300_000),
            ("2026-03-03T01:00:00+00:00", 300_000, 8, 1_000_000),
        ],
    )
    page = sign_in(world.http, world["bank"].key, "/console/workspace?lang=en")
    row = _rows(page)[0]
    assert 'data-testid="grant-uses">8 of 10<' in row and "ε 1 of 1.5" in row
    assert page.count("<polyline") == 2
    assert "301001/000001 · " in page.split("Privacy budget spent over time")[-1]
    assert len(re.findall(r'data-testid="job-row"', page)) == 2
    assert "sealed to you: n1" in page
