"""Fixtures of the node suite: a chain with the cast admitted, and the market regulator's node in process.

Helpers live in `node_support` (test folders are not packages; `conftest` is not importable).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from node_support import Resource, World, build_world, in_process_client, register_table

from sandbox import node as sn

REGISTER_CODE = "330100-MKT/10001"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """An in-process chain (eth-tester) with the contracts and the demo's cast."""
    w = build_world("eth-tester", tmp_path_factory.mktemp("world"))
    try:
        yield w
    finally:
        w.chain.close()


@pytest.fixture(scope="module")
def register(world: World) -> Resource:
    """The market regulator's enterprise register, registered in the catalogue (k = 10)."""
    return world.resource("market", REGISTER_CODE, register_table(), k=10)


@pytest.fixture(scope="module")
def market_dir(world: World, register: Resource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The market node's data folder with the register ingested."""
    folder = tmp_path_factory.mktemp("market-node")
    world.ingest(register.code, folder)
    return folder


@pytest.fixture(scope="module")
def market(world: World, market_dir: Path) -> sn.NodeClient:
    """A client of the market node, served in process."""
    return in_process_client(world.service("market", market_dir), "market")
