"""Helpers of the audit tests: a migrated store, entries, an operator, witnesses, a chain with AuditAnchor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import ledger
from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    AuditLog,
    LedgerAnchorTarget,
    LocalWitness,
    LogOperator,
    NewEntry,
    TrustedKeys,
    append_entries,
)
from exchange_api.core.db import make_engine, make_sessionmaker, migrate, session_scope
from keys import Ed25519SigningKey

ORIGIN = "tdex.test/audit"
T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, a Monday


@dataclass
class Store:
    """A migrated SQLite store with its session factory and audit log."""

    engine: Engine
    sessions: sessionmaker[Session]
    log: AuditLog


def make_store(tmp_path: Path) -> Store:
    """A fresh, migrated SQLite store."""
    engine = make_engine(f"sqlite:///{tmp_path}/audit.db")
    migrate(engine)
    sessions = make_sessionmaker(engine)
    return Store(engine, sessions, AuditLog(sessions))


def entry(i: int, *, at: dt.datetime = T0, kind: str = "grant.revoked", **record: Any) -> NewEntry:
    """A valid entry number ``i`` (a grant revocation unless told otherwise)."""
    body = {"grant_id": f"g{i}", "reason": f"reason {i}", "version": 1, **record}
    refs = frozenset({f"grant:{body['grant_id']}", "org:org_a"})
    return NewEntry(kind, "org_a", f"grant:{body['grant_id']}", at + dt.timedelta(seconds=i), body, refs)


def fill(store: Store, count: int, *, start: int = 0, batch: int = 500, at: dt.datetime = T0) -> None:
    """Append ``count`` entries numbered from ``start`` (entry ``i`` at ``at`` + ``i`` seconds)."""
    for first in range(start, start + count, batch):
        with session_scope(store.sessions) as session:
            numbers = range(first, min(first + batch, start + count))
            append_entries(session, [entry(i, at=at) for i in numbers])


@dataclass
class Keys:
    """The log operator and one witness, with the trusted keys an auditor would pin."""

    operator: LogOperator
    witness: LocalWitness
    witness_key: Ed25519SigningKey

    @property
    def trusted(self) -> TrustedKeys:
        """The operator's and the witness's verifier keys."""
        return TrustedKeys.from_vkeys([self.operator.vkey], [self.witness.vkey])


def make_keys(tmp_path: Path, name: str = "auditor.test") -> Keys:
    """A fresh operator key and a witness that keeps its state under ``tmp_path``."""
    operator = LogOperator(ORIGIN, Ed25519SigningKey.generate())
    key = Ed25519SigningKey.generate()
    witness = LocalWitness(name, key, {ORIGIN: [operator.vkey]}, state_path=tmp_path / f"{name}.json")
    return Keys(operator, witness, key)


@contextmanager
def anchor_chain() -> Iterator[tuple[ledger.Chain, ledger.Deployment, ledger.Signer]]:
    """eth-tester with the four contracts; the yielded signer is a LOG_OPERATOR admin."""
    with ledger.connect("eth-tester") as chain:
        signer = ledger.Signer.generate()
        chain.fund(signer.address)
        admin = ledger.Admin(keccak(b"bureau"), signer.address, ledger.Capability.LOG_OPERATOR)
        yield chain, ledger.deploy(chain, signer, [admin]), signer


def make_anchorer(
    store: Store,
    keys: Keys,
    dep: ledger.Deployment | None,
    signer: ledger.Signer | None,
    *,
    max_entries: int = 100,
    max_delay_s: float = 60.0,
    clock: Any = None,
) -> Anchorer:
    """An anchorer over ``store`` (no chain target when ``dep`` is None)."""
    target = LedgerAnchorTarget(dep.anchor, signer) if dep is not None and signer is not None else None
    kwargs = {"clock": clock} if clock is not None else {}
    return Anchorer(
        store.log,
        keys.operator,
        [keys.witness],
        target,
        AnchorPolicy(max_entries=max_entries, max_delay_s=max_delay_s),
        **kwargs,
    )
