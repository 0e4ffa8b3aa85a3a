"""The department inbox: pending applications overdue first, answering them, datasets, nodes, charts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from api_support import TEMPLATE, TEMPLATE_2, World, application, entry
from console_support import csrf_of, sign_in

from exchange_api.services.deadlines import LOCAL

CODE = "301001/000001"


def _pending(world: World, member: str = "bank", **changes: Any) -> dict[str, Any]:
    """A conditional entry of dept_a (registered once) and `member`'s pending application for it."""
    if not world["dept_a"].client.search()["items"]:
        world["dept_a"].client.register(entry())
    return world[member].client.apply(application(templates=[TEMPLATE, TEMPLATE_2], **changes))


def _approve_form(page: str, world: World, **changes: Any) -> dict[str, Any]:
    expires = (world.clock() + dt.timedelta(days=30)).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")
    form: dict[str, Any] = {
        "csrf": csrf_of(page),
        "expires_at": expires,
        "max_uses": "25",
        "privacy_budget": "2.5",
        "templates": [TEMPLATE],
    }
    form.update(changes)
    return form


def test_inbox_lists_pending_applications_overdue_first(world: World) -> None:
    """An application past its deadline is listed before a newer one and marked overdue."""
    old = _pending(world)
    world.clock.advance(days=40)
    new = _pending(world, "logistics")
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get("/console/inbox")
    assert page.status_code == 200
    text = page.text
    assert text.count('data-testid="application-row"') == 2
    assert text.index(f'data-id="{old["id"]}"') < text.index(f'data-id="{new["id"]}"')
    row = text[text.index(f'data-id="{old["id"]}"') :].split("</tr>")[0]
    assert 'class="overdue"' in row and "已超期" in row
    assert "bank" in row and "企业登记基础信息" in row and "小微企业信用贷款风险评估" in row
    newer = text[text.index(f'data-id="{new["id"]}"') :].split("</tr>")[0]
    assert 'class="overdue"' not in newer
    assert f'href="/console/applications/{old["id"]}"' in text


def test_inbox_shows_datasets_nodes_and_charts(world: World) -> None:
    """The inbox lists the department's entries, its node (not monitored here) and the two charts."""
    _pending(world)
    world["dept_a"].client.call(
        "PUT", "/sandbox/nodes/me", json_body={"node": "dept-a", "url": "http://node-a.test:9000"}
    )
    sign_in(world.http, world["dept_a"].key)
    text = world.http.get("/console/inbox").text
    assert text.count('data-testid="dataset-row"') == 1
    assert 'data-testid="node-row"' in text and 'data-health="unmonitored"' in text
    assert text.count("<svg") == 1  # applications per department; no answer time yet
    assert "收到的申请数" in text and "暂无数据" in text


def test_node_health_comes_from_the_exchange_probe(world: World) -> None:
    """A node the exchange probes shows the probe's answer."""

    class Probe:
        def __init__(self) -> None:
            self.urls = {"node-a.test": "http://node-a.test:9000"}

        def up(self) -> dict[str, bool]:
            return {"node-a.test": False}

    world.app.state.node_health = Probe()
    world["dept_a"].client.call(
        "PUT", "/sandbox/nodes/me", json_body={"node": "dept-a", "url": "http://node-a.test:9000"}
    )
    sign_in(world.http, world["dept_a"].key)
    assert 'data-health="down"' in world.http.get("/console/inbox").text


def test_approve_with_terms_creates_a_grant_with_those_terms(world: World) -> None:
    """Approving from the page issues a grant with the expiry, uses, budget and templates chosen."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    assert 'data-testid="approve-form"' in page and 'data-testid="reject-form"' in page
    assert "小微企业信用贷款风险评估" in page and "bank" in page
    form = _approve_form(page, world)
    response = world.http.post(
        f"/console/applications/{app['id']}/approve", data=form, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/inbox?notice=inbox.approved"
    assert "已批准" in world.http.get(response.headers["location"]).text
    done = world["bank"].client.application(app["id"])
    assert done["state"] == "approved"
    grant = world["bank"].client.grant(done["grant_id"])
    assert (grant["max_uses"], grant["privacy_budget"], grant["templates"]) == (25, "2.5", [TEMPLATE])
    expected = dt.datetime.fromisoformat(form["expires_at"]).replace(tzinfo=LOCAL)
    assert dt.datetime.fromisoformat(grant["expires_at"]) == expected


def test_approve_defaults_fit_the_request(world: World) -> None:
    """The approve form's defaults (the requested term, the default limits) are accepted as they are."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    values = dict(re.findall(r'name="(expires_at|max_uses|privacy_budget)" [^>]*value="([^"]*)"', page))
    form = {**values, "csrf": csrf_of(page), "templates": [TEMPLATE, TEMPLATE_2]}
    response = world.http.post(
        f"/console/applications/{app['id']}/approve", data=form, follow_redirects=False
    )
    assert response.status_code == 303, response.text[:2000]
    assert world["bank"].client.application(app["id"])["state"] == "approved"


def test_an_approval_past_the_requested_term_is_shown_inline(world: World) -> None:
    """An expiry beyond the requested term re-renders the form with the service's reason."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    late = (world.clock() + dt.timedelta(days=400)).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")
    response = world.http.post(
        f"/console/applications/{app['id']}/approve", data=_approve_form(page, world, expires_at=late)
    )
    assert response.status_code == 422
    assert 'data-testid="approve-errors"' in response.text and "expires_at" in response.text
    assert world["bank"].client.application(app["id"])["state"] == "submitted"


def test_reject_requires_a_reason(world: World) -> None:
    """An empty reason is a readable inline error and changes nothing; a stated one rejects."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    empty = world.http.post(
        f"/console/applications/{app['id']}/reject", data={"csrf": csrf_of(page), "reason": "  "}
    )
    assert empty.status_code == 422
    assert 'data-testid="reject-errors"' in empty.text and "请填写驳回理由" in empty.text
    assert world["bank"].client.application(app["id"])["state"] == "submitted"
    done = world.http.post(
        f"/console/applications/{app['id']}/reject",
        data={"csrf": csrf_of(page), "reason": "申请用途与共享条件不符"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console/inbox?notice=inbox.rejected"
    rejected = world["bank"].client.application(app["id"])
    assert (rejected["state"], rejected["reason"]) == ("rejected", "申请用途与共享条件不符")


def test_review_then_answer(world: World) -> None:
    """Taking an application under review from the page moves it to under_review."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    response = world.http.post(
        f"/console/applications/{app['id']}/review", data={"csrf": csrf_of(page)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert world["bank"].client.application(app["id"])["state"] == "under_review"
    assert "审核中" in world.http.get("/console/inbox").text


def test_another_department_can_neither_see_nor_act(world: World) -> None:
    """dept_b gets a 404 page for dept_a's application, and its posts change nothing."""
    app = _pending(world)
    sign_in(world.http, world["dept_b"].key)
    home = world.http.get("/console/inbox")
    assert f'data-id="{app["id"]}"' not in home.text
    seen = world.http.get(f"/console/applications/{app['id']}")
    assert seen.status_code == 404 and 'data-testid="problem"' in seen.text and "Traceback" not in seen.text
    csrf = csrf_of(home.text)
    approve = world.http.post(
        f"/console/applications/{app['id']}/approve", data=_approve_form(home.text, world)
    )
    assert approve.status_code == 404
    reject = world.http.post(
        f"/console/applications/{app['id']}/reject", data={"csrf": csrf, "reason": "不行"}
    )
    assert reject.status_code == 404
    assert world["bank"].client.application(app["id"])["state"] == "submitted"


def test_a_bank_cannot_open_the_inbox(world: World) -> None:
    """An enterprise gets a 403 page on the inbox, with the stable code."""
    sign_in(world.http, world["bank"].key)
    response = world.http.get("/console/inbox")
    assert response.status_code == 403 and "console.wrong_role" in response.text


def test_answers_without_csrf_are_refused(world: World) -> None:
    """Approve and reject without the session's CSRF token are 403 pages and change nothing."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    page = world.http.get(f"/console/applications/{app['id']}").text
    form = _approve_form(page, world, csrf="forged")
    assert world.http.post(f"/console/applications/{app['id']}/approve", data=form).status_code == 403
    reject = world.http.post(f"/console/applications/{app['id']}/reject", data={"reason": "不行"})
    assert reject.status_code == 403 and "console.csrf" in reject.text
    assert world["bank"].client.application(app["id"])["state"] == "submitted"


def test_answer_time_chart_after_an_answer(world: World) -> None:
    """Once dept_a answers, the answer-time chart has its bar."""
    app = _pending(world)
    world.clock.advance(hours=5)
    world["dept_a"].client.reject(app["id"], "不符合条件")
    sign_in(world.http, world["dept_a"].key)
    text = world.http.get("/console/inbox").text
    assert text.count("<svg") == 2 and "5 小时" in text


def test_inbox_pages_render_in_both_languages(world: World) -> None:
    """The inbox and an application render in Chinese by default and in English on request."""
    app = _pending(world)
    sign_in(world.http, world["dept_a"].key)
    assert "待审核的申请" in world.http.get("/console/inbox").text
    english = world.http.get("/console/inbox", params={"lang": "en"}).text
    assert "Applications waiting for an answer" in english
    detail = world.http.get(f"/console/applications/{app['id']}").text
    assert "Approve and grant" in detail and "History" in detail
