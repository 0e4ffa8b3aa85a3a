"""Timestamped witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``).

A cosignature/v1 is an ordinary signed-note signature line whose key ID is derived with the
signature type byte 0x04 and whose signature bytes are ``u64 big-endian timestamp || Ed25519
signature`` over ``"cosignature/v1\\ntime <timestamp>\\n" || note text``. Because that fits the
pluggable :class:`~tlog.Signer` / :class:`~tlog.Verifier` shape of :mod:`tlog._note`, the wrappers
here turn a raw Ed25519 key into a note key of this type, and :func:`~tlog.sign_note` /
:func:`~tlog.verify_note` handle the rest unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tlog._note import NoteSignature, NoteSigner, NoteVerifier, Signer, Verifier, key_id
from tlog.errors import InvalidNoteKeyError, MalformedNoteError

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
"""Signature type byte of Ed25519 cosignature/v1 keys (tlog-cosignature §Format)."""

COSIGNATURE_V1_HEADER = b"cosignature/v1\n"
"""The domain-separation header line of the cosignature/v1 signed message."""

_MAX_TIMESTAMP = (1 << 63) - 1  # the spec caps timestamps at 2^63 - 1
_ED25519_SIGNATURE_SIZE = 64


def cosignature_v1_key_id(name: str, public_key: bytes) -> bytes:
    """Return the key ID ``SHA-256(name || 0x0A || 0x04 || public_key)[:4]`` of a cosigner."""
    if len(public_key) != 32:
        raise InvalidNoteKeyError(f"an Ed25519 public key has 32 bytes, got {len(public_key)}")
    return key_id(name, SIGNATURE_TYPE_COSIGNATURE_V1, public_key)


def cosignature_v1_message(text: str | bytes, timestamp: int) -> bytes:
    """Return the bytes a cosignature/v1 signs: header, ``time <timestamp>`` line, then the note text."""
    _check_timestamp(timestamp)
    body = text.encode() if isinstance(text, str) else text
    return COSIGNATURE_V1_HEADER + b"time %d\n" % timestamp + body


def cosignature_v1_timestamp(signature: NoteSignature | bytes) -> int:
    """Return the POSIX timestamp carried by a cosignature/v1 signature (its first 8 bytes)."""
    raw = signature.signature if isinstance(signature, NoteSignature) else signature
    if len(raw) != 8 + _ED25519_SIGNATURE_SIZE:
        raise MalformedNoteError(f"a cosignature/v1 has {8 + _ED25519_SIGNATURE_SIZE} bytes, got {len(raw)}")
    timestamp = int.from_bytes(raw[:8], "big")
    _check_timestamp(timestamp)
    return timestamp


@dataclass(frozen=True)
class CosignatureV1Signer:
    """A :class:`~tlog.Signer` producing cosignature/v1 bytes from a raw Ed25519 signer.

    ``clock`` returns the current POSIX time in seconds; it is injectable so tests (and
    known-answer vectors) can fix the timestamp.
    """

    signer: Signer
    clock: Callable[[], float] = time.time

    def sign(self, message: bytes) -> bytes:
        """Return ``timestamp || Ed25519(cosignature/v1 message)`` for the note text ``message``."""
        timestamp = int(self.clock())
        signature = self.signer.sign(cosignature_v1_message(message, timestamp))
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            raise InvalidNoteKeyError(f"the raw signer gave {len(signature)} bytes, not an Ed25519 signature")
        return timestamp.to_bytes(8, "big") + signature


@dataclass(frozen=True)
class CosignatureV1Verifier:
    """A :class:`~tlog.Verifier` checking cosignature/v1 bytes with a raw Ed25519 verifier."""

    verifier: Verifier

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` is a valid cosignature/v1 of the note text ``message``; raise otherwise."""
        timestamp = cosignature_v1_timestamp(signature)
        self.verifier.verify(signature[8:], cosignature_v1_message(message, timestamp))


def cosignature_v1_signer(
    name: str, public_key: bytes, signer: Signer, clock: Callable[[], float] = time.time
) -> NoteSigner:
    """Build the note signer of a cosigner: its name, type-0x04 key ID and timestamping signer."""
    return NoteSigner(name, cosignature_v1_key_id(name, public_key), CosignatureV1Signer(signer, clock))


def cosignature_v1_verifier(name: str, public_key: bytes, verifier: Verifier) -> NoteVerifier:
    """Build the note verifier of a cosigner from its name, Ed25519 public key and raw verifier."""
    return NoteVerifier(name, cosignature_v1_key_id(name, public_key), CosignatureV1Verifier(verifier))


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise MalformedNoteError(f"cosignature timestamp {timestamp!r} is not in [0, 2**63 - 1]")
