"""Full audit: recompute a whole log from its stored leaf hashes and compare it with checkpoints."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from tlog._hashing import EMPTY_ROOT, fold, node_sha256, pair_up
from tlog.errors import CheckpointContradictedError, EntryMismatchError, SizeOutOfRangeError


class TreeHeadLike(Protocol):
    """Anything with a tree ``size`` and a ``root`` hash (a :class:`TreeHead`, a ``Checkpoint``)."""

    @property
    def size(self) -> int: ...

    @property
    def root(self) -> bytes: ...


@dataclass(frozen=True)
class TreeHead:
    """A tree size and the root hash claimed for it (for example, read from an on-chain anchor)."""

    size: int
    root: bytes


@dataclass(frozen=True)
class Contradiction:
    """A checkpoint the stored log disagrees with; ``computed_root`` is None if the log is too short."""

    size: int
    root: bytes
    computed_root: bytes | None


@dataclass(frozen=True)
class FullCheckReport:
    """Outcome of :func:`full_check`.

    ``first_bad_index`` is exact: the first index where a stored entry does not hash to its
    stored leaf hash (or where one of the two is missing); it is only known when entries were
    given. ``contradicted`` lists every checkpoint the recomputed tree disagrees with, by size.
    Roots alone cannot say which leaf changed, only that the first altered leaf lies in
    ``bad_index_range`` (half-open): after the largest checkpoint that still matches and before
    the first one contradicted. An empty range means the log matches another checkpoint of that
    same size: the checkpoints themselves disagree, which is a split view rather than tampering.
    """

    size: int
    root: bytes
    checkpoints_checked: int
    contradicted: tuple[Contradiction, ...]
    first_bad_index: int | None
    bad_index_range: tuple[int, int] | None

    @property
    def ok(self) -> bool:
        """True when every entry matches its leaf hash and every checkpoint matches."""
        return self.first_bad_index is None and not self.contradicted

    @property
    def first_contradicted(self) -> Contradiction | None:
        """The smallest checkpoint the stored log contradicts, if any."""
        return self.contradicted[0] if self.contradicted else None

    def raise_for_problems(self) -> None:
        """Raise the error describing the first problem found, or return if the log checks out.

        Raises
        ------
        EntryMismatchError
            An entry does not match its stored leaf hash (``index`` names it).
        CheckpointContradictedError
            The recomputed tree contradicts a checkpoint.
        """
        if self.first_bad_index is not None:
            raise EntryMismatchError(self.first_bad_index)
        if self.contradicted and self.bad_index_range is not None:
            raise CheckpointContradictedError(self.contradicted[0].size, self.bad_index_range[0])


def full_check(
    leaf_hashes: Iterable[bytes],
    checkpoints: Iterable[TreeHeadLike],
    entries: Iterable[bytes] | None = None,
    *,
    chunk_bits: int = 14,
) -> FullCheckReport:
    """Recompute the tree over ``leaf_hashes`` and compare it with every checkpoint.

    The inputs are consumed once, in order, so they can stream from a database cursor; memory
    stays at one chunk of ``2**chunk_bits`` hashes plus O(log n). When ``entries`` (the entry
    bytes, in log order) are given, each is hashed as an RFC 6962 leaf and compared with the
    stored leaf hash at the same index.

    Stored hashes are not validated: a malformed one simply yields a different tree, which the
    checkpoints (and entries, if given) expose.
    """
    heads = sorted(checkpoints, key=lambda head: head.size)
    for head in heads:
        if head.size < 0:
            raise SizeOutOfRangeError(head.size, 0, "checkpoint sizes cannot be negative")
    computed: dict[int, bytes] = {}
    wanted = sorted({head.size for head in heads})
    next_wanted = 0  # position in ``wanted`` of the next size to compute
    if wanted and wanted[0] == 0:
        computed[0] = EMPTY_ROOT
        next_wanted = 1

    if chunk_bits < 0:
        raise ValueError("chunk_bits cannot be negative")
    chunk_size = 1 << chunk_bits
    stack: list[tuple[int, bytes]] = []  # perfect subtrees covering [0, done), biggest first
    done = 0
    tail_levels: list[list[bytes]] = []  # levels of the last, partial chunk
    hashes_iter = iter(leaf_hashes)
    entry_checker = _EntryChecker(entries) if entries is not None else None

    while True:
        chunk = list(itertools.islice(hashes_iter, chunk_size))
        if not chunk:
            break
        if entry_checker is not None:
            entry_checker.check(done, chunk)
        levels = [chunk]
        while len(levels[-1]) > 1:
            levels.append(pair_up(levels[-1]))
        prefix = [node for _, node in stack]
        end = done + len(chunk)
        while next_wanted < len(wanted) and wanted[next_wanted] <= end:
            size = wanted[next_wanted]
            computed[size] = fold(prefix + _cover(levels, size - done))
            next_wanted += 1
        if len(chunk) < chunk_size:
            tail_levels = levels
            done = end
            break
        node, level = levels[chunk_bits][0], chunk_bits
        while stack and stack[-1][0] == level:
            node = node_sha256(b"\x01" + stack.pop()[1] + node).digest()
            level += 1
        stack.append((level, node))
        done = end

    if entry_checker is not None:
        entry_checker.finish(done)
    root = fold(
        [node for _, node in stack] + (_cover(tail_levels, len(tail_levels[0])) if tail_levels else [])
    )

    contradicted: list[Contradiction] = []
    matched: list[int] = []
    for head in heads:
        got = computed.get(head.size)
        if got is None or not hmac.compare_digest(got, bytes(head.root)):
            contradicted.append(Contradiction(head.size, bytes(head.root), got))
        else:
            matched.append(head.size)
    bad_range = None
    if contradicted:
        first = contradicted[0].size
        bad_range = (max((size for size in matched if size <= first), default=0), first)
    return FullCheckReport(
        size=done,
        root=root,
        checkpoints_checked=len(heads),
        contradicted=tuple(contradicted),
        first_bad_index=entry_checker.first_bad if entry_checker is not None else None,
        bad_index_range=bad_range,
    )


def _cover(levels: list[list[bytes]], count: int) -> list[bytes]:
    """Perfect subtree hashes covering the first ``count`` leaves of a chunk, biggest first."""
    nodes: list[bytes] = []
    offset = 0
    for level in range(count.bit_length() - 1, -1, -1):
        if count >> level & 1:
            nodes.append(levels[level][offset >> level])
            offset += 1 << level
    return nodes


class _EntryChecker:
    """Compares entries with stored leaf hashes chunk by chunk and remembers the first mismatch."""

    def __init__(self, entries: Iterable[bytes]) -> None:
        self._entries: Iterator[bytes] = iter(entries)
        self.first_bad: int | None = None

    def check(self, start: int, stored: list[bytes]) -> None:
        if self.first_bad is not None:
            return  # later chunks cannot change the first mismatch
        batch = list(itertools.islice(self._entries, len(stored)))
        sha = hashlib.sha256
        hashed = [sha(b"\x00" + entry).digest() for entry in batch]
        if hashed == stored:
            return
        for offset, (got, want) in enumerate(zip(hashed, stored, strict=False)):
            if got != want:
                self.first_bad = start + offset
                return
        self.first_bad = start + len(hashed)  # entries ran out before the stored hashes did

    def finish(self, size: int) -> None:
        if self.first_bad is None and next(self._entries, None) is not None:
            self.first_bad = size  # an entry without a stored leaf hash
