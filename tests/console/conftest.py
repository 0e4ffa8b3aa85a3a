"""Fixtures of the console's browser suite: one served exchange and one Chromium per module, tabs per org."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from console_e2e_support import (
    ConsoleTab,
    Exchange,
    clear_screenshots,
    launch_chromium,
    new_context,
    running_exchange,
)
from playwright.sync_api import Browser, BrowserContext, sync_playwright


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    """This run's screenshots only, in var/test-artefacts/screenshots."""
    clear_screenshots()


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    """The exchange on loopback with its seeded cast (bureau, market regulator, enterprise, auditor)."""
    with running_exchange(tmp_path_factory.mktemp("console-exchange")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, for the module's tests."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def _sessions(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    """One signed-in browser context per organisation, shared by the module's tests."""
    contexts: dict[str, BrowserContext] = {}
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def _tabs() -> Iterator[list[ConsoleTab]]:
    """The test's tabs; the test fails if any of them saw a JavaScript error."""
    tabs: list[ConsoleTab] = []
    yield tabs
    errors = [f"[{tab.who}] {error}" for tab in tabs for error in tab.errors]
    for tab in tabs:
        if not tab.page.is_closed():
            tab.page.close()
    if errors:
        pytest.fail("JavaScript errors in the console:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def open_tab(
    request: pytest.FixtureRequest, browser: Browser, exchange: Exchange, _tabs: list[ConsoleTab]
) -> Iterator[Callable[[str], ConsoleTab]]:
    """`open_tab(who)`: a tab in a fresh, signed-out browser context of its own (closed after the test)."""
    contexts: list[BrowserContext] = []

    def opener(who: str) -> ConsoleTab:
        context = new_context(browser)
        contexts.append(context)
        tab = ConsoleTab(context.new_page(), exchange.url, request.node.name, who)
        _tabs.append(tab)
        return tab

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture
def tab_as(
    request: pytest.FixtureRequest,
    browser: Browser,
    exchange: Exchange,
    _sessions: dict[str, BrowserContext],
    _tabs: list[ConsoleTab],
) -> Callable[[str], ConsoleTab]:
    """`tab_as(slug)`: a tab signed in as that member (once per module; later tabs share the session)."""

    def opener(slug: str) -> ConsoleTab:
        fresh = slug not in _sessions
        if fresh:
            _sessions[slug] = new_context(browser)
        tab = ConsoleTab(_sessions[slug].new_page(), exchange.url, request.node.name, slug)
        _tabs.append(tab)
        if fresh:
            tab.sign_in(exchange[slug])
        return tab

    return opener
