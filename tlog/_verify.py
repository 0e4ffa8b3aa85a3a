"""Proof verifiers that need nothing but hashes: RFC 9162 §2.1.3.2 and §2.1.4.2."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from tlog._hashing import EMPTY_ROOT, check_hash, node_sha256
from tlog.errors import (
    ConsistencyMismatchError,
    InclusionMismatchError,
    IndexOutOfRangeError,
    ProofLengthError,
    SizeOutOfRangeError,
)


def inclusion_proof_length(index: int, size: int) -> int:
    """Return how many hashes the inclusion proof of leaf ``index`` in a tree of ``size`` has."""
    if not 0 <= index < size:
        raise IndexOutOfRangeError(index, size)
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Return how many hashes the consistency proof from ``size1`` to ``size2`` has."""
    if not 0 <= size1 <= size2:
        raise SizeOutOfRangeError(size1, size2, f"first size must be in [0, {size2}]")
    if size1 in (0, size2):
        return 0
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1  # a power of two is its own seed, known to the verifier
    return seed + inner - shift + border


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Follows RFC 9162 §2.1.3.2. Returns ``None`` on success and raises otherwise, never returns
    ``False``.

    Raises
    ------
    InvalidHashError
        The leaf hash, the root or a proof element is not 32 bytes.
    IndexOutOfRangeError
        ``index`` is not below ``size``.
    ProofLengthError
        The proof has the wrong number of hashes for ``index`` and ``size``.
    InclusionMismatchError
        The proof leads to a different root.
    """
    check_hash("leaf_hash", leaf_hash)
    check_hash("root", root)
    if not 0 <= index < size:
        raise IndexOutOfRangeError(index, size)
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise ProofLengthError("inclusion", expected, len(proof))
    _check_proof_hashes(proof)
    sha = node_sha256  # a local name: this loop is the hot path of offline verification
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:  # unreachable after the length check; kept because the RFC requires it
            raise ProofLengthError("inclusion", expected, len(proof))
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
    if sn != 0:  # unreachable after the length check; kept because the RFC requires it
        raise ProofLengthError("inclusion", expected, len(proof))
    if not hmac.compare_digest(r, root):
        raise InclusionMismatchError(index, size)


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    """Raise :class:`InvalidHashError` naming the first proof element that is not 32 bytes."""
    if proof and set(map(len, proof)) != {32}:  # one C-level pass in the common, valid case
        for position, p in enumerate(proof):
            check_hash(f"proof[{position}]", p)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size2`` leaves with ``root2`` extends the one of ``size1`` with ``root1``.

    Follows RFC 9162 §2.1.4.2 for ``0 < size1 < size2``. Equal sizes need an empty proof and
    equal roots; ``size1 == 0`` needs an empty proof and ``root1`` equal to the empty-tree hash
    (stricter than RFC 9162, which leaves that case undefined). Returns ``None`` on success and
    raises otherwise.

    Raises
    ------
    InvalidHashError
        A root or a proof element is not 32 bytes.
    SizeOutOfRangeError
        A size is negative or ``size1 > size2``.
    ProofLengthError
        The proof has the wrong number of hashes for the two sizes.
    ConsistencyMismatchError
        The proof does not reproduce ``root1`` or ``root2`` (named in ``which``).
    """
    check_hash("root1", root1)
    check_hash("root2", root2)
    if size1 < 0:
        raise SizeOutOfRangeError(size1, size2, "sizes cannot be negative")
    if size1 > size2:
        raise SizeOutOfRangeError(size1, size2, f"first size is larger than second size {size2}")
    _check_proof_hashes(proof)
    expected = consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ProofLengthError("consistency", expected, len(proof))
    if size1 == 0:
        if not hmac.compare_digest(root1, EMPTY_ROOT):
            raise ConsistencyMismatchError(size1, size2, "root1")
        if size2 == 0 and not hmac.compare_digest(root2, EMPTY_ROOT):
            raise ConsistencyMismatchError(size1, size2, "root2")
        return
    if size1 == size2:
        if not hmac.compare_digest(root1, root2):
            raise ConsistencyMismatchError(size1, size2, "root2")
        return

    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: an exact power of two is its own first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept because the RFC requires it
            raise ProofLengthError("consistency", expected, len(proof))
        if fn & 1 or fn == sn:
            fr = node_sha256(b"\x01" + c + fr).digest()
            sr = node_sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:  # unreachable after the length check; kept because the RFC requires it
        raise ProofLengthError("consistency", expected, len(proof))
    if not hmac.compare_digest(fr, root1):
        raise ConsistencyMismatchError(size1, size2, "root1")
    if not hmac.compare_digest(sr, root2):
        raise ConsistencyMismatchError(size1, size2, "root2")
