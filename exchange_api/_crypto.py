"""The exchange's single door to `keys` for bytes that get hashed or anchored."""

from __future__ import annotations

from typing import Any

from keys import canonical_json as _canonical_json
from keys import digest

__all__ = ["canonical_json", "digest_hex", "record_hash"]

# Anchored hashes use the default (`intl`, SHA-256) suite: the contracts store bytes32 digests.
SUITE = "intl"


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 canonical bytes of `obj` (the only bytes the exchange hashes or anchors)."""
    return _canonical_json(obj)


def digest_hex(data: bytes) -> str:
    """`0x`-prefixed suite digest of `data` (the form a bytes32 takes on chain)."""
    return "0x" + digest(SUITE, data).hex()


def record_hash(obj: Any) -> str:
    """`0x`-prefixed digest of the canonical JSON of `obj`."""
    return digest_hex(canonical_json(obj))
