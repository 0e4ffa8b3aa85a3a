"""Demo, chapter 5: the same work through the web console, as people would do it in a browser.

Each organisation signs in by signing the console's one-time challenge with its own key (what
``tdex console sign`` does; the key never reaches the page). The bank applies from the catalogue
page, the market regulator approves in its inbox, the bank finds the grant in its workspace, and
the auditor downloads an entry's proof bundle from the explorer and verifies it offline.
"""

from __future__ import annotations

import re
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from exchange_api.audit import TrustedKeys, verify_bundle_file
from exchange_api.console import sign_challenge
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member
from tdex.demo.exchange_steps import RESOURCES, TEMPLATE, _usable_grant

PURPOSE = "小微企业信贷审批：核验借款企业登记信息"


class _Forms(HTMLParser):
    """The fields of each form of a page that has a ``data-testid``: {testid: (action, fields)}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid"):
            self._current = a["data-testid"]
            self.forms[self._current] = (a.get("action", ""), [])
        elif (
            tag == "input"
            and self._current
            and a.get("name")
            and (a.get("type") != "checkbox" or "checked" in a)
        ):
            self.forms[self._current][1].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _forms(html: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _problem(response: httpx.Response) -> str:
    """What a console page says went wrong (its problem or form-error box), for a failed step."""
    found = re.search(r'role="alert"[^>]*>(.*?)</div>', response.text, re.S)
    text = re.sub(r"<[^>]+>", " ", found.group(1)) if found else f"HTTP {response.status_code}"
    return " ".join(text.split())[:300]


def _browser(ctx: DemoContext, member: Member) -> httpx.Client:
    """A cookie-keeping client signed in to the console as `member`."""
    browser = ctx.resources.enter_context(httpx.Client(base_url=ctx.state["exchange_url"], timeout=30))
    page = browser.get("/console/sign-in")
    found = re.search(r'data-testid="challenge">([^<]+)<', page.text)
    ctx.expect(found is not None, "the sign-in page shows a challenge")
    assert found is not None
    token = sign_challenge(member.keys.signer, found.group(1))
    landed = browser.post("/console/sign-in", data={"token": token}, follow_redirects=True)
    ctx.expect(
        landed.status_code == 200 and 'data-testid="signed-in-as"' in landed.text,
        f"{member.handle} signed in",
    )
    return browser


def _post_form(
    ctx: DemoContext, browser: httpx.Client, page: str, testid: str, **overrides: Any
) -> httpx.Response:
    forms = _forms(page)
    ctx.expect(testid in forms, f"the page has its {testid}")
    action, fields = forms[testid]
    data: dict[str, Any] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    data.update(overrides)
    return browser.post(action, data=data, follow_redirects=True)


def _trusted(ctx: DemoContext) -> TrustedKeys:
    """The keys the auditor pins: the log operator's and its own witness's (never the bundle's own)."""
    operator = ctx.state["log_operator"][2]
    return TrustedKeys.from_vkeys([operator.vkey], [ctx.state["witness"].vkey])


def step_bank_applies_and_the_regulator_approves_in_the_console(ctx: DemoContext) -> str:
    """The bank applies on the catalogue page; the regulator approves it in its inbox with terms."""
    cast: dict[str, Member] = ctx.state["cast"]
    bank, regulator = _browser(ctx, cast["bank"]), _browser(ctx, cast["market"])
    ctx.state["console_browsers"] = {"bank": bank}
    code = RESOURCES["market"]["code"]
    detail = bank.get(f"/console/catalog/{code}")
    ctx.expect(detail.status_code == 200, f"the bank sees {code} in the catalogue")
    applied = _post_form(
        ctx,
        bank,
        detail.text,
        "apply-form",
        purpose=PURPOSE,
        duration_days="30",
        requested_items=["企业名称", "统一社会信用代码"],
        computation_kinds=["aggregate"],
        templates=[TEMPLATE],
    )
    ctx.expect(
        applied.status_code == 200 and "/console/workspace" in str(applied.url),
        f"the bank lands in its workspace ({_problem(applied)})",
    )
    inbox = regulator.get("/console/inbox")
    row = re.search(r'data-testid="application-row"[^>]*data-id="([^"]+)"', inbox.text)
    ctx.expect(row is not None and PURPOSE in inbox.text, "the application waits in the regulator's inbox")
    assert row is not None
    app_id = row.group(1)
    page = regulator.get(f"/console/applications/{app_id}")
    approved = _post_form(ctx, regulator, page.text, "approve-form", max_uses="5", privacy_budget="0.5")
    ctx.expect(
        approved.status_code == 200 and "/console/inbox" in str(approved.url),
        f"the approval is recorded ({_problem(approved)})",
    )
    ctx.state["console_application"] = app_id
    return f"application {app_id} submitted on the catalogue page, approved in the inbox (5 uses, ε 0.5)"


def step_bank_sees_the_grant_in_its_workspace(ctx: DemoContext) -> str:
    """The bank's workspace shows the new grant, usable once anchored, with what is left of it."""
    bank: httpx.Client = ctx.state["console_browsers"]["bank"]
    app_id = ctx.state["console_application"]
    grant_id = ctx.state["clients"]["bank"].application(app_id)["grant_id"]
    ctx.expect(grant_id is not None, "the approved application names its grant")
    _usable_grant(ctx, ctx.state["clients"]["bank"], grant_id)
    page = bank.get("/console/workspace", params={"lang": "en"}).text
    row = re.search(rf'data-grant-id="{re.escape(grant_id)}".*?</tr>', page, re.S)
    ctx.expect(row is not None, f"the workspace lists grant {grant_id}")
    assert row is not None
    cells = {
        name: " ".join(re.sub(r"<[^>]+>", " ", value).split())
        for name, value in re.findall(
            r'data-testid="grant-(status|uses|budget)">(.*?)</(?:span|td)>', row.group(0)
        )
    }
    ctx.expect(cells.get("status") == "usable", f"the workspace shows the grant usable ({cells})")
    ctx.expect(cells.get("uses", "").startswith("5 "), f"the workspace shows 5 uses left ({cells})")
    return f"grant {grant_id}: {cells['status']}, uses {cells['uses']}, ε {cells.get('budget', '?')}"


def step_auditor_downloads_a_proof_bundle_from_the_explorer(ctx: DemoContext) -> str:
    """The auditor opens the approval's entry in the explorer and verifies its bundle offline."""
    cast: dict[str, Member] = ctx.state["cast"]
    auditor = _browser(ctx, cast["auditor"])
    explorer = auditor.get("/console/audit")
    ctx.expect(explorer.status_code == 200, "the auditor opens the explorer")
    app_id = ctx.state["console_application"]
    trail = auditor.get(
        "/console/audit/trail.json", params={"application": app_id, "kind": "application.approved"}
    )
    entries = trail.json()["entries"] if trail.status_code == 200 else []
    ctx.expect(len(entries) == 1, f"the trail lists the approval of {app_id} once")
    index = int(entries[0]["index"])
    deadline = time.monotonic() + 60
    while True:  # the exchange's anchorer covers new entries within seconds
        page = auditor.get(f"/console/audit/entries/{index}")
        if 'data-testid="proof-path"' in page.text or "proof-data" in page.text:
            bundle = auditor.get(f"/console/audit/entries/{index}/bundle")
            if bundle.status_code == 200 and bundle.json().get("anchor"):
                break
        ctx.expect(time.monotonic() < deadline, f"entry {index} anchored and proven within 60 s")
        time.sleep(0.3)
    with tempfile.TemporaryDirectory(prefix="tdex-demo-bundle-") as tmp:
        path = Path(tmp) / "bundle.json"
        path.write_bytes(bundle.content)
        report = verify_bundle_file(path, trusted=_trusted(ctx))
    ctx.expect(report.tree_size > index, "the downloaded bundle proves the entry")
    return f"entry {index} ({report.kind}) proven in tree {report.tree_size} from the explorer's download"


STEPS = [
    step_bank_applies_and_the_regulator_approves_in_the_console,
    step_bank_sees_the_grant_in_its_workspace,
    step_auditor_downloads_a_proof_bundle_from_the_explorer,
]
