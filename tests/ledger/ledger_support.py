"""Helpers of the ledger client tests: a small deployed world per backend and wrappers that break transports.

Test modules import from here, never from ``conftest``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

import ledger
from ledger import Admin, Capability, Role, Signer
from ledger._backends import Backend, TransportError
from ledger.ids import org_id, text_hash

BACKENDS = ["eth-tester", pytest.param("anvil", marks=pytest.mark.anvil)]
FAST_RETRY = ledger.RetryPolicy(attempts=3, first_delay=0.001, max_delay=0.01)


def h(label: str) -> bytes:
    """A readable 32-byte test digest."""
    return text_hash("tdex.test", label)


@dataclass
class World:
    """A deployment with a LOG_OPERATOR admin (``operator``) and a department (``dept``)."""

    chain: ledger.Chain
    dep: ledger.Deployment
    operator: Signer
    dept: Signer


def build_world(chain: ledger.Chain) -> World:
    """Fund, deploy and admit a department on ``chain``."""
    operator, dept = Signer.generate(), Signer.generate()
    chain.fund([operator.address, dept.address])
    dep = ledger.deploy(
        chain, operator, [Admin(org_id("operator"), operator.address, Capability.LOG_OPERATOR)]
    )
    dep.consortium.propose_admission(operator, org_id("dept"), dept.address, Role.DEPARTMENT)
    return World(chain, dep, operator, dept)


def rolled_back(world: World) -> Iterator[World]:
    """Run a test from a snapshot of ``world`` and restore it afterwards."""
    snapshot = world.chain.snapshot()
    try:
        yield world
    finally:
        world.chain.revert_to(snapshot)


class FlakyBackend(Backend):
    """Wraps a backend; raises TransportError for chosen methods, after or before forwarding the request.

    ``after`` counts requests that reach the node and then "lose" the answer (the dangerous case for
    sending); ``before`` counts requests that fail without reaching it. Every request is recorded.
    """

    def __init__(
        self, inner: Backend, *, method: str, after: int = 0, before: int = 0, batch: bool = False
    ) -> None:
        self.inner = inner
        self.batches = inner.batches
        self.method = method
        self.after = after
        self.before = before
        self.on_batch = batch
        self.sent: list[Any] = []

    def _hit(self) -> tuple[bool, bool]:
        if self.before > 0:
            self.before -= 1
            return True, False
        if self.after > 0:
            self.after -= 1
            return False, True
        return False, False

    def request(self, method: str, params: list[Any]) -> Any:
        if method != self.method or self.on_batch:
            return self.inner.request(method, params)
        self.sent.append(params[0])
        fail_before, fail_after = self._hit()
        if fail_before:
            raise TransportError("connection refused (simulated)")
        result = self.inner.request(method, params)
        if fail_after:
            raise TransportError("connection reset after the request was sent (simulated)")
        return result

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not self.on_batch or not calls or calls[0][0] != self.method:
            return self.inner.batch(calls)
        self.sent.append([params[0] for _, params in calls])
        fail_before, fail_after = self._hit()
        if fail_before:
            raise TransportError("connection refused (simulated)")
        result = self.inner.batch(calls)
        if fail_after:
            raise TransportError("connection reset after the batch was sent (simulated)")
        return result

    def close(self) -> None:
        self.inner.close()
