"""RFC 6962 hashing: leaf and node hashes, the Merkle tree hash (MTH) of a list, and helpers."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from typing import Any

from tlog.errors import InvalidHashError

HASH_SIZE = 32
"""Size in bytes of every hash in the log (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root hash of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1)."""

_sha256 = hashlib.sha256


def _pick_node_sha256() -> Callable[[bytes], Any]:
    """Return the fastest SHA-256 for the 65-byte messages of interior nodes.

    CPython's built-in SHA-256 (``_sha2`` from 3.12, ``_sha256`` before) skips OpenSSL's per-call
    context setup and is about a quarter faster on messages this small, which is what proofs and
    full checks spend their time on; OpenSSL stays faster for long messages, so leaf hashes
    (arbitrary entries) keep using :mod:`hashlib`. The built-in is checked against hashlib on
    import and only used when present and agreeing.
    """
    candidates: list[Callable[[bytes], Any]] = []
    for module_name in ("_sha2", "_sha256"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        candidate = getattr(module, "sha256", None)
        if callable(candidate):
            candidates.append(candidate)
    probe = b"\x01" + bytes(range(64))
    for candidate in candidates:
        if candidate(probe).digest() == _sha256(probe).digest():
            return candidate
    return _sha256


node_sha256 = _pick_node_sha256()
"""SHA-256 constructor used for interior-node messages (``0x01 || left || right``)."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return node_sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of a list of leaf hashes (RFC 6962 §2.1, MTH).

    Computed bottom-up, carrying an unpaired last node up a level; this gives the same result as
    the RFC's recursive split at the largest power of two smaller than the size.
    """
    for index, value in enumerate(leaf_hashes):
        check_hash(f"leaf_hashes[{index}]", value)
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        parents = pair_up(level)
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return level[0]


def pair_up(nodes: Sequence[bytes]) -> list[bytes]:
    """Return the parents of complete pairs of ``nodes``; an unpaired last node is dropped."""
    sha = node_sha256
    return [sha(b"\x01" + a + b).digest() for a, b in zip(nodes[0::2], nodes[1::2], strict=False)]


def fold(nodes: Sequence[bytes]) -> bytes:
    """Return the root over perfect subtree hashes listed left to right in decreasing size."""
    if not nodes:
        return EMPTY_ROOT
    root = nodes[-1]
    for node in reversed(nodes[:-1]):
        root = node_sha256(b"\x01" + node + root).digest()
    return root


def split_point(size: int) -> int:
    """Return the largest power of two strictly smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def check_hash(what: str, value: bytes) -> None:
    """Raise :class:`InvalidHashError` unless ``value`` is a 32-byte ``bytes`` object."""
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, bytes | bytearray | memoryview) else -1
        raise InvalidHashError(what, length)
