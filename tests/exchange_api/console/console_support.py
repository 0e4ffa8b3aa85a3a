"""Helpers for the console's tests: sign a member in to the console through its sign-in page."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from exchange_api.console import sign_challenge
from keys import SigningKey

CHALLENGE = re.compile(r'data-testid="challenge">([^<]+)<')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def challenge_of(page: str) -> str:
    """The challenge shown on a sign-in page."""
    found = CHALLENGE.search(page)
    assert found, "no challenge on the page"
    return found.group(1)


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(http: TestClient, key: SigningKey, next_path: str = "/console/") -> str:
    """Sign `key`'s organisation in to the console on `http`; returns the page it lands on."""
    page = http.get("/console/sign-in")
    assert page.status_code == 200
    token = sign_challenge(key, challenge_of(page.text))
    landed = http.post("/console/sign-in", data={"token": token, "next": next_path})
    assert landed.status_code == 200, landed.text[:500]
    return landed.text
