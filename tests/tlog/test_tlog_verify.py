"""Inclusion and consistency verifiers: known vectors, corruptions and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlog_reference import CONSISTENCY_VECTORS, CT_HASHES, CT_ROOTS, INCLUSION_VECTORS, H, synthetic

import tlog

BIG = 4096
BIG_HASHES = synthetic(BIG)
BIG_TREE = tlog.MerkleTree(tlog.InMemoryLeafHashSource(BIG_HASHES))
SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")


def flip(proof: list[bytes], position: int, bit: int = 3) -> list[bytes]:
    """Return a copy of ``proof`` with one bit of one element flipped."""
    out = list(proof)
    out[position] = bytes([out[position][0] ^ (1 << bit)]) + out[position][1:]
    return out


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_published_inclusion_proofs_verify(index: int, size: int, proof: list[str]) -> None:
    """Every published inclusion proof verifies against the published root."""
    tlog.verify_inclusion(CT_HASHES[index], index, size, [H(h) for h in proof], CT_ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_proofs_verify(size1: int, size2: int, proof: list[str]) -> None:
    """Every published consistency proof verifies against the published roots."""
    tlog.verify_consistency(size1, size2, [H(h) for h in proof], CT_ROOTS[size1], CT_ROOTS[size2])


def inclusion_probes(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes) -> list[tuple]:
    """The corruptions transparency-dev applies to an inclusion proof, with the error each must raise."""
    probes: list[tuple] = [
        ((leaf, index, size, proof, SOME_HASH), tlog.InclusionMismatchError),
        ((leaf, index, size, proof, tlog.EMPTY_ROOT), tlog.InclusionMismatchError),
        ((SOME_HASH, index, size, proof, root), tlog.InclusionMismatchError),
        ((leaf, index, size, [*proof, root], root), tlog.ProofLengthError),
        ((leaf, index, size, [root, *proof], root), tlog.ProofLengthError),
        ((leaf, index, size, [*proof, b""], root), tlog.ProofLengthError),
        ((b"WrongLeaf", index, size, proof, root), tlog.InvalidHashError),
        ((leaf, index, size, proof, b"WrongRoot"), tlog.InvalidHashError),
        ((leaf, index, index, proof, root), tlog.IndexOutOfRangeError),
    ]
    for position in range(len(proof)):
        probes.append(((leaf, index, size, flip(proof, position), root), tlog.InclusionMismatchError))
        short = [*proof[:position], proof[position][:31], *proof[position + 1 :]]
        probes.append(((leaf, index, size, short, root), tlog.InvalidHashError))
    if proof:
        probes.append(((leaf, index, size, proof[:-1], root), tlog.ProofLengthError))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), [v for v in INCLUSION_VECTORS if v[2]])
def test_corrupted_inclusion_proofs_fail_with_the_right_error(
    index: int, size: int, proof: list[str]
) -> None:
    """Each corruption of a published inclusion proof raises its specific error."""
    hashes = [H(h) for h in proof]
    for args, error in inclusion_probes(index, size, hashes, CT_ROOTS[size], CT_HASHES[index]):
        with pytest.raises(error) as info:
            tlog.verify_inclusion(*args)
        assert info.value.code == error.code


def test_proof_length_helpers_refuse_impossible_positions() -> None:
    """Proof lengths exist only for an index inside the tree and ordered sizes."""
    with pytest.raises(tlog.IndexOutOfRangeError):
        tlog.inclusion_proof_length(3, 3)
    with pytest.raises(tlog.SizeOutOfRangeError):
        tlog.consistency_proof_length(4, 3)


def test_inclusion_error_names_index_and_size() -> None:
    """A root mismatch names the leaf index and the tree size it was checked against."""
    with pytest.raises(tlog.InclusionMismatchError) as info:
        tlog.verify_inclusion(CT_HASHES[0], 0, 1, [], SOME_HASH)
    assert (info.value.code, info.value.index, info.value.size) == ("tlog.inclusion_mismatch", 0, 1)


def test_proof_length_error_names_counts() -> None:
    """A wrong-length proof names the expected and the received number of hashes."""
    with pytest.raises(tlog.ProofLengthError) as info:
        tlog.verify_inclusion(CT_HASHES[0], 0, 8, [SOME_HASH], CT_ROOTS[8])
    assert (info.value.kind, info.value.expected, info.value.got) == ("inclusion", 3, 1)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_and_every_tampering_fails(data: st.DataObject) -> None:
    """In trees of 1..4096 leaves, proofs verify; a changed bit, index, size or leaf is caught."""
    size = data.draw(st.integers(min_value=1, max_value=BIG), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = BIG_TREE.inclusion_proof(index, size)
    root = BIG_TREE.root(size)
    leaf = BIG_HASHES[index]
    tlog.verify_inclusion(leaf, index, size, proof, root)
    assert len(proof) == tlog.inclusion_proof_length(index, size)

    if proof:
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="position")
        bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
        with pytest.raises(tlog.InclusionMismatchError):
            tlog.verify_inclusion(leaf, index, size, flip(proof, position, bit), root)

    other = data.draw(st.integers(min_value=0, max_value=BIG), label="other index")
    if other != index:
        expected: type[tlog.TlogError]
        if other >= size:
            expected = tlog.IndexOutOfRangeError
        elif tlog.inclusion_proof_length(other, size) != len(proof):
            expected = tlog.ProofLengthError
        else:
            expected = tlog.InclusionMismatchError
        with pytest.raises(expected):
            tlog.verify_inclusion(leaf, other, size, proof, root)

    # A proof for one size checked against the true root of another size never verifies.
    other_size = data.draw(st.integers(min_value=index + 1, max_value=BIG), label="other size")
    if other_size != size:
        length_differs = tlog.inclusion_proof_length(index, other_size) != len(proof)
        with pytest.raises(tlog.ProofLengthError if length_differs else tlog.InclusionMismatchError):
            tlog.verify_inclusion(leaf, index, other_size, proof, BIG_TREE.root(other_size))

    with pytest.raises(tlog.InclusionMismatchError):
        tlog.verify_inclusion(BIG_HASHES[(index + 1) % BIG], index, size, proof, root)


def test_consistency_edge_cases() -> None:
    """Equal sizes, the empty tree and out-of-order sizes follow the documented rules."""
    r1, r2 = CT_ROOTS[1], CT_ROOTS[2]
    tlog.verify_consistency(0, 0, [], tlog.EMPTY_ROOT, tlog.EMPTY_ROOT)
    tlog.verify_consistency(0, 5, [], tlog.EMPTY_ROOT, CT_ROOTS[5])
    tlog.verify_consistency(1, 1, [], r1, r1)
    cases: list[tuple[tuple, type[tlog.TlogError], dict[str, object]]] = [
        ((1, 1, [], r1, r2), tlog.ConsistencyMismatchError, {"which": "root2"}),
        ((0, 3, [], r1, r2), tlog.ConsistencyMismatchError, {"which": "root1"}),
        ((0, 0, [], tlog.EMPTY_ROOT, r1), tlog.ConsistencyMismatchError, {"which": "root2"}),
        ((1, 1, [tlog.EMPTY_ROOT], r1, r1), tlog.ProofLengthError, {"expected": 0, "got": 1}),
        ((0, 1, [tlog.EMPTY_ROOT], tlog.EMPTY_ROOT, r1), tlog.ProofLengthError, {"expected": 0}),
        ((1, 2, [], r1, r2), tlog.ProofLengthError, {"expected": 1, "got": 0}),
        ((2, 1, [], r2, r1), tlog.SizeOutOfRangeError, {"size": 2, "limit": 1}),
        ((-1, 1, [], r1, r1), tlog.SizeOutOfRangeError, {"size": -1}),
        ((1, 2, [b"x"], r1, r2), tlog.InvalidHashError, {"what": "proof[0]"}),
        ((1, 2, [r2], b"", r2), tlog.InvalidHashError, {"what": "root1"}),
    ]
    for args, error, attributes in cases:
        with pytest.raises(error) as info:
            tlog.verify_consistency(*args)
        assert info.value.code == error.code
        for name, value in attributes.items():
            assert getattr(info.value, name) == value, (args, name)


@pytest.mark.parametrize(("size1", "size2", "proof"), [v for v in CONSISTENCY_VECTORS if v[2]])
def test_corrupted_consistency_proofs_fail_with_the_right_error(
    size1: int, size2: int, proof: list[str]
) -> None:
    """Each corruption transparency-dev applies to a consistency proof raises its specific error."""
    hashes = [H(h) for h in proof]
    r1, r2 = CT_ROOTS[size1], CT_ROOTS[size2]
    probes: list[tuple[tuple, type[tlog.TlogError]]] = [
        ((size1, size2, hashes, b"WrongRoot", r2), tlog.InvalidHashError),
        ((size1, size2, hashes, r1, SOME_HASH), tlog.ConsistencyMismatchError),
        ((size1, size2, hashes, r2, r1), tlog.ConsistencyMismatchError),
        ((size1, size2, [], r1, r2), tlog.ProofLengthError),
        ((size1, size2, [*hashes, r1], r1, r2), tlog.ProofLengthError),
        ((size1, size2, [hashes[0], *hashes], r1, r2), tlog.ProofLengthError),
        ((size1, size2, hashes[:-1], r1, r2), tlog.ProofLengthError),
        ((size1, size2, [*hashes, b""], r1, r2), tlog.InvalidHashError),
    ]
    probes += [
        ((size1, size2, flip(hashes, i, 4), r1, r2), tlog.ConsistencyMismatchError)
        for i in range(len(hashes))
    ]
    for args, error in probes:
        with pytest.raises(error) as info:
            tlog.verify_consistency(*args)
        assert info.value.code == error.code


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_and_every_tampering_fails(data: st.DataObject) -> None:
    """Between any two sizes up to 4096, proofs verify; a changed bit, size or root is caught."""
    size2 = data.draw(st.integers(min_value=1, max_value=BIG), label="size2")
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    proof = BIG_TREE.consistency_proof(size1, size2)
    root1, root2 = BIG_TREE.root(size1), BIG_TREE.root(size2)
    tlog.verify_consistency(size1, size2, proof, root1, root2)
    assert len(proof) == tlog.consistency_proof_length(size1, size2)
    if size1 == size2:
        return

    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="position")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    with pytest.raises(tlog.ConsistencyMismatchError):
        tlog.verify_consistency(size1, size2, flip(proof, position, bit), root1, root2)

    with pytest.raises(tlog.ConsistencyMismatchError) as wrong_root2:
        tlog.verify_consistency(size1, size2, proof, root1, BIG_TREE.root(size2 - 1))
    assert wrong_root2.value.which == "root2"

    with pytest.raises(tlog.ConsistencyMismatchError):
        tlog.verify_consistency(size1, size2, proof, BIG_TREE.root(size1 - 1), root2)

    other = data.draw(st.integers(min_value=1, max_value=size2 - 1), label="other size1")
    if other != size1:
        # The proof is checked against the true root at the other size, so only the shape differs.
        length_differs = tlog.consistency_proof_length(other, size2) != len(proof)
        with pytest.raises(tlog.ProofLengthError if length_differs else tlog.ConsistencyMismatchError):
            tlog.verify_consistency(other, size2, proof, BIG_TREE.root(other), root2)

    with pytest.raises(tlog.ProofLengthError):
        tlog.verify_consistency(size1, size2, proof[:-1], root1, root2)
