"""The Merkle tree over a leaf-hash source: roots, proofs, syncing and source errors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlog_reference import (
    CONSISTENCY_VECTORS,
    CT_HASHES,
    CT_ROOTS,
    INCLUSION_VECTORS,
    H,
    ref_mth,
    ref_path,
    ref_proof,
    synthetic,
)

import tlog


class CountingSource(tlog.InMemoryLeafHashSource):
    """An in-memory source that counts how many leaf hashes are read through it."""

    def __init__(self, hashes: Sequence[bytes] = ()) -> None:
        super().__init__(hashes)
        self.reads = 0

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        self.reads += end - start
        return super().leaf_hashes(start, end)


def test_roots_at_every_past_size_match_published_vectors() -> None:
    """One tree of eight reference leaves gives the published root for every size 0..8."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    assert tree.size == 8
    assert [tree.root(size) for size in range(9)] == CT_ROOTS
    assert tree.root() == CT_ROOTS[8]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_published_vectors(index: int, size: int, proof: list[str]) -> None:
    """Inclusion proofs are exactly the published ones."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    assert tree.inclusion_proof(index, size) == [H(h) for h in proof]


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_published_vectors(size1: int, size2: int, proof: list[str]) -> None:
    """Consistency proofs are exactly the published ones."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    assert tree.consistency_proof(size1, size2) == [H(h) for h in proof]


def test_proofs_equal_rfc_recursion_for_all_small_trees() -> None:
    """For every size up to 70, every inclusion and consistency proof equals the RFC recursion."""
    hashes = synthetic(70)
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(hashes))
    for n in range(1, 71):
        assert tree.root(n) == ref_mth(hashes[:n])
        for m in range(n):
            assert tree.inclusion_proof(m, n) == ref_path(m, hashes[:n])
        for m in range(n + 1):
            assert tree.consistency_proof(m, n) == ref_proof(m, hashes[:n])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=8), st.data())
def test_incremental_sync_matches_a_tree_built_at_once(growth: list[int], data: st.DataObject) -> None:
    """Syncing after appends of any sizes and batch sizes gives the roots of the whole list."""
    batch = data.draw(st.sampled_from([1, 2, 3, 7, 64, 1 << 16]))
    source = tlog.InMemoryLeafHashSource()
    tree = tlog.MerkleTree(source, batch_size=batch)
    hashes: list[bytes] = []
    for count in growth:
        new = synthetic(len(hashes) + count)[len(hashes) :]
        hashes += new
        source.extend(new)
        assert tree.sync() == len(hashes)
    size = data.draw(st.integers(min_value=0, max_value=len(hashes)))
    assert tree.root(size) == ref_mth(hashes[:size])
    if size:
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        assert tree.inclusion_proof(index, size) == ref_path(index, hashes[:size])


def test_proofs_read_logarithmically_few_leaves() -> None:
    """A proof in a tree of 5,000 leaves reads at most two leaf hashes from the source."""
    source = CountingSource(synthetic(5000))
    tree = tlog.MerkleTree(source)
    source.reads = 0
    tree.inclusion_proof(4321, 4999)
    tree.consistency_proof(1234, 4999)
    tree.root(4999)
    assert source.reads <= 4


def test_new_leaves_are_invisible_until_sync() -> None:
    """Leaves appended to the source are only used after ``sync``."""
    source = tlog.InMemoryLeafHashSource(CT_HASHES[:3])
    tree = tlog.MerkleTree(source)
    source.extend(CT_HASHES[3:])
    assert tree.size == 3
    assert tree.root() == CT_ROOTS[3]
    with pytest.raises(tlog.SizeOutOfRangeError) as info:
        tree.root(8)
    assert info.value.code == "tlog.size_out_of_range"
    assert (info.value.size, info.value.limit) == (8, 3)
    assert tree.sync() == 8
    assert tree.root() == CT_ROOTS[8]


def test_leaf_hash_reads_through_to_source() -> None:
    """``leaf_hash`` returns the stored hash and refuses indices beyond the tree."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    assert tree.leaf_hash(7) == CT_HASHES[7]
    with pytest.raises(tlog.IndexOutOfRangeError) as info:
        tree.leaf_hash(8)
    assert info.value.code == "tlog.index_out_of_range"
    assert (info.value.index, info.value.size) == (8, 8)


@pytest.mark.parametrize(("index", "size"), [(8, 8), (-1, 8), (3, 3), (0, 0)])
def test_inclusion_proof_rejects_index_outside_tree(index: int, size: int) -> None:
    """An inclusion proof is only given for an index inside the requested size."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    with pytest.raises(tlog.IndexOutOfRangeError) as info:
        tree.inclusion_proof(index, size)
    assert (info.value.code, info.value.index, info.value.size) == ("tlog.index_out_of_range", index, size)


@pytest.mark.parametrize(("size1", "size2"), [(5, 4), (-1, 4), (0, 9)])
def test_consistency_proof_rejects_bad_sizes(size1: int, size2: int) -> None:
    """Consistency proofs need 0 <= size1 <= size2 <= the synced size."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(CT_HASHES))
    with pytest.raises(tlog.SizeOutOfRangeError) as info:
        tree.consistency_proof(size1, size2)
    assert info.value.code == "tlog.size_out_of_range"


class ShrinkingSource(tlog.InMemoryLeafHashSource):
    """A source that loses its last leaf, as a tampered table might."""

    def shrink(self) -> None:
        self._hashes.pop()


class LyingSource(tlog.InMemoryLeafHashSource):
    """A source whose reads return a configurable wrong answer."""

    def __init__(self, hashes: Sequence[bytes], answer: list[bytes]) -> None:
        super().__init__(hashes)
        self.answer = answer

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        return self.answer


def test_sync_refuses_a_shrinking_source() -> None:
    """A source with fewer leaves than already synced is reported, not silently followed."""
    source = ShrinkingSource(CT_HASHES)
    tree = tlog.MerkleTree(source)
    source.shrink()
    with pytest.raises(tlog.SourceInconsistentError) as info:
        tree.sync()
    assert info.value.code == "tlog.source_inconsistent"
    assert tree.size == 8


@pytest.mark.parametrize("answer", [[], [b"short"] * 8, [CT_HASHES[0]] * 9])
def test_sync_refuses_wrong_reads(answer: list[bytes]) -> None:
    """A read that returns the wrong count or malformed hashes is reported."""
    with pytest.raises(tlog.SourceInconsistentError) as info:
        tlog.MerkleTree(LyingSource(CT_HASHES, answer))
    assert info.value.code == "tlog.source_inconsistent"


def test_in_memory_source_validates_hashes_and_ranges() -> None:
    """The in-memory source refuses malformed hashes and reads outside its range."""
    source = tlog.InMemoryLeafHashSource()
    assert source.append(CT_HASHES[0]) == 0
    with pytest.raises(tlog.InvalidHashError) as bad_hash:
        source.append(b"x" * 31)
    assert bad_hash.value.code == "tlog.invalid_hash"
    with pytest.raises(tlog.SizeOutOfRangeError) as bad_range:
        source.leaf_hashes(0, 2)
    assert bad_range.value.code == "tlog.size_out_of_range"


def test_batch_size_must_be_positive() -> None:
    """A sync batch must read at least one leaf."""
    with pytest.raises(ValueError, match="at least 1"):
        tlog.MerkleTree(tlog.InMemoryLeafHashSource(), batch_size=0)
