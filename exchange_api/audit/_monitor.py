"""The chain monitor: follows the log's anchors, checks each extends the previous, alarms when they stop.

Each new anchored checkpoint (tree size, root) must be an append-only extension of the one before:
the monitor asks the log for a consistency proof between the two and verifies it against both
anchored roots, so a log that rewrote history cannot pass, whatever it serves. It also checks the
log's own root at the anchored size. When no anchor has arrived for ``max_gap_s`` while the log
holds entries beyond the last anchor, it raises a ``stalled`` alarm.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from exchange_api.audit._check import CheckpointRef
from tlog import TlogError, verify_consistency

if TYPE_CHECKING:
    import ledger

__all__ = ["AnchoredHead", "ChainMonitor", "MonitorAlarm", "MonitorReport", "anchored_checkpoints"]


@dataclass(frozen=True)
class AnchoredHead:
    """One anchored checkpoint as the contract stores it."""

    sequence: int
    size: int
    root: bytes
    anchored_at: int
    block_number: int


def anchored_checkpoints(anchor: ledger.AuditAnchor, log_id: bytes, start: int = 0) -> list[AnchoredHead]:
    """Every anchored checkpoint of ``log_id`` from sequence ``start``, in order."""
    count = anchor.checkpoint_count(log_id)
    out = []
    for sequence in range(start, count):
        cp = anchor.checkpoint_at(log_id, sequence)
        out.append(AnchoredHead(sequence, cp.tree_size, bytes(cp.root_hash), cp.anchored_at, cp.block_number))
    return out


def as_refs(heads: Sequence[AnchoredHead]) -> list[CheckpointRef]:
    """Anchored heads as checkpoints for the full check."""
    return [CheckpointRef(h.size, h.root, f"chain seq {h.sequence}") for h in heads]


class LogView(Protocol):
    """What the monitor needs from the log (the store, or the exchange over HTTP)."""

    def size(self) -> int:
        """How many entries the log holds now."""
        ...

    def root(self, size: int) -> bytes:
        """The log's root at ``size``."""
        ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """The consistency proof between two sizes."""
        ...


@dataclass(frozen=True)
class MonitorAlarm:
    """Something wrong: ``inconsistent`` (history rewritten), ``root_mismatch``, or ``stalled``."""

    kind: str
    detail: str
    sequence: int | None = None


@dataclass
class MonitorReport:
    """What one poll saw."""

    checked: list[AnchoredHead] = field(default_factory=list)
    alarms: list[MonitorAlarm] = field(default_factory=list)
    latest: AnchoredHead | None = None
    log_size: int = 0

    @property
    def ok(self) -> bool:
        """Whether the poll raised no alarm."""
        return not self.alarms

    def lines(self) -> list[str]:
        """Human-readable lines."""
        out = [f"verified anchor {h.sequence}: size {h.size}, root {h.root.hex()}" for h in self.checked]
        if self.latest is not None:
            out.append(
                f"latest anchor {self.latest.sequence} covers {self.latest.size} of {self.log_size} entries"
            )
        else:
            out.append(f"no anchor yet; the log holds {self.log_size} entries")
        out.extend(f"ALARM {a.kind}: {a.detail}" for a in self.alarms)
        return out


def _now_s() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


class ChainMonitor:
    """Polls the anchors of one log; keeps the last verified one between polls."""

    def __init__(
        self,
        read_anchors: Callable[[int], list[AnchoredHead]],
        log: LogView,
        *,
        max_gap_s: float = 600.0,
        clock: Callable[[], int] = _now_s,
        started_at: int | None = None,
    ) -> None:
        self._read = read_anchors
        self._log = log
        self._max_gap = max_gap_s
        self._clock = clock
        self._last: AnchoredHead | None = None
        self._started = started_at if started_at is not None else clock()

    @property
    def last_verified(self) -> AnchoredHead | None:
        """The last anchor checked."""
        return self._last

    def poll(self) -> MonitorReport:
        """Check anchors that arrived since the last poll, then whether anchoring has stalled."""
        report = MonitorReport()
        start = self._last.sequence + 1 if self._last is not None else 0
        log_size = self._log.size()
        report.log_size = log_size
        for head in self._read(start):
            alarm = self._check(self._last, head, log_size)
            if alarm is not None:
                report.alarms.append(alarm)
                break  # later anchors cannot be judged against a broken one
            report.checked.append(head)
            self._last = head
        report.latest = self._last
        since = self._last.anchored_at if self._last is not None else self._started
        covered = self._last.size if self._last is not None else 0
        gap = self._clock() - since
        if log_size > covered and gap > self._max_gap:
            report.alarms.append(
                MonitorAlarm(
                    "stalled",
                    f"no anchor for {gap} s while {log_size - covered} entries wait "
                    f"(limit {self._max_gap:g} s)",
                )
            )
        return report

    def _check(self, previous: AnchoredHead | None, head: AnchoredHead, log_size: int) -> MonitorAlarm | None:
        if head.size > log_size:
            return MonitorAlarm(
                "root_mismatch",
                f"anchor {head.sequence} covers {head.size} entries, the log has {log_size}",
                head.sequence,
            )
        try:
            if previous is not None:
                proof = self._log.consistency_proof(previous.size, head.size)
                verify_consistency(previous.size, head.size, proof, previous.root, head.root)
        except TlogError as err:
            before = f"anchor {previous.sequence} (size {previous.size})" if previous else "-"
            detail = f"anchor {head.sequence} (size {head.size}) does not extend {before}: {err}"
            return MonitorAlarm("inconsistent", detail, head.sequence)
        if self._log.root(head.size) != head.root:
            return MonitorAlarm(
                "root_mismatch",
                f"the log's root at size {head.size} is not the root anchored as {head.sequence}",
                head.sequence,
            )
        return None
