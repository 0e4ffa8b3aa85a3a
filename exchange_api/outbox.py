"""The outbox relay: signs, stores, sends, confirms and records every queued chain write, once.

Each row walks ``pending → signed → sent → anchored`` (or ``failed`` with its reason). The signed
raw transaction and its nonce are committed *before* the first broadcast, so a relay killed
between sending and recording re-broadcasts the very same transaction on restart instead of
signing a second one: the chain sees one transaction, whatever happens. While the chain is down
rows keep their state and retry with back-off; nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.background import BackgroundLoop
from exchange_api.chain import SIGNERS, ChainWriter, PreparedTx
from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from exchange_api.errors import ChainRejected, ChainUnavailable
from exchange_api.models import OutboxEntry
from exchange_api.services.context import SYSTEM, Ctx, utcnow
from exchange_api.services.events import record_event

__all__ = ["Relay", "RelayStats"]

_MAX_BACKOFF_S = 60.0


@dataclass
class RelayStats:
    """What one pass of the relay did."""

    signed: int = 0
    sent: int = 0
    anchored: int = 0
    failed: int = 0
    waiting: int = 0
    unavailable: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def progressed(self) -> bool:
        """Whether anything moved in this pass."""
        return bool(self.signed or self.sent or self.anchored or self.failed)


class Relay:
    """Drains the outbox to a `ChainWriter`; run `run_once()` in a loop or `start()` a thread."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        writer: ChainWriter,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        batch: int = 200,
        after_broadcast: Callable[[OutboxEntry], None] | None = None,
    ) -> None:
        self._factory = factory
        self._writer = writer
        self._settings = settings
        self._clock = clock
        self._batch = batch
        # A test hook: called after a broadcast and before the relay records it (to simulate a crash).
        self._after_broadcast = after_broadcast
        # Straight on while rows move, `relay_interval_s` when idle, backing off while passes fail.
        self._loop = BackgroundLoop(
            "outbox-relay", lambda: self.run_once().progressed, settings.relay_interval_s
        )

    # ------------------------------------------------------------------ loop
    def start(self) -> None:
        """Run passes in a background thread until `stop()`."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the background thread after its current pass."""
        self._loop.stop()

    def drain(self, max_passes: int = 100) -> RelayStats:
        """Run passes until nothing moves (tests, the demo, the benchmark); returns the totals."""
        total = RelayStats()
        for _ in range(max_passes):
            stats = self.run_once()
            for name in ("signed", "sent", "anchored", "failed"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            total.waiting = stats.waiting
            total.unavailable = stats.unavailable
            total.errors.extend(stats.errors)
            if not stats.progressed:
                break
        return total

    # ------------------------------------------------------------------ one pass
    def run_once(self) -> RelayStats:
        """One pass: sign what is ready, send what is signed, confirm what is sent."""
        stats = RelayStats()
        try:
            self._sign_ready(stats)
            self._send_signed(stats)
            self._confirm_sent(stats)
        except ChainUnavailable as error:
            stats.unavailable = True
            stats.errors.append(str(error))
            self._back_off(str(error))
        with session_scope(self._factory) as session:
            stats.waiting = (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.status.in_(("pending", "signed", "sent")))
                )
                or 0
            )
        return stats

    def _rows(self, session: Session, status: str) -> list[OutboxEntry]:
        return list(
            session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.status == status, OutboxEntry.next_attempt_at <= self._clock())
                .order_by(OutboxEntry.id)
                .limit(self._batch)
            )
        )

    def _inputs(self, session: Session, row: OutboxEntry) -> tuple[str, dict[str, Any]]:
        """('ready'|'wait'|'failed', what the dependency produced)."""
        if row.depends_on_id is None:
            return "ready", {}
        dep = session.get(OutboxEntry, row.depends_on_id)
        assert dep is not None
        if dep.status == "anchored":
            return "ready", dict(dep.result or {})
        if dep.status == "failed":
            return "failed", {}
        return "wait", {}

    def _next_nonce(self, session: Session, account: str) -> int:
        chain_next = self._writer.pending_nonce(account)
        stored = session.scalar(
            select(func.max(OutboxEntry.nonce)).where(
                OutboxEntry.sender_account == account, OutboxEntry.status.in_(("signed", "sent"))
            )
        )
        return max(chain_next, (stored + 1) if stored is not None else 0)

    def _sign_ready(self, stats: RelayStats) -> None:
        with session_scope(self._factory) as session:
            nonces: dict[str, int] = {}
            for row in self._rows(session, "pending"):
                state, inputs = self._inputs(session, row)
                if state == "wait":
                    continue
                now = self._clock()
                if state == "failed":
                    self._fail(
                        session, row, "outbox.dependency_failed: an earlier write it needs failed", now
                    )
                    stats.failed += 1
                    continue
                try:
                    account = self._writer.account_of(row.sender_org_id)
                except ChainRejected as error:
                    # No key held (yet) for the sender: a configuration gap, not a verdict on the
                    # write. It waits, visibly, until the key is there.
                    row.last_error = f"{error.code}: {error}"
                    continue
                if account not in nonces:
                    nonces[account] = self._next_nonce(session, account)
                sign = getattr(self._writer, SIGNERS[row.kind])
                try:
                    prepared: PreparedTx = sign(row.sender_org_id, row.payload, inputs, nonces[account])
                except ChainRejected as error:
                    if self._earlier_unsettled(session, row):
                        # A refusal may only mean an earlier write (an admission, a registration)
                        # is not mined yet: wait for those before calling it final.
                        row.last_error = f"{error.code}: {error} (waiting for earlier writes)"
                        continue
                    self._fail(session, row, f"{error.code}: {error}", now)
                    stats.failed += 1
                    continue
                nonces[account] += 1
                row.sender_account = prepared.account
                row.nonce = prepared.nonce
                row.raw_tx = prepared.raw
                row.tx_hash = prepared.tx_hash
                row.result = inputs  # carried forward: later writes read ids from here
                row.status = "signed"
                row.updated_at = now
                stats.signed += 1
        # Committed: the raw transactions exist before any of them is broadcast.

    def _send_signed(self, stats: RelayStats) -> None:
        with session_scope(self._factory) as session:
            for row in self._rows(session, "signed"):
                assert row.raw_tx and row.tx_hash and row.sender_account is not None and row.nonce is not None
                prepared = PreparedTx(row.sender_account, row.nonce, row.raw_tx, row.tx_hash)
                try:
                    self._writer.broadcast(prepared)
                except ChainRejected as error:
                    # The nonce was taken by something else: this transaction can never land, so a
                    # fresh one (new nonce) is safe; it is signed on the next pass.
                    if (
                        error.code == "chain.nonce_too_low"
                        and self._writer.confirmation(row.kind, row.tx_hash) is None
                    ):
                        self._reset(row, f"{error.code}: re-signing with a fresh nonce")
                        continue
                    self._fail(session, row, f"{error.code}: {error}", self._clock())
                    stats.failed += 1
                    continue
                if self._after_broadcast is not None:
                    self._after_broadcast(row)
                row.status = "sent"
                row.attempts += 1
                row.updated_at = self._clock()
                stats.sent += 1

    def _confirm_sent(self, stats: RelayStats) -> None:
        with session_scope(self._factory) as session:
            for row in self._rows(session, "sent"):
                assert row.tx_hash is not None
                outcome = self._writer.confirmation(row.kind, row.tx_hash)
                now = self._clock()
                if outcome is None:
                    if (
                        row.sender_account is not None
                        and row.nonce is not None
                        and self._writer.mined_nonce(row.sender_account) > row.nonce
                        and self._writer.confirmation(row.kind, row.tx_hash) is None
                    ):
                        # Our nonce was mined by another transaction and ours never will be.
                        self._reset(row, "chain.replaced: nonce used by another transaction; re-signing")
                    continue
                row.block_number = outcome.block_number
                row.updated_at = now
                ctx = Ctx(session, self._settings, SYSTEM, self._clock)
                if outcome.ok:
                    row.status = "anchored"
                    row.anchored_at = now
                    row.result = {**(row.result or {}), **dict(outcome.result)}
                    row.last_error = None
                    stats.anchored += 1
                    record_event(
                        ctx,
                        "chain.anchored",
                        SYSTEM.org_id,
                        f"outbox:{row.id}",
                        {"kind": row.kind, "tx_hash": row.tx_hash, "block": outcome.block_number},
                    )
                else:
                    self._fail(session, row, f"chain.reverted: {outcome.error}", now)
                    stats.failed += 1

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _earlier_unsettled(session: Session, row: OutboxEntry) -> bool:
        return (
            session.scalar(
                select(OutboxEntry.id)
                .where(OutboxEntry.id < row.id, OutboxEntry.status.in_(("pending", "signed", "sent")))
                .limit(1)
            )
            is not None
        )

    def _fail(self, session: Session, row: OutboxEntry, reason: str, now: dt.datetime) -> None:
        row.status = "failed"
        row.last_error = reason
        row.updated_at = now
        record_event(
            Ctx(session, self._settings, SYSTEM, self._clock),
            "chain.failed",
            SYSTEM.org_id,
            f"outbox:{row.id}",
            {"kind": row.kind, "reason": reason},
        )

    @staticmethod
    def _reset(row: OutboxEntry, reason: str) -> None:
        row.status = "pending"
        row.raw_tx = row.tx_hash = None
        row.nonce = None
        row.last_error = reason

    def _back_off(self, reason: str) -> None:
        with session_scope(self._factory) as session:
            now = self._clock()
            for row in session.scalars(
                select(OutboxEntry).where(OutboxEntry.status.in_(("pending", "signed", "sent")))
            ):
                delay = min(_MAX_BACKOFF_S, self._settings.relay_interval_s * 2 ** min(row.attempts, 6))
                row.attempts += 1
                row.last_error = f"chain.unavailable: {reason}"
                row.next_attempt_at = now + dt.timedelta(seconds=delay)
                row.updated_at = now
