"""Fixtures of the console's browser suite: one served exchange and one Chromium per module, a tab per org."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from console_e2e_support import ConsoleTab, Exchange, launch_chromium, new_tab, running_exchange
from playwright.sync_api import Browser, sync_playwright


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


@pytest.fixture
def open_tab(
    request: pytest.FixtureRequest, browser: Browser, exchange: Exchange
) -> Iterator[Callable[[str], ConsoleTab]]:
    """`open_tab(who)`: a tab with its own cookies; the test fails if any tab saw a JS error."""
    tabs: list[ConsoleTab] = []

    def opener(who: str) -> ConsoleTab:
        tab = new_tab(browser, exchange.url, request.node.name, who)
        tabs.append(tab)
        return tab

    yield opener
    errors = [f"[{tab.who}] {error}" for tab in tabs for error in tab.errors]
    for tab in tabs:
        tab.page.context.close()
    if errors:
        pytest.fail("JavaScript errors in the console:\n" + "\n".join(errors), pytrace=False)
