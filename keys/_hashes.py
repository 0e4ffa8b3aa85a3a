"""Hash helpers: SHA-256, Keccak-256 (Ethereum) and SM3, and the suite's digest."""

from __future__ import annotations

import hashlib
import hmac as _std_hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _c_hmac
from eth_hash.auto import keccak as _keccak

from keys._suite import Suite

__all__ = ["digest", "digest_name", "hmac_digest", "keccak256", "sha256", "sm3"]


def sha256(data: bytes) -> bytes:
    """SHA-256 of `data` (32 bytes)."""
    return hashlib.sha256(data).digest()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 of `data` as Ethereum uses it (not NIST SHA3-256), 32 bytes."""
    return bytes(_keccak(data))


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905-2016) of `data`, 32 bytes."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def digest(suite: Suite | str, data: bytes) -> bytes:
    """The suite's hash of `data`: SHA-256 under `intl`, SM3 under `gm`."""
    return sm3(data) if Suite.parse(suite) is Suite.GM else sha256(data)


def digest_name(suite: Suite | str) -> str:
    """The name of the suite's hash as written into records (`sha-256` or `sm3`)."""
    return "sm3" if Suite.parse(suite) is Suite.GM else "sha-256"


def hmac_digest(suite: Suite | str, key: bytes, data: bytes) -> bytes:
    """HMAC of `data` under `key` with the suite's hash (HMAC-SHA256 or HMAC-SM3)."""
    if Suite.parse(suite) is Suite.GM:
        mac = _c_hmac.HMAC(key, hashes.SM3())
        mac.update(data)
        return mac.finalize()
    return _std_hmac.new(key, data, hashlib.sha256).digest()
