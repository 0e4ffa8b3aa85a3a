"""Fixtures of the ledger client tests: one Anvil node and one deployed world per backend per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ledger_support import BACKENDS, World, build_world, rolled_back

import ledger
from ledger._anvil import AnvilProcess


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilProcess]:
    """An Anvil node on a free loopback port for the whole session."""
    with AnvilProcess() as node:
        yield node


@pytest.fixture(scope="session", params=BACKENDS)
def session_world(request: pytest.FixtureRequest) -> Iterator[World]:
    """A deployment on eth-tester, or on the session's Anvil node (through its URL)."""
    if request.param == "anvil":
        node: AnvilProcess = request.getfixturevalue("anvil_node")
        target = node.url
    else:
        target = "eth-tester"
    with ledger.connect(target) as chain:
        yield build_world(chain)


@pytest.fixture
def w(session_world: World) -> Iterator[World]:
    """The session's world for one test, rolled back afterwards."""
    yield from rolled_back(session_world)
