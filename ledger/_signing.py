"""Local transaction signing: a Signer per organisation key and a fast EIP-1559 (type 2) encoder.

The generic path (eth-account) costs about 1.5 ms per transaction here, mostly in pure-Python RLP
and validation; this module encodes the one transaction shape the client sends with a tiny RLP
encoder and signs the hash with coincurve (libsecp256k1), about 0.1 ms. A test checks that the
bytes equal eth-account's for the same fields.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

__all__ = ["SignedTx", "Signer", "rlp_encode"]


def _encode_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(raw),)) + raw


def rlp_encode(item: int | bytes | list[Any] | tuple[Any, ...]) -> bytes:
    """RLP-encode an int (non-negative), bytes, or a (nested) list of those."""
    if isinstance(item, int):
        if item < 0:
            raise ValueError("RLP cannot encode negative integers")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big") if item else b""
    if isinstance(item, bytes | bytearray):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _encode_length(len(item), 0x80) + item
    payload = b"".join(rlp_encode(x) for x in item)
    return _encode_length(len(payload), 0xC0) + payload


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction: the exact bytes to broadcast (and re-broadcast) and their hash."""

    raw: bytes
    tx_hash: bytes
    nonce: int
    sender: str

    @property
    def hash_hex(self) -> str:
        """The transaction hash as 0x-prefixed hex."""
        return "0x" + self.tx_hash.hex()


class Signer:
    """An organisation's account key, used to sign transactions locally.

    The private key is never shown (``repr`` names only the address) and never serialised by
    this class.
    """

    __slots__ = ("_key", "address", "address_bytes")

    def __init__(self, private_key: bytes | str) -> None:
        if isinstance(private_key, str):
            text = private_key.removeprefix("0x")
            try:
                private_key = bytes.fromhex(text)
            except ValueError:
                raise ValueError("a private key must be 32 bytes or 64 hex characters") from None
        if len(private_key) != 32:
            raise ValueError("a private key must be 32 bytes or 64 hex characters")
        self._key = coincurve.PrivateKey(private_key)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address_bytes: bytes = keccak(public)[-20:]
        self.address: str = to_checksum_address(self.address_bytes)

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh random key (tests, demos, new organisations)."""
        return cls(os.urandom(32))

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def export_private_key(self) -> bytes:
        """The raw private key, for storing in a keystore on purpose; never logged."""
        return self._key.secret

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """Sign a 32-byte digest; returns (y_parity, r, s) with low s."""
        sig = self._key.sign_recoverable(digest, hasher=None)
        return sig[64], int.from_bytes(sig[0:32], "big"), int.from_bytes(sig[32:64], "big")

    def sign_type2(
        self,
        *,
        chain_id: int,
        nonce: int,
        max_priority_fee: int,
        max_fee: int,
        gas: int,
        to: bytes,
        value: int,
        data: bytes,
    ) -> SignedTx:
        """Sign an EIP-1559 transaction (empty access list); ``to`` is 20 bytes, or b"" to deploy."""
        fields = [chain_id, nonce, max_priority_fee, max_fee, gas, to, value, data, []]
        y_parity, r, s = self.sign_digest(keccak(b"\x02" + rlp_encode(fields)))
        raw = b"\x02" + rlp_encode([*fields, y_parity, r, s])
        return SignedTx(raw=raw, tx_hash=keccak(raw), nonce=nonce, sender=self.address)
