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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from exchange_api.audit._entry import embedded_index
from exchange_api.audit._kinds import KINDS
from exchange_api.audit._models import AuditCheckpointRow, AuditEntryRow
from exchange_api.audit._store import iter_rows, log_size
from exchange_api.audit.bundle import TrustedKeys
from tlog import Checkpoint, SignedNote, TlogError, full_check, verify_note

__all__ = ["CheckpointRef", "Contradicted", "TrailCheckReport", "check_store", "stored_checkpoints"]

_RECORD_KEY = b'"record_sha256":"'


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


@dataclass
class _Scan:
    """Position and record checks made while the rows stream by."""

    check_records: bool
    position: int = 0
    first_bad: int | None = None
    reason: str | None = None
    kinds: set[str] = field(default_factory=set)

    def flag(self, index: int, reason: str) -> None:
        if self.first_bad is None:
            self.first_bad, self.reason = index, reason

    def rows(self, source: Iterator[tuple[Any, ...]]) -> Iterator[tuple[bytes, bytes]]:
        for row in source:
            idx, entry, leaf = row[0], row[1], row[2]
            position = self.position
            if self.first_bad is None:
                claimed = embedded_index(entry)
                if idx != position:
                    self.flag(position, f"missing: the next stored entry has index {idx}")
                elif claimed != idx:
                    self.flag(
                        idx, f"the entry stored here says it is entry {claimed} (moved, inserted or deleted)"
                    )
                elif self.check_records:
                    self._check_record(idx, entry, row[3])
            self.position += 1
            yield leaf, entry

    def _check_record(self, idx: int, entry: bytes, record_text: str) -> None:
        at = entry.find(_RECORD_KEY)
        want = entry[at + len(_RECORD_KEY) : at + len(_RECORD_KEY) + 64].decode() if at >= 0 else ""
        got = hashlib.sha256(record_text.encode("utf-8")).hexdigest()
        if got != want:
            self.flag(idx, "the stored record does not hash to the entry's record_sha256 (record altered)")


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
    rows = scan.rows(iter_rows(engine, records=check_records))
    left, right = itertools.tee(rows)
    report = full_check((leaf for leaf, _ in left), heads, (entry for _, entry in right))
    first_bad, reason = scan.first_bad, scan.reason
    if report.first_bad_index is not None and (first_bad is None or report.first_bad_index < first_bad):
        first_bad, reason = (
            report.first_bad_index,
            "the entry does not hash to its stored leaf hash (entry altered)",
        )
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
