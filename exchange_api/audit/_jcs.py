"""RFC 8785 bytes for the audit log's hot path: a fast encoder for plain values, ``keys`` for the rest.

``keys.canonical_json`` (the ``rfc8785`` package, pure Python) costs about 150 µs for an audit
entry on the project machine, which would cap logging at a few thousand entries a second. For
values made only of dicts with keys inside the Basic Multilingual Plane, lists, strings, booleans,
None and integers within ±(2**53 - 1), the standard library's ``json.dumps`` with sorted keys,
compact separators and ``ensure_ascii=False`` writes exactly the RFC 8785 bytes: the same escapes
(short forms and lowercase ``\\u00xx``), keys in code-point order (equal to UTF-16 order inside the
BMP) and integers in plain decimal. Anything else (floats, big integers, astral-plane keys) goes
to ``keys.canonical_json``. A property test checks both paths give the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from keys import canonical_json as _keys_canonical_json

__all__ = ["canonical_bytes", "canonical_plain"]

_MAX_INT = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is made only of what the fast encoder writes exactly as RFC 8785 does."""
    if depth > 64:
        return False
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_INT <= value <= _MAX_INT
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(map(ord, key)) <= 0xFFFF):
                return False
            if not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_plain(item, depth + 1) for item in value)
    return False


def canonical_plain(value: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of a value the caller knows is plain (ASCII keys, safe integers): no check.

    For audit entries, whose shape this package fixes; anything else goes through
    :func:`canonical_bytes`.
    """
    return _encode(value).encode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 bytes of ``value`` (raises ``keys.errors.CanonicalizationError`` when none)."""
    if _plain(value):
        try:
            return _encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let keys raise its own error
    return _keys_canonical_json(value)
