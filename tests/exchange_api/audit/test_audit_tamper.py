"""The full check catches every kind of tampering and names the first bad entry or broken checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import Keys, Store, anchor_chain, fill, make_anchorer, make_keys, make_store
from sqlalchemy import update

from exchange_api.audit import check_store, tamper_entry, verify_trail
from exchange_api.audit._models import AuditCheckpointRow
from exchange_api.core.db import session_scope


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[tuple[Store, Keys]]:
    """300 entries with signed, cosigned checkpoints at sizes 100, 200 and 300 (no chain)."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    anchorer = make_anchorer(store, keys, None, None)
    for start in (0, 100, 200):
        fill(store, 100, start=start)
        assert anchorer.tick(force=True).signed is not None
    yield store, keys
    store.engine.dispose()


def test_untouched_store_checks_out(signed: tuple[Store, Keys]) -> None:
    """An unaltered store matches every checkpoint and every record."""
    store, keys = signed
    report = check_store(store.engine, trusted=keys.trusted)
    assert report.ok, report.lines()
    assert (report.entries, report.checkpoints_checked) == (300, 3)
    assert report.lines()[-1] == "OK: the trail is complete and unaltered"


@pytest.mark.parametrize(
    ("how", "first_bad", "contradicted", "bad_range"),
    [
        ("modify", 150, (), None),
        ("modify_rehash", None, (200, 300), (100, 200)),
        ("record", 150, (), None),
        ("delete", 150, (200, 300), (100, 200)),
        ("insert", 151, (200, 300), (100, 200)),
        ("swap", 150, (200, 300), (100, 200)),
    ],
)
def test_each_tampering_is_named(
    signed: tuple[Store, Keys],
    how: str,
    first_bad: int | None,
    contradicted: tuple[int, ...],
    bad_range: tuple[int, int] | None,
) -> None:
    """Modified, re-hashed, deleted, inserted and reordered entries each fail the check where they are."""
    store, keys = signed
    tamper_entry(store.engine, 150, how)
    report = check_store(store.engine, trusted=keys.trusted)
    assert not report.ok
    assert report.first_bad_index == first_bad, report.lines()
    assert tuple(c.size for c in report.contradicted) == contradicted
    if contradicted:
        assert report.first_contradicted is not None and report.first_contradicted.size == 200
        assert report.bad_index_range == bad_range
        assert any(line.startswith("CONTRADICTED: checkpoint of size 200") for line in report.lines())
    if first_bad is not None:
        assert f"FIRST BAD ENTRY: index {first_bad}" in "\n".join(report.lines())


def test_records_check_can_be_skipped(signed: tuple[Store, Keys]) -> None:
    """Without the record pass, an altered record goes unseen (the entry itself is intact)."""
    store, keys = signed
    tamper_entry(store.engine, 10, "record")
    assert check_store(store.engine, trusted=keys.trusted, check_records=False).ok
    assert check_store(store.engine, trusted=keys.trusted).first_bad_index == 10


def test_forged_stored_checkpoint_is_reported(signed: tuple[Store, Keys]) -> None:
    """A stored checkpoint whose columns or signature were changed is listed as bad."""
    store, keys = signed
    with session_scope(store.sessions) as session:
        session.execute(
            update(AuditCheckpointRow).where(AuditCheckpointRow.size == 200).values(root=b"\x00" * 32)
        )
    report = check_store(store.engine, trusted=keys.trusted)
    assert not report.ok
    assert report.bad_checkpoints == (
        "stored checkpoint of size 200: its columns differ from its signed note",
    )


def test_rehashed_tampering_contradicts_the_chain(tmp_path: Path) -> None:
    """A rewrite that recomputes leaf hashes and stored checkpoints still contradicts the chain's anchors."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    with anchor_chain() as (_chain, dep, signer):
        anchorer = make_anchorer(store, keys, dep, signer)
        for start in (0, 40):
            fill(store, 40, start=start)
            assert anchorer.tick(force=True).anchored is not None
        tamper_entry(store.engine, 50, "modify_rehash")
        report = verify_trail(store.engine, anchor=dep.anchor, trusted=keys.trusted)
        sources = {c.source for c in report.contradicted}
        assert "chain seq 1" in sources
        assert report.first_contradicted is not None and report.first_contradicted.size == 80
        assert report.bad_index_range == (40, 80)
    store.engine.dispose()


def test_unknown_tampering_is_refused(signed: tuple[Store, Keys]) -> None:
    """The tamper helper only knows its listed kinds and existing entries."""
    store, _ = signed
    with pytest.raises(ValueError, match="must be one of"):
        tamper_entry(store.engine, 1, "shuffle")
    with pytest.raises(ValueError, match="no stored entry"):
        tamper_entry(store.engine, 10_000)
