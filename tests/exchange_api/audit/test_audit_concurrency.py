"""Concurrent appends on SQLite and PostgreSQL get dense indices in commit order; a rollback leaves no gap."""

from __future__ import annotations

import threading

import pytest
from audit_support import entry
from sqlalchemy import select

from exchange_api.audit import AuditLog, append_entries, check_store
from exchange_api.audit._models import AuditEntryRow
from exchange_api.core.db import make_engine, make_sessionmaker, migrate, session_scope


def test_concurrent_appends_are_dense(database_url: str) -> None:
    """Four writers appending at once leave indices 0..n-1, each entry at its own position."""
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                with session_scope(sessions) as session:
                    append_entries(session, [entry(w * 100 + i)])
                    if i == 7:
                        raise RuntimeError("roll back this one")
        except RuntimeError:
            pass
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with sessions() as session:
        indices = list(session.scalars(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx)))
    assert indices == list(range(4 * 7))
    assert AuditLog(sessions).size() == 28
    assert check_store(engine).ok
    engine.dispose()


@pytest.mark.parametrize("count", [1, 3])
def test_append_returns_positions(database_url: str, count: int) -> None:
    """append_entries returns the entries with the indices they were stored under."""
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with session_scope(sessions) as session:
        first = append_entries(session, [entry(i) for i in range(count)])
        second = append_entries(session, [entry(10)])
    assert [e.index for e in first] == list(range(count)) and second[0].index == count
    engine.dispose()
