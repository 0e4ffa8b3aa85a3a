"""Verifying many inclusion proofs against one checkpoint, reusing the interior nodes already proven.

An auditor who checks thousands of entries against the same tree head recomputes the same upper
nodes again and again. Once a proof has verified, every node on its path (and every sibling it
supplied) is known to be the node at that position of the tree with that root. A later proof can
stop as soon as it reaches a known position: equal hashes there prove the leaf (a different
value would need a SHA-256 collision), and a different hash disproves it, exactly as the full
computation would. Positions are identified as in RFC 9162 §2.1.3.2 by the pair ``(fn, sn)`` at
the top of each step: for a fixed tree size that pair names one subtree.

Pure: no database, no web framework.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from tlog import (
    InclusionMismatchError,
    IndexOutOfRangeError,
    ProofLengthError,
    inclusion_proof_length,
)
from tlog._hashing import check_hash, node_sha256

__all__ = ["CachedInclusionVerifier"]


class CachedInclusionVerifier:
    """Verifies inclusion proofs against one tree head (``size``, ``root``), caching proven nodes.

    ``verify`` raises exactly what :func:`tlog.verify_inclusion` raises for the same input and
    returns None on success. At most ``max_nodes`` nodes are remembered (32 bytes plus a key
    each); beyond that, proofs are still verified, just without adding to the cache.
    """

    def __init__(self, size: int, root: bytes, *, max_nodes: int = 1 << 21) -> None:
        check_hash("root", root)
        if size < 1:
            raise IndexOutOfRangeError(0, size)
        self.size = size
        self.root = bytes(root)
        self._known: dict[tuple[int, int], bytes] = {}
        self._max = max_nodes

    @property
    def cached_nodes(self) -> int:
        """How many proven nodes are remembered."""
        return len(self._known)

    def verify(self, leaf_hash: bytes, index: int, proof: Sequence[bytes]) -> None:
        """Check that ``leaf_hash`` is leaf ``index`` of this tree; raise a tlog error otherwise."""
        check_hash("leaf_hash", leaf_hash)
        size = self.size
        if not 0 <= index < size:
            raise IndexOutOfRangeError(index, size)
        expected = inclusion_proof_length(index, size)
        if len(proof) != expected:
            raise ProofLengthError("inclusion", expected, len(proof))
        if proof and set(map(len, proof)) != {32}:
            for position, p in enumerate(proof):
                check_hash(f"proof[{position}]", p)
        known = self._known
        sha = node_sha256
        learned: list[tuple[tuple[int, int], bytes]] = []
        fn, sn, r = index, size - 1, leaf_hash
        for p in proof:
            seen = known.get((fn, sn))
            if seen is not None:
                if seen != r:
                    raise InclusionMismatchError(index, size)
                self._learn(learned)
                return
            learned.append(((fn, sn), r))
            if fn & 1 or fn == sn:
                if not fn & 1:
                    while fn and not fn & 1:
                        fn >>= 1
                        sn >>= 1
                learned.append(((fn - 1, sn), p))
                r = sha(b"\x01" + p + r).digest()
            else:
                learned.append(((fn + 1, sn), p))
                r = sha(b"\x01" + r + p).digest()
            fn >>= 1
            sn >>= 1
        if not hmac.compare_digest(r, self.root):
            raise InclusionMismatchError(index, size)
        self._learn(learned)

    def _learn(self, nodes: list[tuple[tuple[int, int], bytes]]) -> None:
        room = self._max - len(self._known)
        if room <= 0:
            return
        for key, value in nodes[:room]:
            self._known[key] = value
