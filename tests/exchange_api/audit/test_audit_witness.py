"""Witnesses check consistency before cosigning: split views and rollbacks are refused, after restarts too."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_support import ORIGIN, entry, fill, make_keys, make_store
from sqlalchemy import update

from exchange_api.audit import AuditLog, LocalWitness, append_entries, sign_and_cosign
from exchange_api.audit._models import AuditEntryRow
from exchange_api.audit.errors import WitnessRefused
from exchange_api.core.db import session_scope
from keys import Ed25519SigningKey
from tlog import open_checkpoint


def test_cosigned_checkpoint_verifies(tmp_path: Path) -> None:
    """A checkpoint carries the operator's signature and the witness's cosignature."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 10)
    note = sign_and_cosign(store.log.tree(), 10, keys.operator, [keys.witness])
    checkpoint = open_checkpoint(note, keys.trusted.log)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 10, store.log.root(10))
    assert [s.name for s in note.signatures] == [ORIGIN, "auditor.test"]
    assert keys.witness.last_size(ORIGIN) == 10


def test_split_view_is_caught(tmp_path: Path) -> None:
    """Two different trees shown to one witness: the second is refused as a split view."""
    keys = make_keys(tmp_path)
    honest = make_store(tmp_path / "a")
    forked = make_store(tmp_path / "b")
    for store in (honest, forked):
        fill(store, 10)
    with session_scope(honest.sessions) as session:
        append_entries(session, [entry(100)])
    with session_scope(forked.sessions) as session:
        append_entries(session, [entry(200)])
    sign_and_cosign(honest.log.tree(), 11, keys.operator, [keys.witness])
    for size in (11, 12):
        if size == 12:
            with session_scope(forked.sessions) as session:
                append_entries(session, [entry(201)])
        with pytest.raises(WitnessRefused) as caught:
            sign_and_cosign(forked.log.tree(), size, keys.operator, [keys.witness])
        assert caught.value.code == "audit.witness_refused"
        assert caught.value.reason == "tlog.split_view"
    assert keys.witness.last_size(ORIGIN) == 11


def test_witness_remembers_across_restarts(tmp_path: Path) -> None:
    """A witness restarted from its state file still refuses a tree that rewrote what it cosigned."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 20)
    sign_and_cosign(store.log.tree(), 20, keys.operator, [keys.witness])
    restarted = LocalWitness(
        "auditor.test", keys.witness_key, {ORIGIN: [keys.operator.vkey]}, tmp_path / "auditor.test.json"
    )
    assert restarted.last_size(ORIGIN) == 20
    with session_scope(store.sessions) as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.idx == 3).values(leaf_hash=b"\x01" * 32))
    fill(store, 5, start=20)
    rebuilt = AuditLog(store.sessions)  # a new tree over the rewritten leaves
    with pytest.raises(WitnessRefused) as caught:
        sign_and_cosign(rebuilt.tree(), 25, keys.operator, [restarted])
    assert caught.value.reason == "tlog.split_view"


def test_rollback_is_refused(tmp_path: Path) -> None:
    """A checkpoint smaller than one already cosigned is refused."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 10)
    sign_and_cosign(store.log.tree(), 10, keys.operator, [keys.witness])
    with pytest.raises(WitnessRefused) as caught:
        sign_and_cosign(store.log.tree(), 9, keys.operator, [keys.witness])
    assert caught.value.reason == "tlog.tree_shrank"


def test_enough_witnesses_are_required(tmp_path: Path) -> None:
    """With two witnesses and one refusing, one cosignature suffices unless two are required."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    stranger = LocalWitness("other.auditor", Ed25519SigningKey.generate(), {"another/log": []})
    fill(store, 5)
    note = sign_and_cosign(store.log.tree(), 5, keys.operator, [stranger, keys.witness])
    assert [s.name for s in note.signatures] == [ORIGIN, "auditor.test"]
    fill(store, 1, start=5)
    with pytest.raises(WitnessRefused) as caught:
        sign_and_cosign(store.log.tree(), 6, keys.operator, [stranger, keys.witness], min_witnesses=2)
    assert caught.value.reason == "tlog.unknown_log"
