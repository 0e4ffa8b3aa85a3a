"""The witness: cosigns growth, catches split views and rollbacks, trusts only the log's key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tlog_reference import ed25519_note_keys

import tlog

ORIGIN = "audit.tdex.example/log"
LOG_SIGNER, LOG_VERIFIER = ed25519_note_keys(ORIGIN, seed=b"\x01" * 32)
W1_SIGNER, W1_VERIFIER = ed25519_note_keys("auditor.example/w1", seed=b"\x02" * 32)
W2_SIGNER, W2_VERIFIER = ed25519_note_keys("auditor.example/w2", seed=b"\x03" * 32)


class Log:
    """A test log: entries, a tree over their hashes, and the log's signing key."""

    def __init__(self, entries: list[bytes], signer: tlog.NoteSigner = LOG_SIGNER) -> None:
        self.source = tlog.InMemoryLeafHashSource(tlog.leaf_hash(entry) for entry in entries)
        self.tree = tlog.MerkleTree(self.source)
        self.signer = signer

    def append(self, *entries: bytes) -> None:
        self.source.extend(tlog.leaf_hash(entry) for entry in entries)
        self.tree.sync()

    def note(self, size: int | None = None) -> tlog.SignedNote:
        size = self.tree.size if size is None else size
        return tlog.sign_checkpoint(tlog.Checkpoint(ORIGIN, size, self.tree.root(size)), self.signer)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        return self.tree.consistency_proof(old, new)


def entries(start: int, stop: int, tag: bytes = b"") -> list[bytes]:
    """Entries numbered ``start``..``stop - 1``, optionally tagged to make a different history."""
    return [tag + b"entry-%d" % i for i in range(start, stop)]


def witness(signer: tlog.NoteSigner = W1_SIGNER, **state: tlog.Checkpoint) -> tlog.Witness:
    """A witness following the test log."""
    return tlog.Witness(signer, {ORIGIN: [LOG_VERIFIER]}, state or None)


def test_cosigns_first_checkpoint_and_then_growth() -> None:
    """The first checkpoint is cosigned as seen; later ones need a consistency proof."""
    log = Log(entries(0, 10))
    w1 = witness()
    first = w1.cosign(log.note(), [])
    assert tlog.verify_note(first, [W1_VERIFIER])[0].name == "auditor.example/w1"
    assert tlog.open_checkpoint(first, [LOG_VERIFIER]).size == 10

    log.append(*entries(10, 25))
    second = w1.cosign(log.note().format(), log.proof(10))
    assert [sig.name for sig in second.signatures] == [ORIGIN, "auditor.example/w1"]
    assert w1.last_cosigned(ORIGIN) == tlog.Checkpoint(ORIGIN, 25, log.tree.root())
    assert w1.state() == {ORIGIN: tlog.Checkpoint(ORIGIN, 25, log.tree.root())}


def test_same_checkpoint_twice_is_cosigned_again() -> None:
    """Re-presenting the checkpoint already cosigned yields the same cosignature."""
    log = Log(entries(0, 10))
    w1 = witness()
    assert w1.cosign(log.note(), []) == w1.cosign(log.note(), [])


def test_same_size_different_root_is_a_split_view() -> None:
    """Two roots for one size are a split view, and the witness's state is unchanged."""
    honest, forked = Log(entries(0, 10)), Log(entries(0, 10, tag=b"x"))
    w1 = witness()
    w1.cosign(honest.note(), [])
    with pytest.raises(tlog.SplitViewError) as info:
        w1.cosign(forked.note(), [])
    error = info.value
    assert (error.code, error.reason, error.origin, error.old_size, error.new_size) == (
        "tlog.split_view",
        "root_differs",
        ORIGIN,
        10,
        10,
    )
    assert w1.last_cosigned(ORIGIN) == tlog.Checkpoint(ORIGIN, 10, honest.tree.root())


def test_fork_that_grows_is_a_split_view() -> None:
    """A bigger tree that rewrote history cannot prove consistency with the cosigned one."""
    honest = Log(entries(0, 10))
    forked = Log([*entries(0, 4), b"rewritten", *entries(5, 20)])
    w1 = witness()
    w1.cosign(honest.note(), [])
    with pytest.raises(tlog.SplitViewError) as info:
        w1.cosign(forked.note(), forked.proof(10))
    error = info.value
    assert (error.reason, error.old_size, error.new_size) == ("tlog.consistency_mismatch", 10, 20)
    assert isinstance(error.__cause__, tlog.ConsistencyMismatchError)


def test_garbage_proof_is_refused_as_split_view() -> None:
    """A proof of the wrong shape is refused; ``reason`` tells it from a root mismatch."""
    log = Log(entries(0, 10))
    w1 = witness()
    w1.cosign(log.note(), [])
    log.append(*entries(10, 13))
    with pytest.raises(tlog.SplitViewError) as info:
        w1.cosign(log.note(), [])
    assert info.value.reason == "tlog.proof_length"
    with pytest.raises(tlog.SplitViewError) as short:
        w1.cosign(log.note(), [b"short"] * len(log.proof(10)))
    assert short.value.reason == "tlog.invalid_hash"


def test_smaller_checkpoint_is_refused() -> None:
    """A checkpoint older than the one cosigned is refused as a rollback."""
    log = Log(entries(0, 10))
    w1 = witness()
    w1.cosign(log.note(), [])
    with pytest.raises(tlog.TreeShrankError) as info:
        w1.cosign(log.note(9), [])
    assert (info.value.code, info.value.old_size, info.value.new_size) == ("tlog.tree_shrank", 10, 9)


def test_only_followed_logs_signed_by_their_key_are_cosigned() -> None:
    """Unknown origins, foreign keys and tampered bodies are refused before any state check."""
    log = Log(entries(0, 10))
    w1 = witness()
    stranger_signer, _ = ed25519_note_keys(ORIGIN)
    other_origin = tlog.sign_checkpoint(tlog.Checkpoint("elsewhere", 10, log.tree.root()), LOG_SIGNER)
    with pytest.raises(tlog.UnknownLogError) as unknown:
        w1.cosign(other_origin, [])
    assert (unknown.value.code, unknown.value.origin) == ("tlog.unknown_log", "elsewhere")
    with pytest.raises(tlog.NoteUnverifiedError):
        w1.cosign(Log(entries(0, 10), signer=stranger_signer).note(), [])
    tampered = log.note().format().replace("\n10\n", "\n11\n", 1)
    with pytest.raises(tlog.SignatureInvalidError):
        w1.cosign(tampered, [])
    assert w1.state() == {}


def test_split_view_shown_to_two_witnesses_is_caught() -> None:
    """A log showing tree A to one witness and tree B to another is caught when views meet."""
    tree_a, tree_b = Log(entries(0, 50)), Log(entries(0, 50, tag=b"b"))
    w1, w2 = witness(W1_SIGNER), witness(W2_SIGNER)
    seen_by_w1 = w1.cosign(tree_a.note(), [])
    w2.cosign(tree_b.note(), [])
    # Gossip: W1's cosigned view reaches W2, which has cosigned another root at that size.
    with pytest.raises(tlog.SplitViewError) as gossip:
        w2.cosign(seen_by_w1, [])
    assert gossip.value.reason == "root_differs"
    # Nor can the log later reconcile: growing B cannot be proved consistent with A for W1.
    tree_b.append(*entries(50, 60, tag=b"b"))
    with pytest.raises(tlog.SplitViewError) as growth:
        w1.cosign(tree_b.note(), tree_b.proof(50))
    assert growth.value.reason == "tlog.consistency_mismatch"


def test_restored_state_is_enforced() -> None:
    """A witness restarted from persisted state keeps enforcing it."""
    log = Log(entries(0, 30))
    w1 = witness(**{ORIGIN: tlog.Checkpoint(ORIGIN, 20, log.tree.root(20))})
    w1.cosign(log.note(), log.proof(20))
    forked = Log(entries(0, 30, tag=b"f"))
    w1_again = witness(**{ORIGIN: tlog.Checkpoint(ORIGIN, 20, log.tree.root(20))})
    with pytest.raises(tlog.SplitViewError):
        w1_again.cosign(forked.note(), forked.proof(20))


@settings(max_examples=25, deadline=None)
@given(
    growth=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=6),
    fork_at=st.integers(min_value=0, max_value=2000),
)
def test_honest_growth_always_cosigned_and_any_fork_caught(growth: list[int], fork_at: int) -> None:
    """Any sequence of honest checkpoints is cosigned; a fork below the cosigned size is caught."""
    log = Log([])
    w1 = witness()
    last = None
    for count in growth:
        log.append(*entries(log.tree.size, log.tree.size + count))
        proof = log.proof(last.size) if last else []
        w1.cosign(log.note(), proof)
        last = w1.last_cosigned(ORIGIN)
    assert last is not None and last.size == log.tree.size
    if last.size == 0:
        return
    at = fork_at % last.size
    forked = Log([*entries(0, at), b"forged", *entries(at + 1, last.size + 5)])
    with pytest.raises(tlog.SplitViewError):
        w1.cosign(forked.note(), forked.proof(last.size))
