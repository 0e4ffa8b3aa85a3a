"""Signed notes (c2sp.org/signed-note): format, parse, sign and verify with pluggable keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from tlog.errors import (
    AmbiguousVerifierError,
    InvalidNoteKeyError,
    MalformedNoteError,
    NoteUnverifiedError,
    SignatureInvalidError,
)

SIGNATURE_TYPE_ED25519 = 0x01
"""Signature type byte for Ed25519 note signatures (signed-note §Signature types)."""

MAX_SIGNATURES = 100
"""Notes with more signature lines than this are rejected (the spec requires at least 16)."""

_SIG_PREFIX = "\u2014 "  # em dash, space


class Signer(Protocol):
    """Produces raw signatures (for example an Ed25519 private key from the keys package)."""

    def sign(self, message: bytes) -> bytes:
        """Return the signature of ``message``."""
        ...


class Verifier(Protocol):
    """Checks raw signatures (for example an Ed25519 public key from the keys package)."""

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` signs ``message``; raise any exception otherwise."""
        ...


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || type || public_key)[:4]`` (signed-note)."""
    _check_key_name(name)
    if not 0 <= signature_type <= 0xFF:
        raise InvalidNoteKeyError(f"signature type {signature_type} is not a byte")
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def ed25519_key_id(name: str, public_key: bytes) -> bytes:
    """Return the key ID of an Ed25519 note key from its name and 32-byte public key."""
    if len(public_key) != 32:
        raise InvalidNoteKeyError(f"an Ed25519 public key has 32 bytes, got {len(public_key)}")
    return key_id(name, SIGNATURE_TYPE_ED25519, public_key)


@dataclass(frozen=True)
class NoteSigner:
    """A named note key that signs: key name, 4-byte key ID and the raw signer."""

    name: str
    key_id: bytes
    signer: Signer

    def __post_init__(self) -> None:
        _check_key(self.name, self.key_id)

    @classmethod
    def ed25519(cls, name: str, public_key: bytes, signer: Signer) -> NoteSigner:
        """Build an Ed25519 note signer, deriving the key ID from ``name`` and ``public_key``."""
        return cls(name, ed25519_key_id(name, public_key), signer)


@dataclass(frozen=True)
class NoteVerifier:
    """A named note key that verifies: key name, 4-byte key ID and the raw verifier."""

    name: str
    key_id: bytes
    verifier: Verifier

    def __post_init__(self) -> None:
        _check_key(self.name, self.key_id)

    @classmethod
    def ed25519(cls, name: str, public_key: bytes, verifier: Verifier) -> NoteVerifier:
        """Build an Ed25519 note verifier, deriving the key ID from ``name`` and ``public_key``."""
        return cls(name, ed25519_key_id(name, public_key), verifier)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes (without the key ID)."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_key(self.name, self.key_id)
        if not self.signature:
            raise MalformedNoteError(f"empty signature by {self.name}")

    def line(self) -> str:
        """Return the signature line, without its newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {blob}"


@dataclass(frozen=True)
class SignedNote:
    """A note text (ending in a newline) and one or more signatures over its UTF-8 bytes."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        _check_text(self.text)
        if not self.text.endswith("\n"):
            raise MalformedNoteError("the text must end with a newline")
        if not self.signatures:
            raise MalformedNoteError("a signed note needs at least one signature")
        if len(self.signatures) > MAX_SIGNATURES:
            raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")

    def format(self) -> str:
        """Return the note as text: the text, a blank line, then one line per signature."""
        return self.text + "\n" + "".join(sig.line() + "\n" for sig in self.signatures)

    def to_bytes(self) -> bytes:
        """Return :meth:`format` encoded as UTF-8."""
        return self.format().encode()

    @classmethod
    def parse(cls, data: str | bytes) -> SignedNote:
        """Parse a signed note without verifying any signature (see :func:`verify_note`)."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise MalformedNoteError("not valid UTF-8") from err
        _check_text(data)
        split = data.rfind("\n\n")
        if split < 0:
            raise MalformedNoteError("no blank line before the signatures")
        text, block = data[: split + 1], data[split + 2 :]
        if not block.endswith("\n"):
            raise MalformedNoteError("the signature block must end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise MalformedNoteError(f"more than {MAX_SIGNATURES} signatures")
        return cls(text, tuple(_parse_signature_line(line) for line in lines))


def sign_note(note: str | SignedNote, *signers: NoteSigner) -> SignedNote:
    """Sign a text, or add signatures to a signed note, with each of ``signers``.

    Existing signatures by the same key (name and key ID) are replaced; new ones come last.
    """
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    text = note.text if isinstance(note, SignedNote) else note
    kept = note.signatures if isinstance(note, SignedNote) else ()
    message = text.encode()
    new = tuple(NoteSignature(s.name, s.key_id, s.signer.sign(message)) for s in signers)
    replaced = {(sig.name, sig.key_id) for sig in new}
    kept = tuple(sig for sig in kept if (sig.name, sig.key_id) not in replaced)
    return SignedNote(text, kept + new)


def verify_note(note: SignedNote, verifiers: Iterable[NoteVerifier]) -> tuple[NoteSignature, ...]:
    """Verify a note's signatures by known keys and return those that verified.

    Signatures by unknown keys (no verifier with the same name *and* key ID) are ignored, as the
    signed-note spec requires. A signature by a known key that fails rejects the whole note.
    Any exception from a raw verifier counts as a failed signature.

    Raises
    ------
    SignatureInvalidError
        A signature by a known key does not verify.
    NoteUnverifiedError
        No signature by a known key is present.
    AmbiguousVerifierError
        Two verifiers share both name and key ID.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if ident in known:
            raise AmbiguousVerifierError(*ident)
        known[ident] = verifier
    message = note.text.encode()
    verified: list[NoteSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in note.signatures:
        ident = (sig.name, sig.key_id)
        match = known.get(ident)
        if match is None or ident in seen:
            continue
        seen.add(ident)
        try:
            match.verifier.verify(sig.signature, message)
        except Exception as err:  # a pluggable verifier may raise anything: all mean "invalid"
            raise SignatureInvalidError(sig.name, sig.key_id) from err
        verified.append(sig)
    if not verified:
        raise NoteUnverifiedError(tuple(sorted({name for name, _ in known})))
    return tuple(verified)


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNoteError("a signature line must start with an em dash and a space")
    name, sep, blob = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not blob:
        raise MalformedNoteError("a signature line needs a key name and a signature")
    try:
        raw = base64.b64decode(blob, validate=True)
    except binascii.Error as err:
        raise MalformedNoteError(f"signature by {name!r} is not base64") from err
    if base64.b64encode(raw).decode("ascii") != blob:
        raise MalformedNoteError(f"signature by {name!r} is not canonical base64")
    if len(raw) < 5:
        raise MalformedNoteError(f"signature by {name!r} is too short")
    try:
        return NoteSignature(name, raw[:4], raw[4:])
    except InvalidNoteKeyError as err:
        raise MalformedNoteError(str(err)) from err


def _check_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError as err:  # lone surrogates cannot be signed as UTF-8
        raise MalformedNoteError("not valid UTF-8") from err
    for ch in text:
        if ch < " " and ch != "\n":
            raise MalformedNoteError(f"control character U+{ord(ch):04X} in note")


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise InvalidNoteKeyError(f"key name {name!r} must be non-empty, without spaces or '+'")
    try:
        name.encode()
    except UnicodeEncodeError as err:  # lone surrogates
        raise InvalidNoteKeyError(f"key name {name!r} is not valid UTF-8") from err


def _check_key(name: str, ident: bytes) -> None:
    _check_key_name(name)
    if not isinstance(ident, bytes) or len(ident) != 4:
        raise InvalidNoteKeyError(f"key ID of {name!r} must be 4 bytes")
