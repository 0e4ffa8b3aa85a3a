"""Fixtures of the contract behaviour suites: one world per backend per session, rolled back per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from behaviour_support import BACKENDS, World, build_world, rolled_back


@pytest.fixture(scope="session", params=BACKENDS)
def session_world(request: pytest.FixtureRequest) -> Iterator[World]:
    """A deployment with the cast admitted, on eth-tester and on a session-wide Anvil node."""
    yield from build_world(request.param)


@pytest.fixture
def w(session_world: World) -> Iterator[World]:
    """The session's world for one test, rolled back afterwards."""
    yield from rolled_back(session_world)
