"""Canonical JSON (RFC 8785) and SHA-256 digests for the sandbox's hashed records.

`keys` is to own canonical bytes for the whole project; until it lands this module is the single
place the sandbox makes bytes that get hashed, so switching over is a one-line change.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON-compatible value."""
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def digest_of(value: Any) -> str:
    """`sha256:<hex>` over the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))
