"""Known answers and properties of RFC 6962 hashing."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tlog_reference import CT_LEAVES, CT_ROOTS, ref_mth

import tlog
from tlog._hashing import node_sha256, split_point


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    """The empty tree's root is SHA-256 of the empty string, e3b0c442…."""
    assert tlog.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert tlog.merkle_root([]) == tlog.EMPTY_ROOT


def test_leaf_hash_prefixes_zero_byte() -> None:
    """The leaf hash of the empty entry is SHA-256(0x00), the published size-1 root."""
    assert tlog.leaf_hash(b"") == CT_ROOTS[1]
    assert tlog.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_node_hash_prefixes_one_byte() -> None:
    """The node over the first two reference leaves is the published size-2 root."""
    left, right = (tlog.leaf_hash(leaf) for leaf in CT_LEAVES[:2])
    assert tlog.node_hash(left, right) == CT_ROOTS[2]
    assert tlog.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_vectors(size: int) -> None:
    """The MTH of the first ``size`` reference leaves is the published root."""
    hashes = [tlog.leaf_hash(leaf) for leaf in CT_LEAVES[:size]]
    assert tlog.merkle_root(hashes) == CT_ROOTS[size]
    assert ref_mth(hashes) == CT_ROOTS[size]


@pytest.mark.parametrize(
    ("size", "split"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512), (1 << 40, 1 << 39)]
)
def test_split_is_largest_power_of_two_below(size: int, split: int) -> None:
    """The RFC split point is the largest power of two strictly smaller than the size."""
    assert split_point(size) == split


@given(st.lists(st.binary(max_size=8), max_size=300))
def test_merkle_root_agrees_with_recursive_definition(entries: list[bytes]) -> None:
    """The bottom-up MTH equals the RFC's recursive definition for any list."""
    hashes = [tlog.leaf_hash(entry) for entry in entries]
    assert tlog.merkle_root(hashes) == ref_mth(hashes)


def test_merkle_root_rejects_short_hash() -> None:
    """A leaf hash that is not 32 bytes is refused with its position named."""
    with pytest.raises(tlog.InvalidHashError) as info:
        tlog.merkle_root([tlog.leaf_hash(b"a"), b"short"])
    assert info.value.code == "tlog.invalid_hash"
    assert (info.value.what, info.value.length) == ("leaf_hashes[1]", 5)


@given(st.binary(max_size=200))
def test_node_sha256_agrees_with_hashlib(data: bytes) -> None:
    """The SHA-256 picked for interior nodes is SHA-256, whichever implementation it is."""
    assert node_sha256(data).digest() == hashlib.sha256(data).digest()
