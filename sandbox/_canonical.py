"""SHA-256 digests over canonical JSON (RFC 8785, from `keys`) for the sandbox's hashed records."""

from __future__ import annotations

import hashlib
from typing import Any

from keys import canonical_json

__all__ = ["canonical_json", "digest_of", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def digest_of(value: Any) -> str:
    """``sha256:<hex>`` over the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))
