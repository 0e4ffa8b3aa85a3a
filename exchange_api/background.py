"""One background loop for the service's workers (outbox relay, chain sync, audit anchorer).

Each worker gives a ``step`` that does one pass and says whether it made progress. The loop runs
it in a daemon thread until :meth:`BackgroundLoop.stop`: straight away again after progress, after
``interval_s`` when idle, and after an exponentially growing pause (capped) while passes fail, so a
chain outage is neither hammered nor allowed to kill the thread. Nothing is kept in the loop
itself: each worker's durable queue (outbox rows, the sync cursor, checkpoint rows) is the state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from exchange_api.errors import ExchangeError

__all__ = ["BackgroundLoop"]

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs ``step`` in a named daemon thread until stopped, backing off while it raises."""

    def __init__(
        self,
        name: str,
        step: Callable[[], bool],
        interval_s: float,
        *,
        max_backoff_s: float = 60.0,
        join_timeout_s: float = 30.0,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval_s
        self._max_backoff = max(max_backoff_s, interval_s)
        self._join_timeout = join_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive failed passes (0 after any pass that did not raise)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (a no-op when it already runs)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop after its current pass and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout)
            self._thread = None

    def delay(self) -> float:
        """The pause before the next pass after ``failures`` consecutive failures."""
        if self.failures == 0:
            return self._interval
        return min(self._max_backoff, self._interval * 2 ** min(self.failures, 16))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                progressed = self._step()
            except ExchangeError as error:
                # Expected outages (the chain, a witness) are one line each, not a traceback.
                self.failures += 1
                log.warning(
                    "%s pass failed (%s): %s; retrying in %.1f s", self.name, error.code, error, self.delay()
                )
                progressed = False
            except Exception:  # the worker must outlive any single failure; its rows keep their state
                self.failures += 1
                log.exception("%s pass failed; retrying in %.1f s", self.name, self.delay())
                progressed = False
            else:
                self.failures = 0
            if not progressed:
                self._stop.wait(self.delay())
