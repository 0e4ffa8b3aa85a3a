"""Where a tree reads its leaf hashes from: a small protocol and an in-memory implementation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from tlog._hashing import check_hash
from tlog.errors import SizeOutOfRangeError


class LeafHashSource(Protocol):
    """Read access to an append-only sequence of RFC 6962 leaf hashes.

    The exchange implements this over its database; the tree only ever reads through it.
    """

    def size(self) -> int:
        """Return how many leaf hashes the source holds."""
        ...

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Return the leaf hashes with indices in ``[start, end)``, in order."""
        ...


class InMemoryLeafHashSource:
    """An append-only list of leaf hashes held in memory (tests, tools, small logs)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = []
        self.extend(leaf_hashes)

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash and return its index."""
        check_hash("leaf_hash", leaf_hash)
        self._hashes.append(bytes(leaf_hash))
        return len(self._hashes) - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes, all or none."""
        new = [bytes(value) for value in leaf_hashes]
        for index, value in enumerate(new):
            check_hash(f"leaf_hashes[{index}]", value)
        self._hashes.extend(new)

    def size(self) -> int:
        """Return how many leaf hashes are held."""
        return len(self._hashes)

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Return the leaf hashes with indices in ``[start, end)``."""
        if not 0 <= start <= end <= len(self._hashes):
            raise SizeOutOfRangeError(end, len(self._hashes), f"cannot read [{start}, {end})")
        return self._hashes[start:end]
