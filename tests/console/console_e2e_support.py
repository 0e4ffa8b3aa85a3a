"""Helpers of the console's browser suite: a served exchange with a seeded cast, Chromium, watched pages.

A uniquely named module (each test folder has its own conftest): the fixtures in
``tests/console/conftest.py`` are thin wrappers around what is here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Playwright, Response
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.app import create_app
from exchange_api.audit import Anchorer, AnchorPolicy, AuditLog, LocalWitness, LogOperator
from exchange_api.chain import FakeChain
from exchange_api.client import ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.loopback import serve_in_thread
from keys import Ed25519SigningKey, SigningKey, org_code_check, uscc_check_char

REPO = Path(__file__).resolve().parents[2]
# Under /var/, which .gitignore keeps out of the repository.
SCREENSHOTS = REPO / "var" / "test-artefacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never Playwright's download (no internet where the suite runs). Playwright
# gives every launch a fresh temporary profile (user-data-dir) of its own and removes it on close.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOG_ORIGIN = "tdex.test/console-e2e"

# What the proof panel says when the page's script has checked the inclusion proof, and what it
# must not say (an English "not verified" also contains "verified").
PROOF_VERIFIED = re.compile(r"verified|已验证", re.IGNORECASE)
PROOF_NOT_VERIFIED = re.compile(r"not verif|unverified|failed|未验证|失败|不通过|无法", re.IGNORECASE)


def make_uscc(seed: int) -> str:
    """A valid USCC (both check characters right) of a Shenzhen enterprise derived from `seed`."""
    body = f"{seed:08d}"[-8:]
    first17 = "91" + "440300" + body + org_code_check(body)
    return first17 + uscc_check_char(first17)


# ---------------------------------------------------------------------------------------------- cast


@dataclass
class Member:
    """A member organisation of the cast: its name, role, key and signed API client."""

    slug: str
    name: str
    role: str
    uscc: str
    key: SigningKey
    client: ExchangeClient
    org_id: str = ""


# slug → (name, role); the bureau is the exchange's bootstrap administrator.
CAST: dict[str, tuple[str, str]] = {
    "bureau": ("市大数据局", "ADMIN"),
    "market": ("市市场监督管理局", "DEPARTMENT"),
    "logistics": ("深圳速达物流有限公司", "ENTERPRISE"),
    "auditor": ("市审计局", "AUDITOR"),
}

CONDITIONAL_CODE = "301001/000001"
UNCONDITIONAL_CODE = "301001/000002"
TEMPLATE = "0x" + "ab" * 32


def resource_entry(code: str, *, conditional: bool) -> dict[str, Any]:
    """A catalogue entry of the market regulator: registration data (conditional) or annual reports."""
    classification = code.split("/")[0]
    return {
        "code": code,
        "classification": {
            "category": classification[0],
            "item": classification[1:3],
            "catalog": classification[3:6],
        },
        "name": "企业登记基础信息" if conditional else "企业年度报告公示信息",
        "summary": (
            "本市市场主体登记注册的基础信息，包括名称、统一社会信用代码、法定代表人和注册资本。"
            if conditional
            else "本市企业依法公示的年度报告信息，包括经营状态、从业人数和联系方式。"
        ),
        "format": "database",
        "items": [
            {"name": "企业名称", "data_type": "string"},
            {"name": "统一社会信用代码", "data_type": "string"},
            {"name": "注册资本" if conditional else "从业人数", "data_type": "decimal"},
        ],
        "share_type": "conditional" if conditional else "unconditional",
        "share_conditions": "仅用于信贷审批与物流资质核验，不得向第三方提供" if conditional else None,
        "share_methods": ["interface"],
        "open_type": "not_open" if conditional else "on_application",
        "update_cycle": "daily" if conditional else "annual",
        "release_date": "2025-01-15",
        "data_grade": "general",
        "related_codes": [],
    }


def application_for(code: str, purpose: str) -> dict[str, Any]:
    """An application for `code` with `purpose` (a private count in the sandbox for 30 days)."""
    return {
        "resource_code": code,
        "purpose": purpose,
        "requested_items": ["企业名称", "统一社会信用代码"],
        "computation_kinds": ["aggregate"],
        "templates": [TEMPLATE],
        "duration_days": 30,
    }


@dataclass
class Exchange:
    """The exchange served on loopback and its seeded cast."""

    url: str
    app: FastAPI
    members: dict[str, Member]
    seeded: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, slug: str) -> Member:
        return self.members[slug]

    def checkpoint(self) -> int:
        """Sign (and cosign) a checkpoint covering every entry so far; return the log size it covers."""
        anchorer: Anchorer = self.app.state.anchorer
        anchorer.tick(force=True)
        latest: dict[str, Any] = self["auditor"].client.call("GET", "/audit/checkpoints/latest")
        return int(latest["size"])

    def pending_application(self, purpose: str) -> dict[str, Any]:
        """A fresh application of the enterprise for the conditional resource, waiting in the inbox."""
        client = self["logistics"].client
        application: dict[str, Any] = client.apply(application_for(CONDITIONAL_CODE, purpose))
        assert application["state"] == "submitted", application
        return application

    def entry_index(self, kind: str, **record: Any) -> int:
        """The log index of the newest entry of `kind` whose record has the given fields."""
        trail = self["auditor"].client.call("GET", "/audit/trail", params={"kind": kind})
        matches = [
            e for e in trail["entries"] if all((e.get("record") or {}).get(k) == v for k, v in record.items())
        ]
        assert matches, f"no {kind} entry with {record} in the trail: {trail['entries']}"
        return int(matches[-1]["index"])


def _settings(database_url: str, bureau: SigningKey) -> Settings:
    return Settings(
        mode="development",
        database_url=database_url,
        bureau_name=CAST["bureau"][0],
        bureau_uscc=make_uscc(1),
        bureau_public_key=bureau.verify_key.did,
        relay_interval_s=0.05,
    )


def _admit(exchange_url: str, bureau: SigningKey) -> dict[str, Member]:
    members: dict[str, Member] = {}
    for seed, (slug, (name, role)) in enumerate(CAST.items(), start=1):
        key = bureau if slug == "bureau" else SigningKey.generate()
        members[slug] = Member(slug, name, role, make_uscc(seed), key, ExchangeClient(exchange_url, key))
    admin = members["bureau"]
    admin.org_id = admin.client.me()["id"]
    for member in members.values():
        if member is admin:
            continue
        org = admin.client.admit(
            {
                "name": member.name,
                "uscc": member.uscc,
                "role": member.role,
                "public_keys": [member.key.verify_key.did],
                "chain_account": "0x" + secrets.token_hex(20),
            }
        )
        member.org_id = org["id"]
    return members


def _seed(exchange: Exchange) -> None:
    """The catalogue and the applications every test can count on (tests add their own on top)."""
    market, logistics = exchange["market"].client, exchange["logistics"].client
    market.register(resource_entry(CONDITIONAL_CODE, conditional=True))
    market.register(resource_entry(UNCONDITIONAL_CODE, conditional=False))
    granted = logistics.apply(application_for(UNCONDITIONAL_CODE, "承运商年度经营状况核验"))
    assert granted["state"] == "approved", granted
    waiting = exchange.pending_application("物流承运商资质核验（待审核）")
    exchange.seeded.update(granted_application=granted, waiting_application=waiting)


def _anchorer_factory(workdir: Path) -> Callable[[sessionmaker[Session]], Anchorer]:
    """The exchange's own log operator and one local witness; no chain to anchor to (as in development)."""
    operator = LogOperator(LOG_ORIGIN, Ed25519SigningKey.generate())
    witness = LocalWitness(
        "witness.e2e", Ed25519SigningKey.generate(), {LOG_ORIGIN: [operator.vkey]}, workdir / "witness.json"
    )
    return lambda sessions: Anchorer(AuditLog(sessions), operator, [witness], None, AnchorPolicy())


@contextmanager
def running_exchange(workdir: Path) -> Iterator[Exchange]:
    """The exchange on a SQLite file in `workdir`, served on a free loopback port, with its cast seeded.

    A fake chain anchors the outbox (the relay runs, as in development); the app's audit anchorer
    signs and cosigns checkpoints on its policy, and at once when a test asks (`Exchange.checkpoint`).
    """
    bureau = SigningKey.generate()
    settings = _settings(f"sqlite:///{workdir}/exchange.db", bureau)
    app = create_app(settings, writer=FakeChain(), anchorer=_anchorer_factory(workdir))
    with serve_in_thread(app) as url:
        members = _admit(url, bureau)
        exchange = Exchange(url, app, members)
        try:
            _seed(exchange)
            exchange.checkpoint()
            yield exchange
        finally:
            for member in members.values():
                member.client.close()


# ------------------------------------------------------------------------------------------- browser


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing reaching out to the network on its own."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS), timeout=30_000
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "root"


class ConsoleTab:
    """One organisation's browser tab: every JS error it raises is kept, every page it shows is saved.

    ``errors`` collects ``console.error`` messages (CSP violations and failed loads included) and
    uncaught exceptions; the fixture fails the test when any is left at its end. A test that
    provokes an error page on purpose names the status it expects with `expect_http_error`.
    """

    def __init__(self, page: Page, base_url: str, test_name: str, who: str) -> None:
        self.page = page
        self.base_url = base_url
        self.who = who
        self.errors: list[str] = []
        self.screenshots: list[Path] = []
        self._prefix = f"{_slug(test_name)}--{_slug(who)}"
        self._allowed: list[re.Pattern[str]] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if any(p.search(text) for p in self._allowed):
            return
        # Chromium asks for /favicon.ico on its own when a page names no icon; that 404 is not the
        # page's doing (the console may name one later: <link rel="icon" ...> in base.html).
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        where = f"{message.location.get('url', '?')}:{message.location.get('lineNumber', '?')}"
        self.errors.append(f"console.error at {where}: {text}")

    def _on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught {error.name}: {error.message}\n{error.stack or ''}".rstrip())

    @contextmanager
    def expect_http_error(self, status: int) -> Iterator[None]:
        """Within the block, Chromium's "failed to load resource: status `status`" is expected."""
        pattern = re.compile(rf"status of {status}\b")
        self._allowed.append(pattern)
        try:
            yield
        finally:
            self._allowed.remove(pattern)

    def goto(self, path: str, name: str | None = None) -> Response:
        """Open `path` of the console (relative to the exchange), save a screenshot; the response."""
        response = self.page.goto(self.base_url + path)
        assert response is not None, f"no response for {path}"
        self.snap(name or path)
        return response

    def snap(self, name: str | None = None) -> Path:
        """Save a full-page screenshot of what the tab shows now, named after the test, org and page."""
        label = name or self.page.url.removeprefix(self.base_url)
        path = SCREENSHOTS / f"{self._prefix}--{len(self.screenshots) + 1:02d}-{_slug(label)}.jpg"
        # JPEG: half the time of PNG for a long page, and the text stays legible at this quality.
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=85)
        self.screenshots.append(path)
        return path

    def submit(self, form_test_id: str, name: str | None = None) -> None:
        """Submit the form `[data-testid=form_test_id]` with its submit button; wait for the next page."""
        form = self.page.get_by_test_id(form_test_id)
        with self.page.expect_navigation():
            form.locator("[type=submit]").first.click()
        self.snap(name or f"after-{form_test_id}")

    def sign_in(self, member: Member) -> None:
        """Sign in as `member`: sign the page's challenge with its key (as `tdex console sign` would)."""
        from exchange_api.console import sign_challenge

        # The sign-in page itself is saved by the sign-in tests; here only where it leads.
        self.page.goto(self.base_url + "/console/sign-in")
        challenge = self.page.get_by_test_id("challenge").inner_text().strip()
        self.page.locator("[name=token]").fill(sign_challenge(member.key, challenge))
        self.submit("sign-in-form", f"signed-in-{member.slug}")


def clear_screenshots() -> None:
    """Remove the previous run's screenshots, so the folder shows this run's pages only."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for stale in SCREENSHOTS.glob("*.*"):
        stale.unlink(missing_ok=True)  # another run may be clearing the folder too


def new_context(browser: Browser) -> BrowserContext:
    """A fresh browser context (its own cookies), as a browser in the city would present itself."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    return context


_PROOF_BLOCK = re.compile(r'(<script type="application/json" id="proof-data">)(.*?)(</script>)', re.DOTALL)


def tamper_audit_path(html: str) -> str:
    """The entry page `html` with one hash of its audit path altered in the data its script checks."""
    found = _PROOF_BLOCK.search(html)
    assert found is not None, "the entry page has no #proof-data block"
    data = json.loads(found.group(2))
    assert data["proof"], "the entry's audit path is empty (a one-entry tree): nothing to alter"
    first = data["proof"][0]
    data["proof"][0] = first[:-1] + ("0" if first[-1] != "0" else "1")
    block = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    return html[: found.start(2)] + block + html[found.end(2) :]


def in_days(days: int) -> str:
    """A `datetime-local` value `days` from now in the city's time (UTC+8)."""
    when = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M")
