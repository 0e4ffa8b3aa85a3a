"""The Merkle tree over a leaf-hash source: roots, proofs, syncing and source errors."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlog_reference import CT_LEAVES, CT_ROOTS, ref_mth, ref_path, ref_proof

import tlog

H = bytes.fromhex
CT_HASHES = [tlog.leaf_hash(leaf) for leaf in CT_LEAVES]

# Published proofs over the reference leaves (transparency-dev/merkle proof/verify_test.go),
# with 0-based leaf indices.
INCLUSION_VECTORS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]  # fmt: skip
CONSISTENCY_VECTORS = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (1, 1, []),
    (0, 8, []),
]  # fmt: skip


class CountingSource(tlog.InMemoryLeafHashSource):
    """An in-memory source that counts how many leaf hashes are read through it."""

    def __init__(self, hashes: Sequence[bytes] = ()) -> None:
        super().__init__(hashes)
        self.reads = 0

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        self.reads += end - start
        return super().leaf_hashes(start, end)


def synthetic(n: int) -> list[bytes]:
    """Leaf hashes of the entries 0..n-1 as 4-byte big-endian integers."""
    return [tlog.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


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
