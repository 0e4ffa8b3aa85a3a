"""Tampering with the stored trail behind the service's back, to show that the full check names it.

For tests and the demo only: each function edits the store directly, as an operator with database
access could, and returns a one-line description of what it did.
"""

from __future__ import annotations

import hashlib
import json
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from exchange_api.audit._jcs import canonical_bytes
from exchange_api.audit._models import HEAD_ID, AuditEntryRef, AuditEntryRow, AuditLogHead

__all__ = ["TAMPER_KINDS", "tamper_entry"]

TAMPER_KINDS = ("modify", "modify_rehash", "record", "delete", "insert", "swap")
_ENTRIES = cast(Table, AuditEntryRow.__table__)
_REFS = cast(Table, AuditEntryRef.__table__)
_HEAD = cast(Table, AuditLogHead.__table__)


def _leaf(text: str) -> bytes:
    return hashlib.sha256(b"\x00" + text.encode("utf-8")).digest()


def _shift(conn: Connection, above: int, by: int) -> None:
    """Move entries above index ``above`` by ``by`` (via negative indices, so keys never clash)."""
    for table in (_ENTRIES, _REFS):
        conn.execute(update(table).where(table.c.idx > above).values(idx=-(table.c.idx + by) - 1))
        conn.execute(update(table).where(table.c.idx < 0).values(idx=-table.c.idx - 1))
    conn.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(size=_HEAD.c.size + by))


def tamper_entry(engine: Engine, index: int, how: str = "modify") -> str:
    """Alter the stored trail at ``index`` in one of :data:`TAMPER_KINDS` ways.

    - ``modify``: change the entry's actor, leaving its stored leaf hash (a naive edit);
    - ``modify_rehash``: change the actor and recompute the leaf hash (only roots can tell);
    - ``record``: change the full record, leaving the entry;
    - ``delete``: remove the entry and close the gap (later entries move down, the size shrinks);
    - ``insert``: insert a forged entry at ``index`` (later entries move up, the size grows);
    - ``swap``: exchange the entry with the next one.
    """
    if how not in TAMPER_KINDS:
        raise ValueError(f"tampering must be one of {', '.join(TAMPER_KINDS)}")
    with engine.begin() as conn:
        row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.idx == index)).mappings().first()
        if row is None:
            raise ValueError(f"no stored entry {index}")
        entry = json.loads(row["entry"])
        if how in {"modify", "modify_rehash"}:
            entry["actor"] = "forged-" + str(entry["actor"])
            text = canonical_bytes(entry).decode("utf-8")
            values: dict[str, object] = {"entry": text, "actor": entry["actor"][:120]}
            if how == "modify_rehash":
                values["leaf_hash"] = _leaf(text)
            conn.execute(update(_ENTRIES).where(_ENTRIES.c.idx == index).values(**values))
            return f"entry {index}: actor changed to {entry['actor']!r}" + (
                " and its leaf hash recomputed" if how == "modify_rehash" else ""
            )
        if how == "record":
            record = json.loads(row["record_json"])
            record["tampered"] = True
            text = canonical_bytes(record).decode("utf-8")
            conn.execute(update(_ENTRIES).where(_ENTRIES.c.idx == index).values(record_json=text))
            return f"entry {index}: full record changed"
        if how == "delete":
            conn.execute(delete(_ENTRIES).where(_ENTRIES.c.idx == index))
            conn.execute(delete(_REFS).where(_REFS.c.idx == index))
            _shift(conn, index, -1)
            return f"entry {index} deleted and the later entries moved down"
        if how == "insert":
            _shift(conn, index - 1, 1)
            forged = {**entry, "actor": "forged", "index": index}
            text = canonical_bytes(forged).decode("utf-8")
            conn.execute(
                insert(_ENTRIES).values(
                    {**dict(row), "idx": index, "actor": "forged", "entry": text, "leaf_hash": _leaf(text)}
                )
            )
            return f"a forged entry inserted at {index} and the later entries moved up"
        other = conn.execute(select(_ENTRIES).where(_ENTRIES.c.idx == index + 1)).mappings().first()
        if other is None:
            raise ValueError(f"no stored entry {index + 1} to swap with")
        conn.execute(delete(_ENTRIES).where(_ENTRIES.c.idx.in_((index, index + 1))))
        conn.execute(insert(_ENTRIES), [{**dict(other), "idx": index}, {**dict(row), "idx": index + 1}])
        return f"entries {index} and {index + 1} swapped"
