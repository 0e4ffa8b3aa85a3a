"""Verifying many inclusion proofs against one checkpoint, reusing the nodes already proven.

An auditor who checks thousands of entries against the same tree head recomputes the same upper
nodes again and again. Once a proof has verified, each node on its path is known to be the node
at that position of the tree with that root, and the proof elements above it are known to be the
tree's own. A later proof that reaches a known position stops there: it verifies exactly when its
node equals the known node and its remaining elements equal the known ones (any other value
would need a SHA-256 collision to lead to the root), which is what the full computation decides.
Positions are named as in RFC 9162 §2.1.3.2 by the pair ``(fn, sn)``, which for a fixed tree size
names one subtree. The lowest levels are not remembered: their nodes repeat only for
neighbouring leaves and would take most of the memory; the levels kept hold at most
``max_nodes`` nodes in all, so the cache never fills up with nodes that are rarely met again.

Pure: no database, no web framework.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from tlog import InclusionMismatchError, IndexOutOfRangeError, ProofLengthError
from tlog._hashing import check_hash, node_sha256

__all__ = ["CachedInclusionVerifier"]


class CachedInclusionVerifier:
    """Verifies inclusion proofs against one tree head (``size``, ``root``), remembering proven nodes.

    ``verify`` raises what :func:`tlog.verify_inclusion` raises for the same input and returns
    None on success. At most ``max_nodes`` nodes are remembered (each with the proof elements
    above it); beyond that, proofs are still verified in full.
    """

    def __init__(self, size: int, root: bytes, *, max_nodes: int = 1 << 18) -> None:
        check_hash("root", root)
        if size < 1:
            raise IndexOutOfRangeError(0, size)
        self.size = size
        self.root = bytes(root)
        self._known: dict[int, tuple[bytes, tuple[bytes, ...]]] = {}
        self._max = max_nodes
        # Levels from ``_skip`` up hold about size / 2**(_skip - 1) nodes: at most max_nodes.
        self._skip = max(2, (size - 1).bit_length() - max_nodes.bit_length() + 2)

    @property
    def cached_nodes(self) -> int:
        """How many proven nodes are remembered."""
        return len(self._known)

    def verify(self, leaf_hash: bytes, index: int, proof: Sequence[bytes]) -> None:
        """Check that ``leaf_hash`` is leaf ``index`` of this tree; raise a tlog error otherwise."""
        if type(leaf_hash) is not bytes or len(leaf_hash) != 32:
            check_hash("leaf_hash", leaf_hash)
        size = self.size
        if not 0 <= index < size:
            raise IndexOutOfRangeError(index, size)
        inner = (index ^ (size - 1)).bit_length()  # inclusion_proof_length, inlined (hot path)
        expected = inner + (index >> inner).bit_count()
        if len(proof) != expected:
            raise ProofLengthError("inclusion", expected, len(proof))
        elements = tuple(proof)
        known = self._known
        sha = node_sha256
        skip = self._skip
        path: list[tuple[int, bytes, int]] = []
        fn, sn, r = index, size - 1, leaf_hash
        for k, p in enumerate(elements):
            if k >= skip:
                key = sn * size + fn
                hit = known.get(key)
                if hit is not None:
                    if hit[0] != r or hit[1] != elements[k:]:
                        _check_elements(elements)  # a malformed element is reported as such
                        raise InclusionMismatchError(index, size)
                    self._learn(path, elements)
                    return
                path.append((key, r, k))
            if len(p) != 32:
                _check_elements(elements)
            if fn & 1 or fn == sn:
                r = sha(b"\x01" + p + r).digest()
                if not fn & 1:
                    while fn and not fn & 1:
                        fn >>= 1
                        sn >>= 1
            else:
                r = sha(b"\x01" + r + p).digest()
            fn >>= 1
            sn >>= 1
        if not hmac.compare_digest(r, self.root):
            raise InclusionMismatchError(index, size)
        self._learn(path, elements)

    def _learn(self, path: list[tuple[int, bytes, int]], elements: tuple[bytes, ...]) -> None:
        known = self._known
        for key, node, k in path:
            if len(known) >= self._max:
                return
            known[key] = (node, elements[k:])


def _check_elements(elements: Sequence[bytes]) -> None:
    """Raise InvalidHashError naming the first proof element that is not a 32-byte hash."""
    for position, p in enumerate(elements):
        check_hash(f"proof[{position}]", p)
