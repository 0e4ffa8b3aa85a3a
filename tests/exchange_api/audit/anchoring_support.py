"""Helpers of the anchorer tests: a chain target that can go down, and a counter of the loop's ticks."""

from __future__ import annotations

import threading

from exchange_api.audit import Anchorer, AnchorReceipt, AnchorTarget, TickResult

WAIT_S = 20.0  # generous: the loops tick every few ms, this only bounds a broken run


class FlakyTarget:
    """An AnchorTarget that fails while ``down`` and reports each successful anchor."""

    def __init__(self, inner: AnchorTarget) -> None:
        self.inner = inner
        self.down = False
        self.anchored = threading.Event()

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("the chain is down")

    @property
    def chain_id(self) -> int:
        return self.inner.chain_id

    @property
    def contract(self) -> str:
        return self.inner.contract

    def latest(self, log_id: bytes) -> tuple[int, int, bytes] | None:
        self._check()
        return self.inner.latest(log_id)

    def anchor(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt:
        self._check()
        receipt = self.inner.anchor(log_id, size, root)
        self.anchored.set()
        return receipt

    def find(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt | None:
        self._check()
        return self.inner.find(log_id, size, root)


class Ticks:
    """Counts the background loop's ticks (wrapping ``Anchorer.tick``) so a test can wait for some."""

    def __init__(self, anchorer: Anchorer) -> None:
        self._inner = anchorer.tick
        self._cond = threading.Condition()
        self.results: list[TickResult] = []
        anchorer.tick = self  # type: ignore[method-assign]  # the loop calls self.tick()

    def __call__(self, *, force: bool = False) -> TickResult:
        try:
            result = self._inner(force=force)
        except Exception:
            result = TickResult(error="raised")
            raise
        finally:
            with self._cond:
                self.results.append(result)
                self._cond.notify_all()
        return result

    def wait(self, more: int) -> None:
        """Block until ``more`` further ticks have run."""
        with self._cond:
            target = len(self.results) + more
            assert self._cond.wait_for(lambda: len(self.results) >= target, timeout=WAIT_S)
