"""Audit log entries: the canonical JSON that becomes a Merkle leaf, and its strict reader.

An entry is one state change, written as RFC 8785 JSON::

    {"actor": "o_…", "index": 41, "kind": "grant.revoked", "record_sha256": "<hex>",
     "refs": ["grant:g_…", "org:o_…", "resource:301001/000001"], "subject": "grant:g_…",
     "time": "2026-01-05T09:30:00.123456Z", "version": 1}

``index`` is the entry's position in the log (so a deleted, inserted or reordered entry no longer
matches its own position), ``record_sha256`` the SHA-256 of the full record's canonical JSON (the
record itself stays in the store and travels in proof bundles), ``refs`` the organisations,
resources, grants and applications it concerns (what trail queries search). The leaf hash is the
RFC 6962 hash of exactly these bytes. This module is pure: no database, no web framework.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange_api.audit._jcs import canonical_bytes, canonical_plain
from tlog import leaf_hash

__all__ = ["AuditEntry", "EntryFormatError", "format_time", "parse_time", "record_sha256"]

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIELDS = ("actor", "index", "kind", "record_sha256", "refs", "subject", "time", "version")
_INDEX_KEY = b'"index":'
_MAX_SAFE = 2**53 - 1
_str = json.encoder.encode_basestring  # JSON string, non-ASCII kept (ensure_ascii=False)


class EntryFormatError(ValueError):
    """Raised when bytes are not a well-formed canonical audit entry (``field`` names the culprit)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds, always the same width, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("an entry time must be timezone-aware")
    # isoformat is several times faster than strftime; "+00:00" becomes "Z".
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_time(text: str) -> dt.datetime:
    """Read a time written by :func:`format_time`."""
    if not _TIME.fullmatch(text):
        raise ValueError(f"time {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def record_sha256(record: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the record's RFC 8785 canonical JSON."""
    return hashlib.sha256(canonical_bytes(record)).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log (see the module docstring for its JSON form)."""

    index: int
    kind: str
    version: int
    actor: str
    time: str
    subject: str
    record_sha256: str
    refs: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        index: int,
        kind: str,
        version: int,
        actor: str,
        at: dt.datetime,
        subject: str,
        record: Mapping[str, Any],
        refs: Iterable[str] = (),
    ) -> AuditEntry:
        """An entry for ``record`` at ``index``: the record is hashed, refs sorted and deduplicated."""
        return cls(
            index=index,
            kind=kind,
            version=version,
            actor=actor,
            time=format_time(at),
            subject=subject,
            record_sha256=record_sha256(record),
            refs=tuple(sorted(set(refs))),
        )

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object."""
        return {
            "actor": self.actor,
            "index": self.index,
            "kind": self.kind,
            "record_sha256": self.record_sha256,
            "refs": list(self.refs),
            "subject": self.subject,
            "time": self.time,
            "version": self.version,
        }

    def to_bytes(self) -> bytes:
        """The canonical bytes the leaf hash covers."""
        # The keys are fixed ASCII names and the values strings or small integers, which the
        # plain encoder writes exactly as RFC 8785 does (see _jcs); huge integers take the long way.
        if self.index > _MAX_SAFE or self.version > _MAX_SAFE:
            return canonical_bytes(self.to_json())
        if not (
            type(self.index) is int
            and type(self.version) is int
            and all(
                type(v) is str for v in (self.actor, self.kind, self.record_sha256, self.subject, self.time)
            )
            and all(type(r) is str for r in self.refs)
        ):
            return canonical_plain(self.to_json())
        # The same bytes as canonical_plain(self.to_json()), written without the dict and the
        # encoder's walk (keys in code-point order; strings escaped by the encoder's own function).
        # This runs once per appended entry (see bench/audit.py); a test compares both forms.
        return (
            f'{{"actor":{_str(self.actor)},"index":{self.index},"kind":{_str(self.kind)},'
            f'"record_sha256":{_str(self.record_sha256)},"refs":[{",".join(map(_str, self.refs))}],'
            f'"subject":{_str(self.subject)},"time":{_str(self.time)},"version":{self.version}}}'
        ).encode()

    def leaf_hash(self) -> bytes:
        """RFC 6962 leaf hash of :meth:`to_bytes`."""
        return leaf_hash(self.to_bytes())

    @property
    def at(self) -> dt.datetime:
        """The entry's time as an aware datetime."""
        return parse_time(self.time)

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditEntry:
        """Read entry bytes strictly: canonical JSON, exactly the entry fields, each well-typed.

        Raises
        ------
        EntryFormatError
            Naming the first field (or ``entry`` for the whole) that is wrong.
        """
        from keys import parse_json

        try:
            value = parse_json(data)
        except ValueError as err:
            raise EntryFormatError("entry", f"not JSON: {err}") from err
        if not isinstance(value, dict):
            raise EntryFormatError("entry", "not a JSON object")
        missing = [name for name in _FIELDS if name not in value]
        if missing:
            raise EntryFormatError(missing[0], "missing")
        extra = sorted(set(value) - set(_FIELDS))
        if extra:
            raise EntryFormatError(extra[0], "not an entry field")
        for name in ("actor", "kind", "subject", "time", "record_sha256"):
            if not isinstance(value[name], str) or not value[name]:
                raise EntryFormatError(name, "must be a non-empty string")
        for name in ("index", "version"):
            if type(value[name]) is not int or value[name] < 0:
                raise EntryFormatError(name, "must be a non-negative integer")
        if not _HEX64.fullmatch(value["record_sha256"]):
            raise EntryFormatError("record_sha256", "must be 64 lowercase hex digits")
        if not _TIME.fullmatch(value["time"]):
            raise EntryFormatError("time", "must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
        refs = value["refs"]
        if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
            raise EntryFormatError("refs", "must be a list of non-empty strings")
        if refs != sorted(set(refs)):
            raise EntryFormatError("refs", "must be sorted and without duplicates")
        entry = cls(
            index=value["index"],
            kind=value["kind"],
            version=value["version"],
            actor=value["actor"],
            time=value["time"],
            subject=value["subject"],
            record_sha256=value["record_sha256"],
            refs=tuple(refs),
        )
        if entry.to_bytes() != bytes(data):
            raise EntryFormatError("entry", "not in RFC 8785 canonical form")
        return entry


def embedded_index(data: bytes) -> int | None:
    """The ``index`` written inside entry bytes, found without parsing the JSON (None if absent).

    In canonical form the top-level keys are sorted, so the first ``"index":`` is the entry's own
    (only ``actor`` comes before it, and a quote inside a string is always escaped). Used by the
    full check, where parsing a million entries would cost more than hashing them.
    """
    at = data.find(_INDEX_KEY)
    if at < 0:
        return None
    start = at + len(_INDEX_KEY)
    end = start
    while end < len(data) and 48 <= data[end] <= 57:
        end += 1
    return int(data[start:end]) if end > start else None
