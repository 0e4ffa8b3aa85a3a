"""Retries after transport errors: the same signed bytes are re-sent, never a second transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ledger_support import BACKENDS, FAST_RETRY, FlakyBackend, World, h

import ledger
from ledger import _backends
from ledger._anvil import AnvilProcess
from ledger._backends import Backend, HttpBackend
from ledger.errors import Unreachable


def _inner(backend: str, request: pytest.FixtureRequest) -> Backend:
    if backend == "anvil":
        node: AnvilProcess = request.getfixturevalue("anvil_node")
        return HttpBackend(node.url)
    return _backends.TesterBackend()


@pytest.fixture(params=BACKENDS)
def flaky_world(request: pytest.FixtureRequest) -> Iterator[tuple[World, FlakyBackend]]:
    """A fresh deployment on a chain whose sendRawTransaction transport can be broken on demand."""
    from ledger_support import build_world

    flaky = FlakyBackend(_inner(request.param, request), method="eth_sendRawTransaction")
    chain = ledger.Chain(flaky, kind=request.param, name=f"flaky {request.param}", retry=FAST_RETRY)
    try:
        yield build_world(chain), flaky
    finally:
        chain.close()


def test_lost_answer_resends_the_same_bytes_once_mined(flaky_world: tuple[World, FlakyBackend]) -> None:
    """A transport error after broadcast re-sends identical bytes; exactly one transaction is mined."""
    world, flaky = flaky_world
    start = world.chain.nonce(world.operator.address)
    flaky.sent.clear()
    flaky.after = 1
    outcome = world.dep.anchor.anchor(world.operator, h("log"), 1, h("root"))
    assert outcome.receipt.status
    assert len(flaky.sent) == 2
    assert flaky.sent[0] == flaky.sent[1]
    assert world.chain.nonce(world.operator.address, "latest") == start + 1
    assert world.dep.anchor.checkpoint_count(h("log")) == 1


def test_refused_connection_is_retried(flaky_world: tuple[World, FlakyBackend]) -> None:
    """A request that never reached the node is simply sent again (same bytes)."""
    world, flaky = flaky_world
    start = world.chain.nonce(world.operator.address)
    flaky.sent.clear()
    flaky.before = 1
    world.dep.anchor.anchor(world.operator, h("log"), 1, h("root"))
    assert len(flaky.sent) == 2
    assert flaky.sent[0] == flaky.sent[1]
    assert world.chain.nonce(world.operator.address, "latest") == start + 1


def test_lost_batch_answer_resends_the_same_batch(flaky_world: tuple[World, FlakyBackend]) -> None:
    """Pipelined: a batch whose answer is lost is re-sent whole; every transaction is mined once."""
    world, flaky = flaky_world
    start = world.chain.nonce(world.operator.address)
    flaky.on_batch = True
    flaky.sent.clear()
    flaky.after = 1
    requests = [world.dep.anchor.prepare_anchor(h("log"), size, h("root")) for size in range(1, 6)]
    results = world.chain.send_many(world.operator, requests)
    assert [r.ok for r in results] == [True] * 5
    assert len(flaky.sent) == 2
    assert flaky.sent[0] == flaky.sent[1]
    assert world.chain.nonce(world.operator.address, "latest") == start + 5
    assert world.dep.anchor.checkpoint_count(h("log")) == 5


def test_retries_exhausted_raise_unreachable_naming_the_transaction(
    flaky_world: tuple[World, FlakyBackend],
) -> None:
    """When every attempt fails the error is Unreachable and tells the caller to look the hash up."""
    world, flaky = flaky_world
    flaky.before = FAST_RETRY.attempts
    with pytest.raises(Unreachable) as caught:
        world.dep.anchor.anchor(world.operator, h("log"), 1, h("root"))
    assert caught.value.code == "ledger.unreachable"
    assert "may still be mined" in str(caught.value)
    # Nothing reached the node, so the nonce was not used and the next send goes through.
    world.dep.anchor.anchor(world.operator, h("log"), 1, h("root"))
