"""An append-only RFC 6962 Merkle tree over a leaf-hash source, with roots and proofs for any size."""

from __future__ import annotations

import threading

from tlog._hashing import HASH_SIZE, fold, pair_up, split_point
from tlog._source import LeafHashSource
from tlog.errors import IndexOutOfRangeError, SizeOutOfRangeError, SourceInconsistentError

_H = HASH_SIZE


class MerkleTree:
    """RFC 6962 Merkle tree reading its leaves from a :class:`LeafHashSource`.

    The tree caches the hash of every *complete* (perfect) subtree above the leaves, level by
    level, in memory (about 32 bytes per leaf). A root at any past size, an inclusion proof or a
    consistency proof then needs O(log n) cached hashes plus at most a couple of leaf reads from
    the source; the incomplete right edge is folded from the perfect subtrees that cover it
    (the "compact range" of the prefix).

    Reads never touch the source beyond what :meth:`sync` has already seen, so answers are
    stable; call :meth:`sync` after appending to the source. The constructor syncs once.
    ``sync`` is serialised by a lock and publishes the new size only after the cache is
    extended, so readers on other threads always see a consistent tree.
    """

    def __init__(self, source: LeafHashSource, *, batch_size: int = 1 << 16) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._source = source
        self._batch = batch_size
        # _levels[k - 1] holds the hashes of the perfect subtrees of 2**k leaves, concatenated.
        self._levels: list[bytearray] = []
        self._leaf_carry: bytes | None = None  # last leaf hash while the size is odd
        self._size = 0
        self._lock = threading.Lock()
        self.sync()

    @property
    def size(self) -> int:
        """Number of leaves seen by the last :meth:`sync`."""
        return self._size

    def sync(self) -> int:
        """Read leaf hashes appended to the source since the last sync; return the new size."""
        with self._lock:
            target = self._source.size()
            if target < self._size:
                raise SourceInconsistentError(f"size went from {self._size} down to {target}")
            done = self._size
            while done < target:
                end = min(done + self._batch, target)
                chunk = self._source.leaf_hashes(done, end)
                if len(chunk) != end - done:
                    raise SourceInconsistentError(f"asked for {end - done} hashes, got {len(chunk)}")
                for offset, value in enumerate(chunk):
                    if not isinstance(value, bytes) or len(value) != _H:
                        raise SourceInconsistentError(f"leaf hash {done + offset} is not 32 bytes")
                self._absorb(list(chunk))
                done = end
                self._size = done
            return self._size

    def _absorb(self, leaves: list[bytes]) -> None:
        """Extend the cached levels with newly read leaf hashes."""
        nodes = leaves
        carry = self._leaf_carry
        level = 0
        while nodes:
            run = [carry, *nodes] if carry is not None else nodes
            parents = pair_up(run)
            if level == 0:
                self._leaf_carry = run[-1] if len(run) % 2 else None
            if not parents:
                break
            if len(self._levels) == level:
                self._levels.append(bytearray())
            stored = self._levels[level]
            # The unpaired last node of the next level (if any) pairs with the first new parent.
            carry = bytes(stored[-_H:]) if (len(stored) // _H) % 2 else None
            stored += b"".join(parents)
            nodes = parents
            level += 1

    def leaf_hash(self, index: int) -> bytes:
        """Return the leaf hash at ``index``."""
        if not 0 <= index < self._size:
            raise IndexOutOfRangeError(index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the tree of the first ``size`` leaves (default: all synced)."""
        size = self._resolve(size)
        return self._range_root(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 §2.1.3.1 inclusion proof of leaf ``index`` in the tree of ``size``."""
        size = self._resolve(size)
        if not 0 <= index < size:
            raise IndexOutOfRangeError(index, size)
        top_down: list[bytes] = []
        start, n, m = 0, size, index
        while n > 1:
            k = split_point(n)
            if m < k:
                top_down.append(self._range_root(start + k, start + n))
                n = k
            else:
                top_down.append(self._range_root(start, start + k))
                start, m, n = start + k, m - k, n - k
        return top_down[::-1]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the RFC 9162 §2.1.4.1 consistency proof from ``size1`` to ``size2``."""
        size2 = self._resolve(size2)
        if not 0 <= size1 <= size2:
            raise SizeOutOfRangeError(size1, size2, f"first size must be in [0, {size2}]")
        if size1 in (0, size2):
            return []
        top_down: list[bytes] = []
        start, n, m, whole = 0, size2, size1, True
        while m != n:
            k = split_point(n)
            if m <= k:
                top_down.append(self._range_root(start + k, start + n))
                n = k
            else:
                top_down.append(self._range_root(start, start + k))
                start, m, n, whole = start + k, m - k, n - k, False
        if not whole:
            top_down.append(self._range_root(start, start + n))
        return top_down[::-1]

    def _resolve(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise SizeOutOfRangeError(size, self._size, f"the tree has {self._size} leaves")
        return size

    def _range_root(self, start: int, end: int) -> bytes:
        """Root of leaves ``[start, end)`` where ``start`` is aligned as in the RFC recursion."""
        nodes: list[bytes] = []
        n = end - start
        offset = start
        for level in range(n.bit_length() - 1, -1, -1):
            if n >> level & 1:
                nodes.append(self._node(level, offset >> level))
                offset += 1 << level
        return fold(nodes)

    def _node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree of ``2**level`` leaves starting at leaf ``index << level``."""
        if level == 0:
            values = self._source.leaf_hashes(index, index + 1)
            if len(values) != 1 or len(values[0]) != _H:
                raise SourceInconsistentError(f"could not read leaf hash {index}")
            return bytes(values[0])
        stored = self._levels[level - 1]
        return bytes(stored[index * _H : (index + 1) * _H])
