"""The full audit: every kind of tampering is found, with the first bad index or index range."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlog_reference import ref_mth

import tlog


def entries_of(n: int) -> list[bytes]:
    """Distinct entries 0..n-1."""
    return [b"entry-%d" % i for i in range(n)]


def heads_at(hashes: list[bytes], sizes: list[int]) -> list[tlog.TreeHead]:
    """Checkpoints of the honest log at ``sizes``."""
    tree = tlog.MerkleTree(tlog.InMemoryLeafHashSource(hashes))
    return [tlog.TreeHead(size, tree.root(size)) for size in sizes]


def tamper(entries: list[bytes], kind: str, at: int) -> list[bytes]:
    """Return ``entries`` modified, deleted, inserted or reordered at index ``at``."""
    out = list(entries)
    if kind == "modified":
        out[at] += b"!"
    elif kind == "deleted":
        del out[at]
    elif kind == "inserted":
        out.insert(at, b"forged")
    elif kind == "reordered":
        out[at], out[at + 1] = out[at + 1], out[at]
    return out


ENTRIES = entries_of(1000)
HASHES = [tlog.leaf_hash(entry) for entry in ENTRIES]
SIZES = [0, 1, 100, 250, 512, 999, 1000]
HEADS = heads_at(HASHES, SIZES)


def test_honest_log_checks_out() -> None:
    """An untouched log matches every checkpoint and every entry."""
    report = tlog.full_check(HASHES, HEADS, ENTRIES)
    assert report.ok
    assert (report.size, report.root, report.checkpoints_checked) == (1000, ref_mth(HASHES), len(SIZES))
    assert (report.first_bad_index, report.bad_index_range, report.first_contradicted) == (None, None, None)
    report.raise_for_problems()


@pytest.mark.parametrize("kind", ["modified", "deleted", "inserted", "reordered"])
def test_entry_tampering_behind_the_stored_hashes_is_named_exactly(kind: str) -> None:
    """Entries changed while stored leaf hashes stay put are named by their first bad index."""
    report = tlog.full_check(HASHES, HEADS, tamper(ENTRIES, kind, 321))
    assert report.first_bad_index == 321
    assert report.contradicted == ()
    with pytest.raises(tlog.EntryMismatchError) as info:
        report.raise_for_problems()
    assert (info.value.code, info.value.index) == ("tlog.entry_mismatch", 321)


@pytest.mark.parametrize("kind", ["modified", "deleted", "inserted", "reordered"])
def test_consistent_rewrite_of_entries_and_hashes_contradicts_checkpoints(kind: str) -> None:
    """Rewriting entries and hashes together contradicts the first checkpoint after the change."""
    forged = tamper(ENTRIES, kind, 321)
    forged_hashes = [tlog.leaf_hash(entry) for entry in forged]
    report = tlog.full_check(forged_hashes, HEADS, forged)
    assert report.first_bad_index is None
    first = report.first_contradicted
    assert first is not None
    assert (first.size, first.root) == (512, HEADS[4].root)
    assert first.computed_root == ref_mth(forged_hashes[:512])
    assert report.bad_index_range == (250, 512)
    if kind == "deleted":  # the forged log is one entry short of the last checkpoint
        assert report.contradicted[-1] == tlog.Contradiction(1000, HEADS[-1].root, None)
    with pytest.raises(tlog.CheckpointContradictedError) as info:
        report.raise_for_problems()
    assert (info.value.code, info.value.size, info.value.first_bad_from) == (
        "tlog.checkpoint_contradicted",
        512,
        250,
    )


def test_stored_hash_tampering_is_named_and_contradicts() -> None:
    """A changed stored leaf hash is named by index and contradicts later checkpoints."""
    forged = list(HASHES)
    forged[700] = tlog.leaf_hash(b"forged")
    report = tlog.full_check(forged, HEADS, ENTRIES)
    assert report.first_bad_index == 700
    assert [c.size for c in report.contradicted] == [999, 1000]
    assert report.bad_index_range == (512, 999)


def test_missing_and_extra_entries_are_named() -> None:
    """Entries that run out early, or outnumber the stored hashes, are named at the gap."""
    assert tlog.full_check(HASHES, HEADS, ENTRIES[:990]).first_bad_index == 990
    assert tlog.full_check(HASHES, HEADS, [*ENTRIES, b"extra"]).first_bad_index == 1000


def test_truncated_store_contradicts_larger_checkpoints() -> None:
    """A store shorter than a checkpoint cannot satisfy it."""
    report = tlog.full_check(HASHES[:600], HEADS)
    assert [(c.size, c.computed_root) for c in report.contradicted] == [(999, None), (1000, None)]
    assert report.bad_index_range == (512, 999)
    assert report.size == 600


def test_checkpoint_order_does_not_matter_and_inputs_may_stream() -> None:
    """Checkpoints in any order and generators for the inputs give the same report."""
    report = tlog.full_check(iter(HASHES), reversed(HEADS), (entry for entry in ENTRIES))
    assert report.ok and report.checkpoints_checked == len(HEADS)


@pytest.mark.parametrize("order", [1, -1])
def test_conflicting_checkpoints_of_one_size_point_at_the_checkpoints(order: int) -> None:
    """Two checkpoints of one size, one matching the log, give an empty bad-index range."""
    forged = tlog.TreeHead(512, tlog.leaf_hash(b"forged root"))
    report = tlog.full_check(HASHES, [*HEADS, forged][::order])
    assert report.contradicted == (tlog.Contradiction(512, forged.root, HEADS[4].root),)
    assert report.bad_index_range == (512, 512)


def test_negative_checkpoint_size_is_refused() -> None:
    """A checkpoint with a negative size is not a checkpoint."""
    with pytest.raises(tlog.SizeOutOfRangeError) as info:
        tlog.full_check(HASHES, [tlog.TreeHead(-1, tlog.EMPTY_ROOT)])
    assert info.value.code == "tlog.size_out_of_range"


def test_empty_log_and_wrong_empty_root() -> None:
    """An empty store matches only the empty-tree root at size 0."""
    assert tlog.full_check([], [tlog.TreeHead(0, tlog.EMPTY_ROOT)]).ok
    report = tlog.full_check([], [tlog.TreeHead(0, HASHES[0])])
    assert report.contradicted == (tlog.Contradiction(0, HASHES[0], tlog.EMPTY_ROOT),)
    assert report.bad_index_range == (0, 0)


def test_many_chunks_at_default_chunk_size() -> None:
    """A log spanning several default-size chunks recomputes every checkpoint root."""
    n = (1 << 16) + 12345
    hashes = [tlog.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    sizes = [1 << 14, (1 << 15) + 1, 1 << 16, n - 1, n]
    report = tlog.full_check(hashes, heads_at(hashes, sizes))
    assert report.ok and report.size == n


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=3000),
    chunk_bits=st.integers(min_value=1, max_value=8),
    kind=st.sampled_from(["modified", "deleted", "inserted", "reordered"]),
    data=st.data(),
)
def test_any_tampering_is_located(n: int, chunk_bits: int, kind: str, data: st.DataObject) -> None:
    """For any log size, chunking and tampering, the first bad index and checkpoint are right."""
    entries = entries_of(n)
    hashes = [tlog.leaf_hash(entry) for entry in entries]
    sizes = sorted(data.draw(st.sets(st.integers(min_value=0, max_value=n), max_size=6)) | {n})
    heads = heads_at(hashes, sizes)
    at = data.draw(st.integers(min_value=0, max_value=n - 2), label="at")

    honest = tlog.full_check(hashes, heads, entries, chunk_bits=chunk_bits)
    assert honest.ok and honest.root == ref_mth(hashes)

    forged = tamper(entries, kind, at)
    assert tlog.full_check(hashes, heads, forged, chunk_bits=chunk_bits).first_bad_index == at

    forged_hashes = [tlog.leaf_hash(entry) for entry in forged]
    report = tlog.full_check(forged_hashes, heads, forged, chunk_bits=chunk_bits)
    assert report.first_bad_index is None
    first = report.first_contradicted
    expected_first = min(size for size in sizes if size > at)
    assert first is not None and first.size == expected_first
    assert report.bad_index_range == (max((s for s in sizes if s <= at), default=0), expected_first)
