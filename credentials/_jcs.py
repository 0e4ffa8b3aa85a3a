"""RFC 8785 canonical JSON, fast: the standard library's C encoder where its output is already canonical.

For values made only of objects with keys below U+D800, arrays, strings, booleans, null and
integers within ±(2**53 − 1), `json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)` writes exactly the RFC 8785 bytes: the same escapes (`\\"`, `\\\\`, `\\b`,
`\\f`, `\\n`, `\\r`, `\\t`, other controls as lowercase `\\u00xx`, nothing else), the same integer
form, and the same key order (code points and UTF-16 units sort alike below U+D800). Anything
else (floats, larger integers, other key characters, lone surrogates, other types) goes to
`keys.canonical_json`, the project's reference implementation; a property test checks that both
always agree. Credentials are canonicalised on every verification, and this is about fifteen times
faster there than the pure-Python reference.
"""

from __future__ import annotations

import json
from typing import Any

from keys import canonical_json

__all__ = ["canonical"]

_MAX_INT = 2**53 - 1
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
).encode


def _plain(value: Any) -> bool:
    stack = [value]
    keys: list[str] = []
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            keys.extend(item)
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is int:
            if not -_MAX_INT <= item <= _MAX_INT:
                return False
        else:
            return False
    # Every key a string, and no character of any key at or above U+D800 (one C-level scan).
    return all(type(k) is str for k in keys) and (not keys or max("".join(keys), default="") < "\ud800")


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of `value` (identical to `keys.canonical_json`, errors included)."""
    if _plain(value):
        try:
            return _encode(value).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            pass  # a lone surrogate or a very deep value: let the reference raise its error
    return canonical_json(value)
