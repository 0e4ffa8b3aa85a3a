"""Batched anchoring: sign a checkpoint on a size or time threshold and anchor it in one transaction.

One ``AuditAnchor.anchor`` call covers every entry since the previous anchor, however many there
are, so the chain's transaction rate never limits the logging rate.

Why not the exchange's outbox: an outbox row is a write that must land exactly as queued, while
checkpoints coalesce: after an outage only the newest matters, because it covers all the older
ones. Checkpoints are therefore their own durable queue (``audit_checkpoints``, committed before
anything is sent), anchored by the log operator's own account (so its nonces never interleave
with the relay's). Nothing is lost while the chain is down: rows stay ``pending`` and the next
tick anchors the newest, marking older ones ``superseded``. Nothing is anchored twice: the
contract refuses a tree size that does not grow, and before sending, the anchorer asks the chain
for the log's latest checkpoint and adopts the matching transaction if a previous run (killed
between sending and recording) already anchored it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange_api.audit._checkpoints import (
    LogOperator,
    WitnessClient,
    latest_checkpoint,
    sign_and_cosign,
    store_checkpoint,
)
from exchange_api.audit._log import AuditLog
from exchange_api.audit._models import AuditCheckpointRow, AuditEntryRow
from exchange_api.audit._store import ensure_log, log_size
from exchange_api.audit.bundle import log_id_for
from exchange_api.core.db import session_scope

if TYPE_CHECKING:
    import ledger

__all__ = [
    "AnchorPolicy",
    "AnchorReceipt",
    "AnchorTarget",
    "Anchorer",
    "LedgerAnchorTarget",
    "TickResult",
]

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AnchorPolicy:
    """When to sign and anchor: ``max_entries`` unanchored entries, or the oldest ``max_delay_s`` old."""

    max_entries: int = 1000
    max_delay_s: float = 60.0
    min_witnesses: int = 1


@dataclass(frozen=True)
class AnchorReceipt:
    """An anchoring transaction: the checkpoint's sequence number, transaction hash and block."""

    sequence: int
    tx_hash: str
    block_number: int


class AnchorTarget(Protocol):
    """The chain side of anchoring (the AuditAnchor contract, as the log operator)."""

    @property
    def chain_id(self) -> int: ...

    @property
    def contract(self) -> str: ...

    def latest(self, log_id: bytes) -> tuple[int, int, bytes] | None:
        """(sequence, tree size, root) of the log's latest anchored checkpoint, None if none."""
        ...

    def anchor(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt:
        """Anchor (``size``, ``root``) and wait for the receipt; raise on failure."""
        ...

    def find(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt | None:
        """The transaction that anchored exactly (``size``, ``root``) for ``log_id``, if any."""
        ...


class LedgerAnchorTarget:
    """An :class:`AnchorTarget` through ``ledger``'s AuditAnchor facade and the operator's account."""

    def __init__(self, anchor: ledger.AuditAnchor, signer: ledger.Signer, *, from_block: int = 0) -> None:
        self._anchor = anchor
        self._signer = signer
        self._from_block = from_block

    @property
    def chain_id(self) -> int:
        return self._anchor.chain.chain_id

    @property
    def contract(self) -> str:
        return self._anchor.address

    def latest(self, log_id: bytes) -> tuple[int, int, bytes] | None:
        if self._anchor.checkpoint_count(log_id) == 0:
            return None
        cp = self._anchor.latest(log_id)
        return cp.sequence, cp.tree_size, bytes(cp.root_hash)

    def anchor(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt:
        outcome = self._anchor.anchor(self._signer, log_id, size, root)
        return AnchorReceipt(outcome.sequence, outcome.receipt.tx_hash, outcome.receipt.block_number)

    def find(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt | None:
        for event in self._anchor.events(self._from_block, names=["CheckpointAnchored"]):
            if event["logId"] == log_id and event["treeSize"] == size and event["rootHash"] == root:
                return AnchorReceipt(int(event["sequence"]), event.tx_hash, event.block_number)
        return None


@dataclass
class TickResult:
    """What one tick did: the checkpoint it signed, the one it anchored, the error that stopped it."""

    signed: AuditCheckpointRow | None = None
    anchored: AuditCheckpointRow | None = None
    error: str | None = None


class Anchorer:
    """Signs checkpoints on the policy's thresholds and anchors the newest one; ``tick`` or ``start``.

    Without a ``target`` it only signs and cosigns (a log with no chain, or a chain outage by design).
    """

    def __init__(
        self,
        log: AuditLog,
        operator: LogOperator,
        witnesses: Sequence[WitnessClient],
        target: AnchorTarget | None,
        policy: AnchorPolicy | None = None,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        interval_s: float = 1.0,
    ) -> None:
        self.log = log
        self.operator = operator
        self.witnesses = tuple(witnesses)
        self.target = target
        self.policy = policy or AnchorPolicy()
        self._clock = clock
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        with session_scope(log.sessions) as session:
            ensure_log(session, operator.origin, clock())

    # ------------------------------------------------------------------ policy

    def due(self, session: Session, now: dt.datetime) -> bool:
        """Whether the entries since the last checkpoint call for a new one."""
        size = log_size(session)
        last = latest_checkpoint(session)
        done = last.size if last is not None else 0
        if size <= done:
            return False
        if size - done >= self.policy.max_entries:
            return True
        oldest = session.scalar(select(AuditEntryRow.occurred_at).where(AuditEntryRow.idx == done))
        return oldest is not None and (now - oldest).total_seconds() >= self.policy.max_delay_s

    # ------------------------------------------------------------------ one tick

    def tick(self, *, force: bool = False) -> TickResult:
        """Sign a checkpoint if due (or ``force``d and the log grew), then anchor the newest pending one."""
        with self._lock:
            result = TickResult()
            now = self._clock()
            with session_scope(self.log.sessions) as session:
                wanted = force or self.due(session, now)
                last = latest_checkpoint(session)
                size = log_size(session)
            if wanted and size > (last.size if last is not None else 0):
                note = sign_and_cosign(
                    self.log.tree(),
                    size,
                    self.operator,
                    self.witnesses,
                    min_witnesses=self.policy.min_witnesses,
                )
                with session_scope(self.log.sessions) as session:
                    result.signed = store_checkpoint(session, note, self.operator, self.witnesses, now)
            if self.target is not None:
                self._anchor_newest(self.target, result)
            return result

    def _anchor_newest(self, target: AnchorTarget, result: TickResult) -> None:
        with session_scope(self.log.sessions) as session:
            row = session.scalar(
                select(AuditCheckpointRow)
                .where(AuditCheckpointRow.status == "pending")
                .order_by(AuditCheckpointRow.size.desc())
                .limit(1)
            )
            if row is None:
                return
            row_id, size, root = row.id, row.size, bytes(row.root)
        log_id = log_id_for(self.operator.origin)
        try:
            receipt: AnchorReceipt | None = None
            on_chain = target.latest(log_id)
            if on_chain is not None and on_chain[1] >= size:
                # Anchored by an earlier run that died before recording it, or by someone else.
                receipt = target.find(log_id, size, root)
                if receipt is None:
                    raise RuntimeError(
                        f"the chain already holds tree size {on_chain[1]} for this log, "
                        f"but no anchor of size {size} with this root"
                    )
            else:
                receipt = target.anchor(log_id, size, root)
        except Exception as err:  # any chain failure leaves the row pending for the next tick
            message = f"{type(err).__name__}: {err}"
            log.warning("anchoring checkpoint of size %d failed: %s", size, message)
            with session_scope(self.log.sessions) as session:
                session.execute(
                    update(AuditCheckpointRow)
                    .where(AuditCheckpointRow.id == row_id)
                    .values(attempts=AuditCheckpointRow.attempts + 1, last_error=message[:2000])
                )
            result.error = message
            return
        now = self._clock()
        with session_scope(self.log.sessions) as session:
            anchored = session.get(AuditCheckpointRow, row_id)
            assert anchored is not None
            anchored.status = "anchored"
            anchored.chain_id = target.chain_id
            anchored.contract = target.contract
            anchored.log_id = "0x" + log_id.hex()
            anchored.sequence = receipt.sequence
            anchored.tx_hash = receipt.tx_hash
            anchored.block_number = receipt.block_number
            anchored.anchored_at = now
            anchored.last_error = None
            session.execute(
                update(AuditCheckpointRow)
                .where(AuditCheckpointRow.status == "pending", AuditCheckpointRow.size < size)
                .values(status="superseded")
            )
            result.anchored = anchored

    # ------------------------------------------------------------------ background loop

    def start(self) -> None:
        """Tick in a background thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="audit-anchorer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread after its current tick."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop must outlive one failure; rows keep their state
                log.exception("audit anchoring tick failed")
            self._stop.wait(self._interval)
