"""Entries: canonical bytes, leaf hashes, strict reading, the fast RFC 8785 path and the kind registry."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from exchange_api.audit import KINDS, AuditEntry, record_sha256
from exchange_api.audit._entry import EntryFormatError, embedded_index, format_time
from exchange_api.audit._jcs import canonical_bytes
from exchange_api.audit._kinds import check_record
from exchange_api.audit.errors import InvalidRecord
from tlog import leaf_hash

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _same(value: Any) -> tuple[bytes | None, str | None]:
    try:
        return keys.canonical_json(value), None
    except keys.errors.CanonicalizationError as err:
        return None, type(err).__name__


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_canonical_equals_keys(value: Any) -> None:
    """The fast encoder writes exactly what keys.canonical_json writes, or raises the same error."""
    expected, error = _same(value)
    if error is None:
        assert canonical_bytes(value) == expected
    else:
        with pytest.raises(keys.errors.CanonicalizationError):
            canonical_bytes(value)


def _entry(**changes: Any) -> AuditEntry:
    base = AuditEntry.build(
        index=7,
        kind="grant.revoked",
        version=1,
        actor="org_a",
        at=dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC),
        subject="grant:g1",
        record={"grant_id": "g1", "reason": "不再需要"},
        refs=["org:org_b", "grant:g1", "org:org_b"],
    )
    return AuditEntry(**{**base.__dict__, **changes})


def test_entry_bytes_and_leaf_hash() -> None:
    """An entry is RFC 8785 JSON of its fields; its leaf hash is SHA-256(0x00 ‖ bytes)."""
    e = _entry()
    data = e.to_bytes()
    assert data == keys.canonical_json(e.to_json())
    assert e.leaf_hash() == hashlib.sha256(b"\x00" + data).digest() == leaf_hash(data)
    assert e.refs == ("grant:g1", "org:org_b")
    assert e.time == "2026-01-05T01:30:00.000000Z"
    assert AuditEntry.from_bytes(data) == e
    assert embedded_index(data) == 7


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**53 - 1),
    st.lists(st.text(max_size=12), min_size=5, max_size=5),
    st.lists(st.text(max_size=12), max_size=3),
)
def test_entry_bytes_written_directly_equal_keys(index: int, texts: list[str], refs: list[str]) -> None:
    """The directly written entry bytes equal keys.canonical_json of the entry (any text, escapes)."""
    actor, kind, digest, subject, time = texts
    e = _entry(index=index, actor=actor, kind=kind, record_sha256=digest, subject=subject, time=time)
    e = AuditEntry(**{**e.__dict__, "refs": tuple(refs)})
    expected, error = _same(e.to_json())
    if error is None:
        assert e.to_bytes() == expected
    else:
        with pytest.raises(UnicodeEncodeError):
            e.to_bytes()


def test_record_hash_is_canonical() -> None:
    """The record hash does not depend on key order or spacing."""
    assert record_sha256({"b": 1, "a": "x"}) == hashlib.sha256(b'{"a":"x","b":1}').hexdigest()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"[]", "entry"),
        (b"{", "entry"),
        (b'{"actor":"a"}', "index"),
        (
            b'{"actor":"a","extra":1,"index":0,"kind":"k","record_sha256":"'
            + b"0" * 64
            + b'","refs":[],"subject":"s","time":"2026-01-01T00:00:00.000000Z","version":1}',
            "extra",
        ),
        (
            b'{"actor":"a","index":-1,"kind":"k","record_sha256":"'
            + b"0" * 64
            + b'","refs":[],"subject":"s","time":"2026-01-01T00:00:00.000000Z","version":1}',
            "index",
        ),
        (
            b'{"actor":"a","index":0,"kind":"k","record_sha256":"ABC","refs":[],"subject":"s",'
            b'"time":"2026-01-01T00:00:00.000000Z","version":1}',
            "record_sha256",
        ),
        (
            b'{"actor":"a","index":0,"kind":"k","record_sha256":"'
            + b"0" * 64
            + b'","refs":["b","a"],"subject":"s","time":"2026-01-01T00:00:00.000000Z","version":1}',
            "refs",
        ),
        (
            b'{"actor":"a","index":0,"kind":"k","record_sha256":"'
            + b"0" * 64
            + b'","refs":[],"subject":"s","time":"2026-01-01T00:00:00Z","version":1}',
            "time",
        ),
        (
            b'{"index":0, "actor":"a","kind":"k","record_sha256":"'
            + b"0" * 64
            + b'","refs":[],"subject":"s","time":"2026-01-01T00:00:00.000000Z","version":1}',
            "entry",
        ),
    ],
)
def test_from_bytes_names_the_bad_field(data: bytes, field: str) -> None:
    """Reading malformed or non-canonical entry bytes names the field at fault."""
    with pytest.raises(EntryFormatError) as caught:
        AuditEntry.from_bytes(data)
    assert caught.value.field == field


def test_embedded_index_ignores_quoted_lookalikes() -> None:
    """An actor containing the text "index": cannot fool the fast index reader."""
    e = _entry(actor='x"index":99', index=3)
    assert embedded_index(e.to_bytes()) == 3


def test_time_must_be_aware() -> None:
    """Naive times are refused: every entry time is UTC."""
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(dt.datetime(2026, 1, 1))


def test_registered_kind_requires_its_fields() -> None:
    """A registered kind's record must carry its required fields and its version."""
    with pytest.raises(InvalidRecord) as caught:
        check_record("grant.revoked", {"reason": "x"})
    assert caught.value.code == "audit.invalid_record"
    with pytest.raises(InvalidRecord):
        check_record("grant.revoked", {"grant_id": "g", "reason": "x", "version": 2})
    check_record("grant.revoked", {"grant_id": "g", "reason": "x", "version": 1})
    check_record("some.future_kind", {})
    assert all(k.version >= 1 for k in KINDS.values())


def test_bundle_module_is_pure() -> None:
    """The offline verifier imports neither SQLAlchemy nor FastAPI nor the exchange's services."""
    code = (
        "import sys, exchange_api.audit.bundle\n"
        "heavy = ('sqlalchemy', 'fastapi', 'starlette', 'exchange_api.services')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
