"""Batched anchoring: N entries cost one transaction; outages and crashes lose nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from audit_support import ORIGIN, T0, anchor_chain, fill, make_anchorer, make_keys, make_store
from eth_hash.auto import keccak
from sqlalchemy import select

import ledger
from exchange_api.audit import AnchorReceipt, LedgerAnchorTarget, log_id_for
from exchange_api.audit._models import AuditCheckpointRow

LOG_ID = log_id_for(ORIGIN)


class Clock:
    """A settable clock for the time threshold."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _rows(store: object) -> list[tuple[int, str]]:
    with store.sessions() as session:  # type: ignore[attr-defined]
        return [
            (r.size, r.status)
            for r in session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.size))
        ]


def test_many_entries_one_transaction(tmp_path: Path) -> None:
    """1,000 entries are anchored by a single AuditAnchor transaction whose event names the tree size."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 1000)
    with anchor_chain() as (chain, dep, signer):
        anchorer = make_anchorer(store, keys, dep, signer, max_entries=100)
        start = chain.block_number()
        result = anchorer.tick()
        assert result.anchored is not None and result.error is None
        assert dep.anchor.checkpoint_count(LOG_ID) == 1
        latest = dep.anchor.latest(LOG_ID)
        assert (latest.tree_size, latest.root_hash) == (1000, store.log.root(1000))
        events = dep.anchor.events(start, names=["CheckpointAnchored"])
        assert len(events) == 1 and events[0]["treeSize"] == 1000
        assert result.anchored.tx_hash == events[0].tx_hash
        assert anchorer.tick().anchored is None  # nothing new: no transaction
        assert dep.anchor.checkpoint_count(LOG_ID) == 1
    store.engine.dispose()


def test_size_and_time_thresholds(tmp_path: Path) -> None:
    """A checkpoint is signed once enough entries wait, or once the oldest has waited long enough."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    clock = Clock(T0)
    anchorer = make_anchorer(store, keys, None, None, max_entries=50, max_delay_s=60, clock=clock)
    fill(store, 10)
    clock.now = T0 + dt.timedelta(seconds=30)
    assert anchorer.tick().signed is None
    clock.now = T0 + dt.timedelta(seconds=70)  # the first entry is now 70 s old
    assert anchorer.tick().signed is not None
    fill(store, 49, start=10, at=clock.now)  # fresh entries: only their number can trigger
    assert anchorer.tick().signed is None
    fill(store, 1, start=59, at=clock.now)
    signed = anchorer.tick().signed
    assert signed is not None and signed.size == 60
    assert _rows(store) == [(10, "pending"), (60, "pending")]
    store.engine.dispose()


class Flaky:
    """A target that is down until told otherwise, or that dies right after sending."""

    def __init__(self, inner: LedgerAnchorTarget) -> None:
        self.inner = inner
        self.down = False
        self.die_after_send = False
        self.sent = 0

    @property
    def chain_id(self) -> int:
        return self.inner.chain_id

    @property
    def contract(self) -> str:
        return self.inner.contract

    def latest(self, log_id: bytes) -> tuple[int, int, bytes] | None:
        if self.down:
            raise ledger.errors.Unreachable("chain is down")
        return self.inner.latest(log_id)

    def anchor(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt:
        if self.down:
            raise ledger.errors.Unreachable("chain is down")
        receipt = self.inner.anchor(log_id, size, root)
        self.sent += 1
        if self.die_after_send:
            raise RuntimeError("killed between sending and recording")
        return receipt

    def find(self, log_id: bytes, size: int, root: bytes) -> AnchorReceipt | None:
        return self.inner.find(log_id, size, root)


def test_outage_loses_nothing_and_coalesces(tmp_path: Path) -> None:
    """While the chain is down checkpoints wait; afterwards one transaction anchors the newest."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    with anchor_chain() as (_chain, dep, signer):
        target = Flaky(LedgerAnchorTarget(dep.anchor, signer))
        anchorer = make_anchorer(store, keys, None, None, max_entries=10)
        anchorer.target = target
        target.down = True
        for start in (0, 10, 20):
            fill(store, 10, start=start)
            result = anchorer.tick()
            assert result.signed is not None and result.error is not None
            assert "chain is down" in result.error
        assert _rows(store) == [(10, "pending"), (20, "pending"), (30, "pending")]
        target.down = False
        result = anchorer.tick()
        assert result.anchored is not None and result.anchored.size == 30
        assert _rows(store) == [(10, "superseded"), (20, "superseded"), (30, "anchored")]
        assert dep.anchor.checkpoint_count(LOG_ID) == 1
        assert target.sent == 1
    store.engine.dispose()


def test_crash_after_send_adopts_the_transaction(tmp_path: Path) -> None:
    """Killed after sending, the next run finds the anchor on chain instead of sending it again."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 25)
    with anchor_chain() as (_chain, dep, signer):
        target = Flaky(LedgerAnchorTarget(dep.anchor, signer))
        anchorer = make_anchorer(store, keys, None, None)
        anchorer.target = target
        target.die_after_send = True
        assert anchorer.tick(force=True).error is not None
        assert _rows(store) == [(25, "pending")]
        target.die_after_send = False
        result = anchorer.tick()
        assert result.anchored is not None and result.anchored.sequence == 0
        assert target.sent == 1
        assert dep.anchor.checkpoint_count(LOG_ID) == 1
    store.engine.dispose()


def test_non_operator_cannot_anchor(tmp_path: Path) -> None:
    """An account without LOG_OPERATOR is refused by the contract; the checkpoint stays pending with why."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 3)
    with anchor_chain() as (chain, dep, _signer):
        stranger = ledger.Signer.generate()
        chain.fund(stranger.address)
        anchorer = make_anchorer(store, keys, dep, stranger)
        result = anchorer.tick(force=True)
        assert result.error is not None and "AuditAnchorNotLogOperator" in result.error
        with store.sessions() as session:
            row = session.scalar(select(AuditCheckpointRow))
            assert row is not None and row.status == "pending" and row.attempts == 1
            assert row.last_error is not None and "AuditAnchorNotLogOperator" in row.last_error
        assert keccak(b"unused")  # the chain was reachable throughout
    store.engine.dispose()
