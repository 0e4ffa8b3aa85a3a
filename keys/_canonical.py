"""Canonical JSON (RFC 8785, JCS): the only way this project turns a value into bytes to hash or sign."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from keys.errors import CanonicalizationError

__all__ = ["canonical_json", "parse_json"]


def canonical_json(obj: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of `obj`.

    `obj` is built from dict (string keys), list/tuple, str, bool, None, int within
    ±(2**53 - 1) and finite float. Anything else (NaN, big integers, bytes, lone surrogates)
    raises `CanonicalizationError`: larger integers must be carried as strings, as I-JSON asks.
    The `rfc8785` package passes every example of the RFC (see tests/keys/test_canonical.py).
    """
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, RecursionError) as exc:
        raise CanonicalizationError(f"value has no RFC 8785 canonical form: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _parse_int(text: str) -> int | float:
    # JSON numbers are IEEE doubles (RFC 8785 section 3.2.2.3): an integer beyond 2**53 that a
    # float serialized to (e.g. 1e+16 written as 10000000000000000) is read back as that float.
    value = int(text)
    return value if abs(value) < 2**53 else float(value)


def parse_json(data: bytes | str) -> Any:
    """Parse JSON strictly (no NaN/Infinity, no duplicate keys); raises `ValueError` otherwise.

    Duplicate keys are refused because two parsers may keep different copies, so the value a
    verifier checks could differ from the value an application reads. Integers beyond 2**53
    are read as floats, so `canonical_json(parse_json(canonical_json(x)))` is always defined.
    """
    return json.loads(
        data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_int=_parse_int
    )
