"""Proofs over the SQL-backed tree: roots, inclusion and consistency for sizes 1 to a few thousand."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from audit_support import Store, fill, make_store
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from exchange_api.audit import CachedInclusionVerifier, SqlLeafHashSource
from exchange_api.audit._models import AuditEntryRow
from exchange_api.audit.errors import InvalidRange
from exchange_api.core.db import session_scope
from tlog import (
    InclusionMismatchError,
    MerkleTree,
    TlogError,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)

SIZE = 3000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store of 3,000 entries shared by the property tests (they only read)."""
    made = make_store(tmp_path_factory.mktemp("tree"))
    fill(made, SIZE)
    yield made
    made.engine.dispose()


@pytest.fixture(scope="module")
def leaves(store: Store) -> list[bytes]:
    """The stored leaf hashes, in order."""
    with store.sessions() as session:
        return [
            bytes(h) for h in session.scalars(select(AuditEntryRow.leaf_hash).order_by(AuditEntryRow.idx))
        ]


def test_leaves_hash_the_stored_entries(store: Store, leaves: list[bytes]) -> None:
    """Each stored leaf hash is SHA-256(0x00 ‖ entry bytes) and the source serves them in order."""
    with store.sessions() as session:
        texts = list(session.scalars(select(AuditEntryRow.entry).order_by(AuditEntryRow.idx)))
    assert [hashlib.sha256(b"\x00" + t.encode()).digest() for t in texts] == leaves
    source = SqlLeafHashSource(store.sessions)
    assert source.size() == SIZE
    assert list(source.leaf_hashes(10, 20)) == leaves[10:20]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=SIZE))
def test_root_matches_reference(store: Store, leaves: list[bytes], size: int) -> None:
    """The log's root at any size is the RFC 6962 Merkle tree hash of the first leaves."""
    assert store.log.root(size) == merkle_root(leaves[:size])


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_inclusion_proofs_verify(store: Store, leaves: list[bytes], data: st.DataObject) -> None:
    """Every inclusion proof the log gives verifies; against another leaf it does not."""
    size = data.draw(st.integers(min_value=1, max_value=SIZE))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = store.log.inclusion_proof(index, size)
    root = store.log.root(size)
    verify_inclusion(leaves[index], index, size, proof, root)
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(InclusionMismatchError):
            verify_inclusion(leaves[other], index, size, proof, root)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_consistency_proofs_verify(store: Store, data: st.DataObject) -> None:
    """Every consistency proof the log gives verifies between the two roots."""
    second = data.draw(st.integers(min_value=1, max_value=SIZE))
    first = data.draw(st.integers(min_value=0, max_value=second))
    proof = store.log.consistency_proof(first, second)
    verify_consistency(first, second, proof, store.log.root(first), store.log.root(second))


def test_out_of_range_is_refused(store: Store) -> None:
    """Indices and sizes outside the log are refused with audit.invalid_range."""
    for call in (
        lambda: store.log.inclusion_proof(SIZE, SIZE),
        lambda: store.log.inclusion_proof(0, SIZE + 1),
        lambda: store.log.consistency_proof(10, 5),
        lambda: store.log.root(SIZE + 1),
    ):
        with pytest.raises(InvalidRange) as caught:
            call()
        assert caught.value.code == "audit.invalid_range"


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_cached_verifier_agrees_with_tlog(store: Store, leaves: list[bytes], data: st.DataObject) -> None:
    """The caching verifier accepts and rejects exactly what tlog's verifier does, cache warm or cold."""
    size = data.draw(st.integers(min_value=1, max_value=SIZE))
    root = store.log.root(size)
    verifier = CachedInclusionVerifier(size, root)
    for _ in range(12):
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        proof = store.log.inclusion_proof(index, size)
        leaf = leaves[index]
        mutation = data.draw(st.sampled_from(["none", "leaf", "proof", "index"]))
        if mutation == "leaf":
            leaf = hashlib.sha256(leaf).digest()
        elif mutation == "proof" and proof:
            at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            proof = [*proof[:at], hashlib.sha256(proof[at]).digest(), *proof[at + 1 :]]
        elif mutation == "index" and size > 1:
            index = (index + 1) % size
        expected: type[Exception] | None = None
        try:
            verify_inclusion(leaf, index, size, proof, root)
        except TlogError as err:
            expected = type(err)
        if expected is None:
            verifier.verify(leaf, index, proof)
        else:
            with pytest.raises(expected):
                verifier.verify(leaf, index, proof)


def test_tree_follows_appends(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A tree built earlier sees later committed entries, and never uncommitted ones."""
    made = make_store(tmp_path_factory.mktemp("grow"))
    fill(made, 5)
    assert made.log.size() == 5
    fill(made, 6, start=5)
    assert made.log.size() == 11
    tree = MerkleTree(SqlLeafHashSource(made.sessions))
    assert tree.root() == made.log.root()
    with pytest.raises(RuntimeError), session_scope(made.sessions) as session:
        from audit_support import entry

        from exchange_api.audit import append_entries

        append_entries(session, [entry(99)])
        raise RuntimeError("roll back")
    assert made.log.size() == 11
    made.engine.dispose()
