"""Byte encodings shared by the package: base64url, base58btc multibase and multicodec prefixes."""

from __future__ import annotations

import base64
import binascii

import base58

from keys.errors import KeyFormatError

__all__ = ["b64d", "b64e", "b64url_decode", "b64url_encode", "multibase_decode", "multibase_encode"]


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as used in every JSON field of this package."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of `b64url_encode`; raises `ValueError` on characters outside the alphabet."""
    if not isinstance(text, str) or "=" in text:
        raise ValueError("expected unpadded base64url text")
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64url") from exc
    # Reject non-canonical encodings (stray low bits) so one value has exactly one spelling.
    if b64url_encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def b64e(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4), as HTTP structured fields need."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Inverse of `b64e`; raises `ValueError` on anything but canonical padded base64."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("invalid base64") from exc
    if b64e(raw) != text:
        raise ValueError("non-canonical base64")
    return raw


def multibase_encode(codec_prefix: bytes, key: bytes) -> str:
    """`z` + base58btc(multicodec prefix + key bytes), the did:key and Multikey encoding."""
    return "z" + base58.b58encode(codec_prefix + key).decode("ascii")


def multibase_decode(text: str) -> bytes:
    """Inverse of `multibase_encode` (prefix still attached); raises `KeyFormatError`."""
    if not text.startswith("z") or len(text) < 2:
        raise KeyFormatError(f"expected a base58btc multibase value starting with 'z', got {text[:12]!r}")
    try:
        return base58.b58decode(text[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyFormatError(f"invalid base58btc in {text[:12]!r}...") from exc
