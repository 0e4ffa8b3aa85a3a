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
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select, update
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
from exchange_api.audit.errors import AnchorFailed
from exchange_api.background import BackgroundLoop
from exchange_api.core.db import session_scope

if TYPE_CHECKING:
    import ledger

__all__ = [
    "AnchorPolicy",
    "AnchorReceipt",
    "AnchorTarget",
    "Anchorer",
    "AnchoringStatus",
    "LedgerAnchorTarget",
    "TickResult",
]

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back naive; the store only ever writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


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


@dataclass(frozen=True)
class AnchoringStatus:
    """Where anchoring stands: the log's size, the largest anchored size, and how stale that is.

    ``lag_s`` is the age of the oldest entry no anchored checkpoint covers yet (0 when every entry
    is covered): what an auditor reading the chain would miss, and for how long.
    """

    log_size: int
    anchored_size: int
    lag_s: float
    pending_checkpoints: int
    last_error: str | None
    failures: int
    running: bool

    def to_json(self) -> dict[str, Any]:
        """The status as a JSON object (``/readyz`` details)."""
        return {
            "log_size": self.log_size,
            "anchored_size": self.anchored_size,
            "lag_s": round(self.lag_s, 3),
            "pending_checkpoints": self.pending_checkpoints,
            "last_error": self.last_error,
            "failures": self.failures,
            "running": self.running,
        }


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
        self._loop = BackgroundLoop("audit-anchorer", self._pass, interval_s)
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

    # ------------------------------------------------------------------ state

    def status(self, now: dt.datetime | None = None) -> AnchoringStatus:
        """Where anchoring stands, read from the store (so any process sees the same answer)."""
        now = now or self._clock()
        with session_scope(self.log.sessions) as session:
            size = log_size(session)
            anchored = session.scalar(
                select(func.max(AuditCheckpointRow.size)).where(AuditCheckpointRow.status == "anchored")
            )
            covered = int(anchored or 0)
            oldest = session.scalar(select(AuditEntryRow.occurred_at).where(AuditEntryRow.idx == covered))
            pending = session.scalar(
                select(func.count())
                .select_from(AuditCheckpointRow)
                .where(AuditCheckpointRow.status == "pending")
            )
            # The newest pending checkpoint is the one the next pass tries: its error is the current one.
            last_error = session.scalar(
                select(AuditCheckpointRow.last_error)
                .where(AuditCheckpointRow.status == "pending")
                .order_by(AuditCheckpointRow.size.desc())
                .limit(1)
            )
        lag = 0.0
        if size > covered and oldest is not None:
            lag = max(0.0, (now - _aware(oldest)).total_seconds())
        return AnchoringStatus(
            log_size=size,
            anchored_size=covered,
            lag_s=lag,
            pending_checkpoints=int(pending or 0),
            last_error=last_error,
            failures=self._loop.failures,
            running=self._loop.running,
        )

    # ------------------------------------------------------------------ background loop

    def _pass(self) -> bool:
        result = self.tick()
        if result.error is not None:
            # Raising lets the loop back off while the chain is down; the row stays pending.
            raise AnchorFailed(result.error)
        return False  # thresholds are measured in entries and seconds: wait an interval either way

    def start(self) -> None:
        """Tick in a background thread until :meth:`stop`, backing off while anchoring fails."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the background thread after its current tick."""
        self._loop.stop()

    def close(self) -> None:
        """Stop, and close the witnesses' connections (those that hold any, like ``RemoteWitness``)."""
        self.stop()
        for witness in self.witnesses:
            close = getattr(witness, "close", None)
            if callable(close):
                close()
