"""Appending entries in the caller's SQL transaction, and reading them back as a leaf-hash source.

Appends take their indices by incrementing the one ``audit_log`` row, so indices are dense and in
commit order: on PostgreSQL the row lock is held until the caller's transaction ends (a rolled
back transaction gives its indices back); SQLite serialises writers anyway. Readers only ever see
committed sizes, and every index below a committed size is committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.audit._entry import AuditEntry, format_time
from exchange_api.audit._jcs import canonical_bytes
from exchange_api.audit._kinds import check_record, version_of
from exchange_api.audit._models import HEAD_ID, AuditCheckpointRow, AuditEntryRef, AuditEntryRow, AuditLogHead
from exchange_api.audit.errors import EntryNotFound, InvalidRecord, LogOriginMismatch
from keys.errors import CanonicalizationError
from tlog import SizeOutOfRangeError

__all__ = [
    "DEFAULT_ORIGIN",
    "NewEntry",
    "SqlLeafHashSource",
    "StoredEntry",
    "append_entries",
    "ensure_log",
    "iter_chunks",
    "log_origin",
    "log_size",
    "read_entry",
]

DEFAULT_ORIGIN = "tdex.exchange/audit"
_ENTRIES = cast(Table, AuditEntryRow.__table__)
_REFS = cast(Table, AuditEntryRef.__table__)
_HEAD = cast(Table, AuditLogHead.__table__)


@dataclass(frozen=True)
class NewEntry:
    """A state change to append: kind, actor, subject, time, the full record and its refs."""

    kind: str
    actor: str
    subject: str
    at: dt.datetime
    record: Mapping[str, Any]
    refs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: its bytes, leaf hash and full record."""

    index: int
    entry: AuditEntry
    entry_text: str
    leaf_hash: bytes
    record: Mapping[str, Any]


def ensure_log(session: Session, origin: str, now: dt.datetime) -> None:
    """Create the log head under ``origin``, or check (or, before any checkpoint, set) its origin."""
    head = session.get(AuditLogHead, HEAD_ID)
    if head is None:
        session.add(AuditLogHead(id=HEAD_ID, origin=origin, size=0, created_at=now))
        session.flush()
    elif head.origin != origin:
        # Entries do not name the origin, checkpoints do: it may change until the first checkpoint.
        signed = session.scalar(select(AuditCheckpointRow.id).limit(1))
        if signed is not None:
            raise LogOriginMismatch(f"the store's log is {head.origin!r}, not {origin!r}")
        head.origin = origin


def log_origin(session: Session) -> str:
    """The origin of the store's log (the default before any entry)."""
    origin = session.scalar(select(AuditLogHead.origin).where(AuditLogHead.id == HEAD_ID))
    return origin or DEFAULT_ORIGIN


def log_size(session: Session) -> int:
    """How many entries the store's log holds (as this session sees it)."""
    size = session.scalar(select(AuditLogHead.size).where(AuditLogHead.id == HEAD_ID))
    return int(size or 0)


def _reserve(session: Session, count: int, now: dt.datetime) -> int:
    """Take ``count`` indices; return the first. Holds the head row until the transaction ends."""
    stmt = (
        update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(size=_HEAD.c.size + count).returning(_HEAD.c.size)
    )
    size = session.execute(stmt).scalar()
    if size is None:
        session.execute(insert(_HEAD).values(id=HEAD_ID, origin=DEFAULT_ORIGIN, size=count, created_at=now))
        size = count
    return int(size) - count


def append_entries(session: Session, items: Sequence[NewEntry]) -> list[AuditEntry]:
    """Append entries in the session's transaction and return them (with their indices).

    Raises
    ------
    InvalidRecord
        A registered kind's record lacks a required field, or a record has no canonical form.
    """
    if not items:
        return []
    prepared: list[tuple[NewEntry, int, bytes]] = []
    for item in items:
        check_record(item.kind, item.record)
        try:
            record_bytes = canonical_bytes(dict(item.record))
        except CanonicalizationError as err:
            raise InvalidRecord(
                f"the {item.kind} record has no canonical form: {err}", kind=item.kind
            ) from err
        prepared.append((item, version_of(item.kind, item.record), record_bytes))
    first = _reserve(session, len(items), items[0].at)
    conn = session.connection()
    stamp = _ENTRIES.c.occurred_at.type.bind_processor(conn.dialect)
    rows: list[tuple[Any, ...]] = []
    refs: list[tuple[str, int]] = []
    out: list[AuditEntry] = []
    for offset, (item, version, record_bytes) in enumerate(prepared):
        index = first + offset
        entry = AuditEntry(
            index=index,
            kind=item.kind,
            version=version,
            actor=item.actor,
            time=_time(item.at),
            subject=item.subject,
            record_sha256=hashlib.sha256(record_bytes).hexdigest(),
            refs=tuple(sorted(item.refs)),
        )
        data = entry.to_bytes()
        at = stamp(item.at) if stamp is not None else item.at
        leaf = hashlib.sha256(b"\x00" + data).digest()
        text = data.decode("utf-8")
        rows.append(
            (
                index,
                item.kind,
                version,
                item.actor,
                item.subject,
                at,
                text,
                leaf,
                record_bytes.decode("utf-8"),
            )
        )
        refs.extend((ref, index) for ref in entry.refs)
        out.append(entry)
    # Straight to the driver's executemany: compiling a statement per row would cost more than the
    # hashing and encoding above (the columns' own bind processing is applied to the timestamp).
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(_insert_sql("audit_entries", _ENTRY_COLUMNS, mark), rows)
    if refs:
        conn.exec_driver_sql(_insert_sql("audit_entry_refs", ("ref", "idx"), mark), refs)
    return out


_ENTRY_COLUMNS = (
    "idx",
    "kind",
    "version",
    "actor",
    "subject",
    "occurred_at",
    "entry",
    "leaf_hash",
    "record_json",
)


def _insert_sql(table: str, columns: Sequence[str], mark: str) -> str:
    # Only this module's constant table and column names are interpolated, never data.
    names, marks = ", ".join(columns), ", ".join(mark for _ in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608


def _time(at: dt.datetime) -> str:
    try:
        return format_time(at)
    except ValueError as err:
        raise InvalidRecord(str(err)) from err


def read_entry(session: Session, index: int) -> StoredEntry:
    """The stored entry ``index`` (EntryNotFound when there is none)."""
    row = session.get(AuditEntryRow, index)
    if row is None:
        raise EntryNotFound(f"no audit entry {index}", index=index)
    data = row.entry.encode("utf-8")
    return StoredEntry(index, AuditEntry.from_bytes(data), row.entry, bytes(row.leaf_hash), row.record)


class SqlLeafHashSource:
    """The log's leaf hashes read from the store: a ``tlog.LeafHashSource`` over committed rows."""

    def __init__(self, sessions: sessionmaker[Session] | Engine) -> None:
        self._sessions = sessions if isinstance(sessions, sessionmaker) else sessionmaker(sessions)

    def size(self) -> int:
        """How many entries are committed."""
        with self._sessions() as session:
            return log_size(session)

    def leaf_hashes(self, start: int, end: int) -> Sequence[bytes]:
        """Leaf hashes of entries ``[start, end)`` in order."""
        if not 0 <= start <= end:
            raise SizeOutOfRangeError(end, start, f"cannot read [{start}, {end})")
        if start == end:
            return []
        with self._sessions() as session:
            stmt = (
                select(_ENTRIES.c.leaf_hash)
                .where(_ENTRIES.c.idx >= start, _ENTRIES.c.idx < end)
                .order_by(_ENTRIES.c.idx)
            )
            return [bytes(value) for value in session.execute(stmt).scalars()]


def iter_chunks(engine: Engine, *, chunk: int = 50_000, records: bool = False) -> Iterator[list[Any]]:
    """Every stored entry in index order, in lists of up to ``chunk`` raw rows.

    A row is (index, entry text, leaf hash[, record text]). Rows come straight from the driver
    (keyset pages, so memory stays at one page on any database): result processing would cost
    more than the full check's hashing.
    """
    columns = "idx, entry, leaf_hash" + (", record_json" if records else "")
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = f"SELECT {columns} FROM audit_entries WHERE idx > {mark} ORDER BY idx LIMIT {mark}"  # noqa: S608
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        last = -1
        while True:
            cursor.execute(sql, (last, chunk))
            batch: list[Any] = list(cursor.fetchall())
            if not batch:
                return
            yield batch
            last = batch[-1][0]
    finally:
        raw.close()
