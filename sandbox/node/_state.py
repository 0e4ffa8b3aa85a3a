"""What a node keeps on disk besides its datasets: privacy budgets, job ids seen, and signed receipts.

Every write is synced before the node answers: a budget is persisted after a query is charged and
before its result is released, so a crash cannot refund a query; a job id is recorded before the
job runs, so a signed job cannot be replayed after a restart.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from keys import canonical_json
from sandbox._accountant import BudgetAccountant
from sandbox.node._datasets import write_atomic
from sandbox.node._grants import MICRO
from sandbox.node.errors import JobReplayed

__all__ = ["BudgetStore", "JobJournal", "ReceiptLog"]


class BudgetStore:
    """One `BudgetAccountant` per grant, persisted as ``budgets/grant-<id>.json``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root) / "budgets"
        self._accountants: dict[int, BudgetAccountant] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _path(self, grant_id: int) -> Path:
        return self.root / f"grant-{grant_id}.json"

    @contextmanager
    def locked(self, grant_id: int) -> Iterator[None]:
        """Serialise the jobs of one grant (check, charge, run, record) on this node."""
        with self._guard:
            lock = self._locks.setdefault(grant_id, threading.Lock())
        with lock:
            yield

    def get(self, grant_id: int, privacy_budget_micro: int) -> BudgetAccountant:
        """The grant's accountant: as persisted, or fresh with the grant's ε from chain."""
        acc = self._accountants.get(grant_id)
        if acc is None:
            path = self._path(grant_id)
            if path.exists():
                acc = BudgetAccountant.from_dict(json.loads(path.read_text(encoding="utf-8")))
            else:
                acc = BudgetAccountant(str(grant_id), privacy_budget_micro / MICRO)
            self._accountants[grant_id] = acc
        return acc

    def persist(self, grant_id: int) -> None:
        """Write the grant's accountant to disk (synced)."""
        acc = self._accountants[grant_id]
        write_atomic(self._path(grant_id), canonical_json(acc.to_dict()))


class JobJournal:
    """The ids of jobs this node accepted; a job id is accepted once."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / "jobs" / "seen.txt"
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        if self.path.exists():
            self._seen = {line.strip() for line in self.path.read_text(encoding="utf-8").splitlines()}

    def claim(self, job_id: str) -> None:
        """Record `job_id`, or raise `JobReplayed` if it was seen before."""
        with self._lock:
            if job_id in self._seen:
                raise JobReplayed(job_id)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(job_id + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._seen.add(job_id)


class ReceiptLog:
    """Signed receipts, one canonical JSON document per line, in the order they were signed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / "receipts" / "receipts.jsonl"
        self._lock = threading.Lock()

    def append(self, receipt: dict[str, Any]) -> None:
        """Append one signed receipt (synced)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as fh:
                fh.write(canonical_json(receipt) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())

    def list(self, *, job_id: str | None = None, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Receipts after the first `after`, optionally only those of `job_id`."""
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with open(self.path, encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                if n < after:
                    continue
                doc = json.loads(line)
                if job_id is None or doc["payload"].get("job_id") == job_id:
                    out.append(doc)
                if len(out) >= limit:
                    break
        return out
