"""Opaque keyset cursors: a page continues strictly after the last key it showed."""

from __future__ import annotations

import base64
import binascii

from exchange_api.errors import FieldError, InvalidInput

__all__ = ["decode_cursor", "encode_cursor"]


def encode_cursor(kind: str, key: str | int) -> str:
    """An opaque cursor continuing after `key` in a listing of `kind`."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The key inside `cursor`, or None for the first page; a foreign or broken cursor is refused."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, key = raw.partition(":")
    if prefix != kind or not key:
        raise InvalidInput(
            "the cursor is not one this listing gave out",
            errors=[FieldError("/cursor", "unknown cursor")],
            code="exchange.invalid_cursor",
        )
    return key


def decode_int_cursor(kind: str, cursor: str | None) -> int | None:
    """Like `decode_cursor` for integer keys."""
    key = decode_cursor(kind, cursor)
    if key is None:
        return None
    if not key.isdigit() or len(key) > 18:
        raise InvalidInput(
            "the cursor is not one this listing gave out",
            errors=[FieldError("/cursor", "unknown cursor")],
            code="exchange.invalid_cursor",
        )
    return int(key)
