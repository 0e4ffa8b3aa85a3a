"""Audit trail throughput: batched anchoring against one transaction per entry, proofs, the full check.

Figures (same Anvil node and same run for the anchoring pair):

- ``append_per_s``: entries appended to a SQLite store (transactions of ``TDEX_BENCH_AUDIT_TX``
  entries, as a relay pass or a busy service commits them) while the ``Anchorer`` runs in its
  background thread on Anvil (checkpoint signed by the operator, cosigned by a witness, one
  ``AuditAnchor.anchor`` per ``TDEX_BENCH_AUDIT_BATCH`` entries), wall time from the first append
  until the last entry is covered by a mined anchor. ``append_single_tx_per_s``: the same with one
  SQL transaction per entry (one state change per request).
- ``naive_anchor_per_s`` (the peer): each entry appended (one SQL transaction) and then anchored by
  its own transaction, sent and mined before the next entry (what anchoring every state change as it
  happens costs); its roots come from leaf hashes kept in memory, so only the chain slows it.
  ``naive_pipelined_anchor_per_s``: one transaction per entry again, pipelined by ``Chain.send_many``
  (JSON-RPC batches of 100), the fastest way to send them.
- ``verify_inclusion_per_s``: ``CachedInclusionVerifier`` over ``TDEX_BENCH_AUDIT_PROOFS`` random
  entries of the one-million-entry log against its checkpoint, cold cache, CPU time;
  ``verify_inclusion_single_per_s``: ``tlog.verify_inclusion`` on the same proofs, each from scratch.
- ``full_check_1m_s``: ``check_store`` over a one-million-entry SQLite store (read every entry and
  leaf hash, check positions and leaf hashes, recompute the tree, compare with 10 signed
  checkpoints), wall seconds; ``full_check_1m_cpu_s`` the CPU seconds of the same run;
  ``full_check_1m_with_records_s``: the same with the record pass (every full record re-hashed).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

import ledger
from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    AuditLog,
    CachedInclusionVerifier,
    LedgerAnchorTarget,
    LocalWitness,
    LogOperator,
    NewEntry,
    append_entries,
    check_store,
    log_id_for,
)
from exchange_api.core.db import make_engine, make_sessionmaker, migrate, session_scope
from keys import Ed25519SigningKey
from tlog import InMemoryLeafHashSource, MerkleTree, verify_inclusion

ENTRIES = int(os.environ.get("TDEX_BENCH_AUDIT_ENTRIES", "20000"))
TX_SIZE = int(os.environ.get("TDEX_BENCH_AUDIT_TX", "100"))
SINGLE_ENTRIES = int(os.environ.get("TDEX_BENCH_AUDIT_SINGLE", "3000"))
BATCH = int(os.environ.get("TDEX_BENCH_AUDIT_BATCH", "1000"))
NAIVE = int(os.environ.get("TDEX_BENCH_AUDIT_NAIVE", "300"))
BIG = int(os.environ.get("TDEX_BENCH_AUDIT_BIG", "1000000"))
PROOFS = int(os.environ.get("TDEX_BENCH_AUDIT_PROOFS", "100000"))
ROUNDS = int(os.environ.get("TDEX_BENCH_AUDIT_ROUNDS", "3"))
ORIGIN = "bench.tdex/audit"
T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _entry(i: int) -> NewEntry:
    record = {"grant_id": f"grt_{i:012x}", "reason": "用途已完成", "version": 1}
    refs = frozenset({f"grant:grt_{i:012x}", "org:org_0123456789abcdef"})
    return NewEntry("grant.revoked", "org_0123456789abcdef", f"grant:grt_{i:012x}", T0, record, refs)


class _Store:
    def __init__(self, folder: Path, name: str) -> None:
        self.engine = make_engine(f"sqlite:///{folder / name}.db")
        migrate(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.log = AuditLog(self.sessions)


def _anchorer(store: _Store, target: LedgerAnchorTarget | None, folder: Path, tag: str) -> Anchorer:
    operator = LogOperator(ORIGIN + tag, Ed25519SigningKey.generate())
    witness = LocalWitness(
        "auditor.bench",
        Ed25519SigningKey.generate(),
        {operator.origin: [operator.vkey]},
        folder / f"{tag}.json",
    )
    policy = AnchorPolicy(max_entries=BATCH, max_delay_s=3600)
    return Anchorer(store.log, operator, [witness], target, policy)  # the service's 1 s tick


def _batched(
    folder: Path, dep: ledger.Deployment, signer: ledger.Signer, total: int, tx: int, tag: str
) -> float:
    """Entries per second, logged and anchored end to end, ``tx`` entries per SQL transaction.

    The anchorer runs in its background thread, as in the service, while entries are appended;
    the clock stops when the last entry is covered by a mined anchor.
    """
    store = _Store(folder, tag)
    anchorer = _anchorer(store, LedgerAnchorTarget(dep.anchor, signer), folder, tag)
    started = time.perf_counter()
    anchorer.start()
    for first in range(0, total, tx):
        with session_scope(store.sessions) as session:
            append_entries(session, [_entry(i) for i in range(first, min(first + tx, total))])
    anchorer.stop()
    last = anchorer.tick(force=True)
    elapsed = time.perf_counter() - started
    covered = dep.anchor.latest(log_id_for(anchorer.operator.origin)).tree_size
    if covered != total or (last.error is not None):  # pragma: no cover - a broken run
        raise RuntimeError(f"only {covered} of {total} entries anchored: {last.error}")
    store.engine.dispose()
    return total / elapsed


class _MemoryRoots:
    """The naive peer's tree: leaf hashes kept in memory, so its roots cost no database reads."""

    def __init__(self) -> None:
        self.source = InMemoryLeafHashSource()
        self.tree = MerkleTree(self.source)

    def add(self, entries: list[Any]) -> bytes:
        for entry in entries:
            self.source.append(entry.leaf_hash())
        self.tree.sync()
        return self.tree.root()


def _naive(folder: Path, dep: ledger.Deployment, signer: ledger.Signer, total: int, tag: str) -> float:
    """One anchor transaction per entry, sent and mined before the next entry is logged."""
    store = _Store(folder, tag)
    roots = _MemoryRoots()
    log_id = keccak(tag.encode())
    started = time.perf_counter()
    for i in range(total):
        with session_scope(store.sessions) as session:
            root = roots.add(append_entries(session, [_entry(i)]))
        dep.anchor.anchor(signer, log_id, i + 1, root)
    elapsed = time.perf_counter() - started
    store.engine.dispose()
    return total / elapsed


def _naive_pipelined(
    folder: Path, chain: ledger.Chain, dep: ledger.Deployment, signer: ledger.Signer, total: int, tag: str
) -> float:
    """One anchor transaction per entry, pipelined: log all, then send every anchor in batches."""
    store = _Store(folder, tag)
    roots = _MemoryRoots()
    log_id = keccak(tag.encode())
    started = time.perf_counter()
    requests = []
    for i in range(total):
        with session_scope(store.sessions) as session:
            root = roots.add(append_entries(session, [_entry(i)]))
        requests.append(dep.anchor.prepare_anchor(log_id, i + 1, root))
    results = chain.send_many(signer, requests)
    elapsed = time.perf_counter() - started
    if not all(r.ok for r in results):  # pragma: no cover - a broken run
        raise RuntimeError("a pipelined anchor failed")
    store.engine.dispose()
    return total / elapsed


def _big_store(folder: Path) -> tuple[_Store, float]:
    """A store of BIG entries with 10 signed checkpoints; returns it and the seconds it took to build."""
    store = _Store(folder, "big")
    anchorer = _anchorer(store, None, folder, "big")
    started = time.perf_counter()
    step = 10_000
    for first in range(0, BIG, step):
        with session_scope(store.sessions) as session:
            append_entries(session, [_entry(i) for i in range(first, min(first + step, BIG))])
        if (first + step) % (BIG // 10 or 1) == 0:
            anchorer.tick(force=True)
    anchorer.tick(force=True)
    return store, time.perf_counter() - started


def _proofs(store: _Store) -> dict[str, float]:
    with store.sessions() as session:
        from sqlalchemy import select

        from exchange_api.audit._models import AuditEntryRow

        leaves = [
            bytes(h) for h in session.scalars(select(AuditEntryRow.leaf_hash).order_by(AuditEntryRow.idx))
        ]
    tree = MerkleTree(InMemoryLeafHashSource(leaves))
    size, root = tree.size, tree.root()
    rng = random.Random(6)
    picks = [rng.randrange(size) for _ in range(PROOFS)]
    proofs = [tree.inclusion_proof(i) for i in picks]
    verifier = CachedInclusionVerifier(size, root)
    started = time.process_time()
    for i, proof in zip(picks, proofs, strict=True):
        verifier.verify(leaves[i], i, proof)
    cached = len(picks) / (time.process_time() - started)
    sample = min(len(picks), 30_000)
    started = time.process_time()
    for i, proof in zip(picks[:sample], proofs[:sample], strict=True):
        verify_inclusion(leaves[i], i, size, proof, root)
    single = sample / (time.process_time() - started)
    return {"cached": cached, "single": single}


def run() -> dict[str, Any]:
    """Measure; returns {"name", "figures", "peer"}."""
    with tempfile.TemporaryDirectory(prefix="tdex-bench-audit-") as tmp:
        folder = Path(tmp)
        with ledger.connect("anvil") as chain:
            signer = ledger.Signer.generate()
            chain.fund(signer.address)
            admin = ledger.Admin(keccak(b"bench-bureau"), signer.address, ledger.Capability.LOG_OPERATOR)
            dep = ledger.deploy(chain, signer, [admin])
            dep.anchor.anchor(signer, keccak(b"warm"), 1, keccak(b"root"))  # connection and estimates warm
            # Rounds alternate the batched log and its peers, so load from other processes on the
            # shared machine hits both alike; medians are reported.
            rounds: dict[str, list[float]] = {"batched": [], "single": [], "naive": [], "pipelined": []}
            for r in range(ROUNDS):
                rounds["batched"].append(_batched(folder, dep, signer, ENTRIES, TX_SIZE, f"batched{r}"))
                rounds["naive"].append(_naive(folder, dep, signer, NAIVE, f"naive{r}"))
                rounds["single"].append(_batched(folder, dep, signer, SINGLE_ENTRIES, 1, f"single{r}"))
                rounds["pipelined"].append(
                    _naive_pipelined(folder, chain, dep, signer, NAIVE, f"pipelined{r}")
                )
            batched, single_tx, naive, pipelined = (
                statistics.median(rounds[k]) for k in ("batched", "single", "naive", "pipelined")
            )
        big, build_s = _big_store(folder)
        started, cpu = time.perf_counter(), time.process_time()
        report = check_store(big.engine, check_records=False)
        check_s, check_cpu = time.perf_counter() - started, time.process_time() - cpu
        if not report.ok or report.entries != BIG:  # pragma: no cover - a broken run
            raise RuntimeError("the full check of the benchmark store failed: " + "; ".join(report.lines()))
        started = time.perf_counter()
        with_records = check_store(big.engine, check_records=True)
        records_s = time.perf_counter() - started
        if not with_records.ok:  # pragma: no cover - a broken run
            raise RuntimeError("the record pass of the benchmark store failed")
        proofs = _proofs(big)
        big.engine.dispose()
    figures = {
        "append_per_s": round(batched, 1),
        "append_single_tx_per_s": round(single_tx, 1),
        "naive_anchor_per_s": round(naive, 1),
        "naive_pipelined_anchor_per_s": round(pipelined, 1),
        "anchored_vs_naive": round(batched / naive, 1),
        "anchored_vs_naive_pipelined": round(batched / pipelined, 1),
        "single_tx_vs_naive": round(single_tx / naive, 1),
        "verify_inclusion_per_s": round(proofs["cached"]),
        "verify_inclusion_single_per_s": round(proofs["single"]),
        "full_check_1m_s": round(check_s, 2),
        "full_check_1m_cpu_s": round(check_cpu, 2),
        "full_check_entries": report.entries,
        "full_check_checkpoints": report.checkpoints_checked,
        "full_check_1m_with_records_s": round(records_s, 2),
        "build_1m_store_s": round(build_s, 1),
        "rounds": ROUNDS,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "entries_batched": ENTRIES,
        "entries_per_sql_tx": TX_SIZE,
        "entries_per_anchor": BATCH,
        "naive_entries": NAIVE,
        "cpus": os.cpu_count() or 0,
    }
    return {
        "name": "audit",
        "figures": figures,
        "per_round": {k: [round(x, 1) for x in v] for k, v in rounds.items()},
        "peer": (
            "one AuditAnchor.anchor transaction per entry on the same Anvil node in the same run "
            "(sent and mined before the next entry; and pipelined with Chain.send_many); "
            "tlog.verify_inclusion from scratch for the proofs"
        ),
    }
