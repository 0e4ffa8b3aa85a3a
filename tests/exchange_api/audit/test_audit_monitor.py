"""The chain monitor verifies each anchor extends the previous one and alarms when anchors stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from audit_support import ORIGIN, anchor_chain, entry, fill, make_anchorer, make_keys, make_store
from sqlalchemy import update

import ledger
from exchange_api.audit import (
    AnchoredHead,
    AuditLog,
    ChainMonitor,
    anchored_checkpoints,
    append_entries,
    log_id_for,
)
from exchange_api.audit._models import AuditEntryRow
from exchange_api.core.db import session_scope

LOG_ID = log_id_for(ORIGIN)


class Served:
    """The log as the exchange serves it to the monitor (swappable, to model a rewrite)."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def size(self) -> int:
        return self.log.size()

    def root(self, size: int) -> bytes:
        return self.log.root(size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return self.log.consistency_proof(size1, size2)


def _reader(dep: ledger.Deployment) -> Callable[[int], list[AnchoredHead]]:
    return lambda start: anchored_checkpoints(dep.anchor, LOG_ID, start)


def test_consistent_anchors_pass(tmp_path: Path) -> None:
    """Three anchors of a growing log are each verified against the previous one."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    with anchor_chain() as (chain, dep, signer):
        anchorer = make_anchorer(store, keys, dep, signer)
        for start in (0, 10, 30):
            fill(store, 10 if start < 30 else 5, start=start)
            assert anchorer.tick(force=True).anchored is not None
        now = chain.timestamp()
        monitor = ChainMonitor(_reader(dep), store.log, clock=lambda: now)
        report = monitor.poll()
        assert report.ok, report.lines()
        assert [h.size for h in report.checked] == [10, 20, 25]
        assert report.latest is not None and report.latest.sequence == 2
        again = monitor.poll()
        assert again.ok and again.checked == []
    store.engine.dispose()


def test_rewritten_history_is_alarmed(tmp_path: Path) -> None:
    """When the log serves a tree that rewrote anchored entries, the next anchor is flagged inconsistent."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    with anchor_chain() as (chain, dep, signer):
        anchorer = make_anchorer(store, keys, dep, signer)
        fill(store, 10)
        assert anchorer.tick(force=True).anchored is not None
        now = chain.timestamp()
        served = Served(store.log)
        monitor = ChainMonitor(_reader(dep), served, clock=lambda: now)
        assert monitor.poll().ok
        # The operator rewrites entry 3 and anchors a grown tree over the rewritten history.
        with session_scope(store.sessions) as session:
            session.execute(
                update(AuditEntryRow).where(AuditEntryRow.idx == 3).values(leaf_hash=b"\x07" * 32)
            )
            append_entries(session, [entry(10)])
        rewritten = AuditLog(store.sessions)
        anchorer.log = rewritten
        anchorer.witnesses = ()
        anchorer.policy = type(anchorer.policy)(min_witnesses=0)
        assert anchorer.tick(force=True).anchored is not None
        served.log = rewritten  # what the exchange now serves
        report = monitor.poll()
        assert [a.kind for a in report.alarms] == ["inconsistent"]
        assert report.alarms[0].sequence == 1
    store.engine.dispose()


def test_stalled_anchoring_is_alarmed(tmp_path: Path) -> None:
    """Entries waiting past the allowed gap without a new anchor raise a stalled alarm."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    with anchor_chain() as (chain, dep, signer):
        anchorer = make_anchorer(store, keys, dep, signer)
        fill(store, 5)
        assert anchorer.tick(force=True).anchored is not None
        anchored_at = dep.anchor.latest(LOG_ID).anchored_at
        fill(store, 3, start=5)
        clock = [anchored_at + 60]
        monitor = ChainMonitor(
            _reader(dep),
            store.log,
            max_gap_s=600,
            clock=lambda: clock[0],
        )
        assert monitor.poll().ok
        clock[0] = anchored_at + 601
        report = monitor.poll()
        assert [a.kind for a in report.alarms] == ["stalled"]
        assert "3 entries wait" in report.alarms[0].detail
        assert any(line.startswith("ALARM stalled") for line in report.lines())
        assert chain.block_number() > 0
    store.engine.dispose()


def test_no_anchor_at_all_is_alarmed(tmp_path: Path) -> None:
    """A log with entries and no anchor for longer than the gap raises a stalled alarm."""
    store = make_store(tmp_path)
    fill(store, 2)
    monitor = ChainMonitor(lambda s: [], store.log, max_gap_s=10, clock=lambda: 100, started_at=0)
    report = monitor.poll()
    assert [a.kind for a in report.alarms] == ["stalled"]
    assert report.latest is None
    store.engine.dispose()
