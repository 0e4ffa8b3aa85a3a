"""The web console in headless Chromium: signing in, the approval flow, languages, every page error-free."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from console_e2e_support import (
    CONDITIONAL_CODE,
    PROOF_NOT_VERIFIED,
    PROOF_VERIFIED,
    ConsoleTab,
    Exchange,
    in_days,
    tamper_audit_path,
)
from playwright.sync_api import Route, expect

from keys import SigningKey

pytestmark = pytest.mark.browser

OpenTab = Callable[[str], ConsoleTab]  # a tab in a fresh, signed-out context
TabAs = Callable[[str], ConsoleTab]  # a tab signed in as a member of the cast
STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|File \".*\.py\", line \d+")


@pytest.mark.parametrize("slug", ["bureau", "market", "logistics", "auditor"])
def test_each_kind_of_organisation_signs_in(exchange: Exchange, open_tab: OpenTab, slug: str) -> None:
    """An admin, a department, an enterprise and an auditor each sign the challenge and land signed in."""
    member = exchange[slug]
    tab = open_tab(slug)
    tab.goto("/console/sign-in", "sign-in-page")
    tab.sign_in(member)
    expect(tab.page).not_to_have_url(re.compile(r"/console/sign-in"))
    expect(tab.page.get_by_test_id("signed-in-as")).to_contain_text(member.name)


@pytest.mark.parametrize("token", ["not-a-token", "unknown-key"])
def test_wrong_token_shows_a_readable_error(exchange: Exchange, open_tab: OpenTab, token: str) -> None:
    """A garbled token, or one signed by a key no member holds, gets a readable message, not a trace."""
    from exchange_api.console import sign_challenge  # imported here: the console may not be there yet

    tab = open_tab(f"wrong-{token}")
    tab.goto("/console/sign-in")
    challenge = tab.page.get_by_test_id("challenge").inner_text().strip()
    pasted = token if token == "not-a-token" else sign_challenge(SigningKey.generate(), challenge)
    tab.page.locator("[name=token]").fill(pasted)
    with tab.expect_http_error(401):
        tab.submit("sign-in-form", f"rejected-{token}")
    problem = tab.page.get_by_test_id("problem")
    expected = "console.bad_token" if token == "not-a-token" else "console.unknown_key"
    expect(problem).to_contain_text(expected)
    assert not STACK_TRACE.search(tab.page.locator("body").inner_text())
    # Still signed out: the home page sends the browser back to sign in.
    tab.goto("/console/")
    expect(tab.page).to_have_url(re.compile(r"/console/sign-in"))


def test_approval_flow_inbox_to_workspace_to_audit_proof(exchange: Exchange, tab_as: TabAs) -> None:
    """A firm applies, its regulator approves with terms, the firm sees the grant, the proof verifies."""
    purpose = "冷链物流承运商资质核验（控制台申请）"
    firm = tab_as("logistics")
    firm.goto(f"/console/catalog/{CONDITIONAL_CODE}", "catalog-entry")
    apply = firm.page.get_by_test_id("apply-form")
    apply.locator("[name=purpose]").fill(purpose)
    apply.locator("[name=requested_items]").first.check()
    apply.locator("[name=computation_kinds][value=aggregate]").check()
    apply.locator("[name=templates]").first.check()
    firm.submit("apply-form", "applied")
    expect(firm.page).to_have_url(re.compile(r"/console/workspace"))
    applied = firm.page.get_by_test_id("application-row").filter(has_text=purpose)
    expect(applied).to_have_count(1)
    app_id = applied.get_attribute("data-application-id")
    assert app_id, "the application row names its application"

    market = tab_as("market")
    market.goto("/console/inbox")
    with market.page.expect_navigation():
        market.page.locator(f'a[href$="/console/applications/{app_id}"]').first.click()
    expect(market.page).to_have_url(re.compile(rf"/console/applications/{app_id}$"))
    market.snap("application-detail")
    approve = market.page.get_by_test_id("approve-form")
    approve.locator("[name=max_uses]").fill("10")
    approve.locator("[name=privacy_budget]").fill("1")
    approve.locator("[name=expires_at]").fill(in_days(14))
    market.submit("approve-form", "approved")
    decided = exchange["logistics"].client.application(app_id)
    assert decided["state"] == "approved", decided
    grant_id = decided["grant_id"]
    grant = exchange["logistics"].client.grant(grant_id)
    assert (grant["max_uses"], float(grant["privacy_budget"])) == (10, 1.0), grant

    firm.goto("/console/workspace", "workspace-with-grant")
    row = firm.page.locator(f'[data-testid=grant-row][data-grant-id="{grant_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text(CONDITIONAL_CODE)

    exchange.checkpoint()
    index = exchange.entry_index("application.approved", grant_id=grant_id)
    auditor = tab_as("auditor")
    auditor.goto(f"/console/audit/entries/{index}")
    result = auditor.page.get_by_test_id("proof-result")
    expect(result).to_have_attribute("data-verified", "true")
    expect(result).to_contain_text(PROOF_VERIFIED)
    auditor.snap("proof-verified")
    assert not PROOF_NOT_VERIFIED.search(result.inner_text())


def test_rejection_reason_reaches_the_workspace(exchange: Exchange, tab_as: TabAs) -> None:
    """The regulator rejects with a reason in its inbox; the firm reads that reason in its workspace."""
    application = exchange.pending_application("营销获客名单（拟拒绝）")
    reason = "用途超出共享条件：仅限信贷审批与物流资质核验"
    market = tab_as("market")
    market.goto(f"/console/applications/{application['id']}", "application-to-reject")
    market.page.get_by_test_id("reject-form").locator("[name=reason]").fill(reason)
    market.submit("reject-form", "rejected")
    firm = tab_as("logistics")
    firm.goto("/console/workspace", "workspace-with-rejection")
    row = firm.page.locator(f'[data-testid=application-row][data-application-id="{application["id"]}"]')
    expect(row.get_by_test_id("application-reason")).to_contain_text(reason)


def test_auditor_checks_the_whole_trail(tab_as: TabAs) -> None:
    """The auditor's full check of the trail (every entry, every checkpoint) comes back sound."""
    auditor = tab_as("auditor")
    auditor.goto("/console/audit")
    auditor.submit("full-check-form", "full-trail-check")
    expect(auditor.page.get_by_test_id("full-check-result")).to_have_attribute("data-ok", "true")


def test_a_page_for_another_role_is_a_readable_refusal(tab_as: TabAs) -> None:
    """An enterprise that opens the department inbox gets a 403 page naming the rule, not a trace."""
    firm = tab_as("logistics")
    with firm.expect_http_error(403):
        response = firm.goto("/console/inbox", "inbox-refused")
    assert response.status == 403
    expect(firm.page.get_by_test_id("problem-code")).to_have_text("console.wrong_role")
    assert not STACK_TRACE.search(firm.page.locator("body").inner_text())


def test_a_tampered_audit_path_does_not_verify(exchange: Exchange, tab_as: TabAs) -> None:
    """The page's script recomputes the root itself: one altered audit-path hash and it says no."""
    index = exchange.entry_index("application.granted")
    auditor = tab_as("auditor")

    def tamper(route: Route) -> None:
        original = route.fetch()
        route.fulfill(response=original, body=tamper_audit_path(original.text()))

    auditor.page.route(f"**/console/audit/entries/{index}", tamper)
    auditor.goto(f"/console/audit/entries/{index}", "tampered-entry")
    result = auditor.page.get_by_test_id("proof-result")
    expect(result).to_have_attribute("data-verified", "false")
    expect(result).to_contain_text(PROOF_NOT_VERIFIED)
    auditor.snap("tampered-proof-refused")


def test_language_switch_changes_the_labels(exchange: Exchange, open_tab: OpenTab) -> None:
    """The English link turns the labels to English, `?lang=zh-CN` back; the choice sticks between pages."""
    tab = open_tab("bureau")
    tab.sign_in(exchange["bureau"])
    html, nav = tab.page.locator("html"), tab.page.locator("nav").first

    tab.goto("/console/", "home-zh")
    expect(html).to_have_attribute("lang", "zh-CN")
    zh_labels = nav.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", zh_labels), zh_labels

    with tab.page.expect_navigation():
        tab.page.get_by_test_id("lang-en").click()
    tab.snap("home-en")
    expect(html).to_have_attribute("lang", "en")
    expect(nav).not_to_have_text(zh_labels)
    assert re.search(r"[A-Za-z]{4,}", nav.inner_text())
    assert not re.search(r"[\u4e00-\u9fff]", nav.inner_text()), nav.inner_text()
    tab.goto("/console/catalog", "catalog-en")
    expect(html).to_have_attribute("lang", "en")

    tab.goto("/console/?lang=zh-CN", "home-zh-again")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(nav).to_have_text(zh_labels)


def _pages(exchange: Exchange, slug: str) -> list[str]:
    common = ["/console/", "/console/catalog", "/console/catalog?q=企业"]
    common.append(f"/console/catalog/{CONDITIONAL_CODE}")
    own = {
        "bureau": ["/console/audit"],
        "market": ["/console/inbox", f"/console/applications/{exchange.seeded['waiting_application']['id']}"],
        "logistics": ["/console/workspace"],
        "auditor": ["/console/audit", "/console/audit/entries/0"],
    }
    return common + own[slug]


@pytest.mark.parametrize("slug", ["bureau", "market", "logistics", "auditor"])
def test_every_page_loads_without_js_errors(exchange: Exchange, tab_as: TabAs, slug: str) -> None:
    """Each page an organisation of this kind uses answers 200, raises no JS error and is saved."""
    tab = tab_as(slug)
    for path in _pages(exchange, slug):
        response = tab.goto(path)
        shown = tab.page.locator("body").inner_text()[:500]
        assert response.status == 200, f"{path}: {response.status} {shown}"
        assert tab.page.url.startswith(exchange.url + path.split("?")[0]), f"{path} went to {tab.page.url}"
        if "/audit/entries/" in path:  # its script runs after load: wait for its verdict
            expect(tab.page.get_by_test_id("proof-result")).to_have_attribute("data-verified", "true")
    saved = [shot for shot in tab.screenshots if shot.stat().st_size > 0]
    assert len(saved) >= len(_pages(exchange, slug)), tab.screenshots
