"""The auditor's full check: recompute the whole tree from the store and compare it with every checkpoint.

One streamed pass over the entries checks, in order:

- positions: the stored indices are dense and each entry's own ``index`` is its position (a
  deleted, inserted or reordered entry breaks this at the first position it touches);
- leaves: each entry hashes to its stored leaf hash (a modified entry whose leaf hash was left
  alone is named exactly);
- records (optional): each full record hashes to the entry's ``record_sha256``;
- checkpoints: the tree recomputed at every checkpoint size has the checkpoint's root; when an
  entry was modified *and* its leaf hash recomputed, only roots can expose it, and they bound it
  to a range (after the largest checkpoint that still matches, before the first contradicted).

Checkpoints come from the chain (the anchors, the strong evidence) and from the store (signed
notes, verified against pinned keys when given).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from exchange_api.audit._kinds import KINDS
from exchange_api.audit._models import AuditCheckpointRow, AuditEntryRow
from exchange_api.audit._store import iter_chunks, log_size
from exchange_api.audit.bundle import TrustedKeys
from tlog import Checkpoint, SignedNote, TlogError, full_check, verify_note

__all__ = ["CheckpointRef", "Contradicted", "TrailCheckReport", "check_store", "stored_checkpoints"]


@dataclass(frozen=True)
class CheckpointRef:
    """A checkpoint to compare with, and where it came from (``chain seq 3``, ``store``)."""

    size: int
    root: bytes
    source: str


@dataclass(frozen=True)
class Contradicted:
    """A checkpoint the recomputed tree disagrees with (``computed_root`` None: the log is too short)."""

    size: int
    root: bytes
    source: str
    computed_root: bytes | None


@dataclass(frozen=True)
class TrailCheckReport:
    """Outcome of :func:`check_store`; ``ok`` when nothing disagrees."""

    entries: int
    head_size: int
    root: bytes
    checkpoints_checked: int
    first_bad_index: int | None
    first_bad_reason: str | None
    contradicted: tuple[Contradicted, ...]
    bad_index_range: tuple[int, int] | None
    bad_checkpoints: tuple[str, ...] = ()
    unregistered_kinds: tuple[str, ...] = ()
    records_checked: bool = False

    @property
    def ok(self) -> bool:
        """True when every entry, record and checkpoint agrees with the store."""
        return (
            self.first_bad_index is None
            and not self.contradicted
            and not self.bad_checkpoints
            and self.head_size == self.entries
        )

    @property
    def first_contradicted(self) -> Contradicted | None:
        """The smallest checkpoint the store contradicts."""
        return self.contradicted[0] if self.contradicted else None

    def lines(self) -> list[str]:
        """The report as human-readable lines."""
        out = [
            f"checked {self.entries} entries"
            + (" and their records" if self.records_checked else "")
            + f" against {self.checkpoints_checked} checkpoints; root {self.root.hex()}"
        ]
        if self.head_size != self.entries:
            out.append(f"SIZE: the log head says {self.head_size} entries, {self.entries} are stored")
        if self.first_bad_index is not None:
            out.append(f"FIRST BAD ENTRY: index {self.first_bad_index}: {self.first_bad_reason}")
        for c in self.contradicted:
            computed = c.computed_root.hex() if c.computed_root is not None else "none (log too short)"
            out.append(
                f"CONTRADICTED: checkpoint of size {c.size} ({c.source}) has root {c.root.hex()}, "
                f"the store gives {computed}"
            )
        if self.contradicted and self.bad_index_range is not None:
            lo, hi = self.bad_index_range
            if lo < hi:
                out.append(f"the first altered entry is at an index in [{lo}, {hi})")
            else:
                out.append("another checkpoint of that size matches: the checkpoints disagree (split view)")
        out.extend(f"BAD CHECKPOINT: {b}" for b in self.bad_checkpoints)
        if self.unregistered_kinds:
            out.append(
                "unregistered entry kinds (logged, not schema-checked): " + ", ".join(self.unregistered_kinds)
            )
        out.append("OK: the trail is complete and unaltered" if self.ok else "FAILED: the trail was altered")
        return out


_INDEX = re.compile(rb'"index":(\d+)')
_RECORD = re.compile(rb'"record_sha256":"([0-9a-f]{64})"')


@dataclass
class _Scan:
    """Position, leaf and record checks, a page of rows at a time; yields the stored leaf hashes."""

    check_records: bool
    position: int = 0
    first_bad: int | None = None
    reason: str | None = None

    def flag(self, index: int, reason: str) -> None:
        if self.first_bad is None or index < self.first_bad:
            self.first_bad, self.reason = index, reason

    def leaves(self, chunks: Iterator[list[Any]]) -> Iterator[list[bytes]]:
        sha = hashlib.sha256
        for rows in chunks:
            start, count = self.position, len(rows)
            self.position += count
            leaves = [bytes(r[2]) for r in rows]
            if self.first_bad is not None and self.first_bad < start:
                yield leaves  # an earlier problem is already named; only the roots still matter
                continue
            indices = [r[0] for r in rows]
            entries = [r[1].encode("utf-8") for r in rows]
            if indices != list(range(start, start + count)):
                at = next(i for i, idx in enumerate(indices) if idx != start + i)
                self.flag(start + at, f"missing: the next stored entry has index {indices[at]}")
            claimed = [int(m.group(1)) if (m := _INDEX.search(e)) else -1 for e in entries]
            if claimed != indices:
                at = next(i for i in range(count) if claimed[i] != indices[i])
                self.flag(
                    indices[at], f"the entry stored here says it is entry {claimed[at]} (moved or inserted)"
                )
            if [sha(b"\x00" + e).digest() for e in entries] != leaves:
                at = next(i for i, e in enumerate(entries) if sha(b"\x00" + e).digest() != leaves[i])
                self.flag(indices[at], "the entry does not hash to its stored leaf hash (entry altered)")
            if self.check_records:
                wanted = [m.group(1).decode() if (m := _RECORD.search(e)) else "" for e in entries]
                got = [sha(r[3].encode("utf-8")).hexdigest() for r in rows]
                if got != wanted:
                    at = next(i for i in range(count) if got[i] != wanted[i])
                    self.flag(
                        indices[at],
                        "the stored record does not hash to the entry's record_sha256 (record altered)",
                    )
            yield leaves


def stored_checkpoints(
    engine: Engine, trusted: TrustedKeys | None = None
) -> tuple[list[CheckpointRef], list[str]]:
    """The store's checkpoints (signatures verified when ``trusted``), and descriptions of bad ones."""
    good: list[CheckpointRef] = []
    bad: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditCheckpointRow.size, AuditCheckpointRow.root, AuditCheckpointRow.note).order_by(
                AuditCheckpointRow.size
            )
        ).all()
    for size, root, note_text in rows:
        where = f"stored checkpoint of size {size}"
        try:
            note = SignedNote.parse(note_text)
            checkpoint = Checkpoint.from_text(note.text)
            if trusted is not None:
                verify_note(note, trusted.log)
                signers = [w for w in trusted.witnesses if _signed_by(note, w)]
                if len(signers) < trusted.min_witnesses:
                    raise ValueError(f"{len(signers)} witness cosignatures, {trusted.min_witnesses} needed")
        except (TlogError, ValueError) as err:
            bad.append(f"{where}: {err}")
            continue
        if checkpoint.size != size or checkpoint.root != bytes(root):
            bad.append(f"{where}: its columns differ from its signed note")
            continue
        good.append(CheckpointRef(checkpoint.size, checkpoint.root, "store"))
    return good, bad


def _signed_by(note: SignedNote, verifier: Any) -> bool:
    try:
        verify_note(note, [verifier])
    except TlogError:
        return False
    return True


def check_store(
    engine: Engine,
    *,
    checkpoints: Sequence[CheckpointRef] = (),
    include_stored: bool = True,
    trusted: TrustedKeys | None = None,
    check_records: bool = True,
) -> TrailCheckReport:
    """Recompute the log in the store behind ``engine`` and compare it with every checkpoint.

    ``checkpoints`` are extra tree heads (typically the chain's anchors, see
    ``exchange_api.audit.anchored_checkpoints``); the store's own signed checkpoints are added
    unless ``include_stored`` is False.
    """
    heads = list(checkpoints)
    bad: list[str] = []
    if include_stored:
        stored, bad = stored_checkpoints(engine, trusted)
        heads.extend(stored)
    with engine.connect() as conn, Session(conn) as session:
        head_size = log_size(session)
        kinds = set(session.scalars(select(AuditEntryRow.kind).distinct()))
    scan = _Scan(check_records=check_records)
    pages = scan.leaves(iter_chunks(engine, records=check_records))
    report = full_check(itertools.chain.from_iterable(pages), heads)
    first_bad, reason = scan.first_bad, scan.reason
    by_size: dict[tuple[int, bytes], str] = {}
    for head in heads:
        by_size.setdefault((head.size, head.root), head.source)
    contradicted = tuple(
        Contradicted(c.size, c.root, by_size.get((c.size, c.root), "?"), c.computed_root)
        for c in report.contradicted
    )
    return TrailCheckReport(
        entries=report.size,
        head_size=head_size,
        root=report.root,
        checkpoints_checked=report.checkpoints_checked,
        first_bad_index=first_bad,
        first_bad_reason=reason,
        contradicted=contradicted,
        bad_index_range=report.bad_index_range,
        bad_checkpoints=tuple(bad),
        unregistered_kinds=tuple(sorted(k for k in kinds if k not in KINDS)),
        records_checked=check_records,
    )
