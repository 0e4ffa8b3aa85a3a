"""Encryption keys, sealed envelopes, data-at-rest objects and the X25519 key-agreement helper.

Every envelope and every encrypted object is one binary layout (version 1)::

    magic "TDXE" | version 0x01 | suite (0x01 intl, 0x02 gm) | kind (0x01 sealed, 0x02 object)
    | recipient fingerprint (8) | wrapped-key length (2, big endian) | wrapped key | nonce (12)
    | AEAD(content key, nonce, plaintext, aad = all the bytes above ‖ caller aad)

A fresh content key per envelope/object is wrapped for the recipient's public key:
`intl` wraps with X25519 (ephemeral) + HKDF-SHA256 + AES-256-GCM; `gm` wraps with SM2 public-key
encryption (GB/T 32918.4, C1C3C2), the SM2 digital envelope of GM/T 0010. Because the content key
is wrapped, an object can be re-wrapped for a new holder key without re-encrypting its data.
Every failure to open raises the same `DecryptionFailed`, with no detail.
"""

from __future__ import annotations

import hmac
import os
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar, Self, cast

import nacl.bindings
import nacl.exceptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys import _sm2
from keys._aead import NONCE_LEN, TAG_LEN, aead_decrypt, aead_encrypt, aead_encrypt_into, aead_key_len
from keys._encoding import multibase_decode, multibase_encode
from keys._hashes import digest
from keys._suite import Suite
from keys.errors import DecryptionFailed, KeyFormatError, UnsupportedSuite

__all__ = [
    "EncryptionKey",
    "PublicEncryptionKey",
    "SM2EncryptionKey",
    "SM2PublicEncryptionKey",
    "X25519EncryptionKey",
    "X25519PublicEncryptionKey",
    "decrypt_object",
    "encrypt_object",
    "open_sealed",
    "public_encryption_key_from_multibase",
    "rewrap_object",
    "seal",
    "x25519_shared_key",
]

_MAGIC = b"TDXE"
_VERSION = 1
_SUITE_BYTE = {Suite.INTL: 1, Suite.GM: 2}
_BYTE_SUITE = {v: k for k, v in _SUITE_BYTE.items()}
_KIND_SEALED = 1
_KIND_OBJECT = 2
_FIXED = struct.Struct(">4sBBB8sH")  # magic, version, suite, kind, fingerprint, wrapped length
_X25519_PREFIX = b"\xec\x01"  # multicodec x25519-pub
_SM2_PREFIX = b"\x86\x24"  # multicodec sm2-pub
Blob = bytes | bytearray | memoryview


def _hkdf(suite: Suite, ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    algorithm: hashes.HashAlgorithm = hashes.SM3() if suite is Suite.GM else hashes.SHA256()
    return HKDF(algorithm=algorithm, length=length, salt=salt, info=info).derive(ikm)


def _x25519(private: bytes, public: bytes) -> bytes:
    try:
        shared = nacl.bindings.crypto_scalarmult(private, public)
    except nacl.exceptions.CryptoError:
        shared = b"\x00" * 32
    # An all-zero result means a low-order peer point: refuse it rather than derive a known key.
    if hmac.compare_digest(shared, b"\x00" * 32):
        raise KeyFormatError("X25519 public key is a low-order point")
    return shared


class PublicEncryptionKey(ABC):
    """A public key that envelopes and objects are encrypted to."""

    algorithm: ClassVar[str]
    suite: ClassVar[Suite]
    _prefix: ClassVar[bytes]

    @property
    @abstractmethod
    def public_bytes(self) -> bytes:
        """X25519: 32 bytes; SM2: 33-byte compressed point."""

    @abstractmethod
    def _wrap(self, content_key: bytes, context: bytes) -> bytes: ...

    @property
    def multibase(self) -> str:
        """Multikey form: `z6LS…` for X25519, the sm2-pub multicodec for SM2."""
        return multibase_encode(self._prefix, self.public_bytes)

    @property
    def fingerprint(self) -> bytes:
        """8 bytes naming this key inside envelopes, so a holder with retired keys picks the right one."""
        return digest(self.suite, self._prefix + self.public_bytes)[:8]

    def is_private(self) -> bool:
        """False: a public key holds no secret."""
        return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicEncryptionKey):
            return NotImplemented
        return self.algorithm == other.algorithm and self.public_bytes == other.public_bytes

    def __hash__(self) -> int:
        return hash((self.algorithm, self.public_bytes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multibase!r})"


class EncryptionKey(ABC):
    """A private decryption key; its secret leaves only through `export_private_bytes()`."""

    algorithm: ClassVar[str]
    suite: ClassVar[Suite]

    @classmethod
    def generate(cls, suite: Suite | str | None = None) -> Self:
        """A fresh key from the OS CSPRNG.

        On `EncryptionKey` itself the suite picks the algorithm (X25519 for `intl`, the default;
        SM2 for `gm`); on a concrete class the suite, if given, must be that class's.
        """
        if cls is EncryptionKey:
            chosen = Suite.INTL if suite is None else Suite.parse(suite)
            concrete: type[EncryptionKey] = SM2EncryptionKey if chosen is Suite.GM else X25519EncryptionKey
            return cast(Self, concrete._generate())
        if suite is not None and Suite.parse(suite) is not cls.suite:
            raise UnsupportedSuite(f"{cls.__name__} belongs to the {cls.suite} suite, not {suite}")
        return cls._generate()

    @classmethod
    @abstractmethod
    def _generate(cls) -> Self: ...

    @staticmethod
    def from_private_bytes(algorithm: str, raw: bytes) -> EncryptionKey:
        """Rebuild a key exported with `export_private_bytes()`; `algorithm` is `X25519` or `SM2`."""
        if algorithm == X25519EncryptionKey.algorithm:
            return X25519EncryptionKey(raw)
        if algorithm == SM2EncryptionKey.algorithm:
            return SM2EncryptionKey(raw)
        raise UnsupportedSuite(f"unknown encryption algorithm {algorithm!r}")

    @property
    @abstractmethod
    def public_key(self) -> PublicEncryptionKey:
        """The matching public key."""

    @abstractmethod
    def export_private_bytes(self) -> bytes:
        """The 32 secret bytes. Call only to store them encrypted."""

    @abstractmethod
    def _unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...

    def is_private(self) -> bool:
        """True: this object holds a secret."""
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<secret>, public={self.public_key.multibase!r})"


class X25519PublicEncryptionKey(PublicEncryptionKey):
    """An X25519 public key (RFC 7748)."""

    algorithm = "X25519"
    suite = Suite.INTL
    _prefix = _X25519_PREFIX

    __slots__ = ("_pk",)

    def __init__(self, public: bytes) -> None:
        if len(public) != 32:
            raise KeyFormatError("an X25519 public key is 32 bytes")
        self._pk = bytes(public)

    @property
    def public_bytes(self) -> bytes:
        return self._pk

    def _wrap(self, content_key: bytes, context: bytes) -> bytes:
        eph_pk, eph_sk = nacl.bindings.crypto_box_keypair()
        shared = _x25519(eph_sk, self._pk)
        kek = _hkdf(Suite.INTL, shared, eph_pk + self._pk, b"tdex/envelope/v1/wrap", 32)
        # The KEK is unique to this ephemeral key, so a fixed nonce never repeats under one key.
        return eph_pk + aead_encrypt(Suite.INTL, kek, b"\x00" * NONCE_LEN, content_key, context)


class X25519EncryptionKey(EncryptionKey):
    """An X25519 private key."""

    algorithm = "X25519"
    suite = Suite.INTL

    __slots__ = ("_pub", "_sk")

    def __init__(self, private: bytes) -> None:
        if len(private) != 32:
            raise KeyFormatError("an X25519 private key is 32 bytes")
        self._sk = bytes(private)
        self._pub = X25519PublicEncryptionKey(nacl.bindings.crypto_scalarmult_base(self._sk))

    @classmethod
    def _generate(cls) -> Self:
        return cls(nacl.bindings.randombytes(32))

    @property
    def public_key(self) -> X25519PublicEncryptionKey:
        return self._pub

    def export_private_bytes(self) -> bytes:
        return self._sk

    def _unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if len(wrapped) != 32 + 32 + 16:
            raise DecryptionFailed()
        eph_pk = wrapped[:32]
        try:
            shared = _x25519(self._sk, eph_pk)
        except KeyFormatError:
            raise DecryptionFailed() from None
        kek = _hkdf(Suite.INTL, shared, eph_pk + self._pub.public_bytes, b"tdex/envelope/v1/wrap", 32)
        return aead_decrypt(Suite.INTL, kek, b"\x00" * NONCE_LEN, wrapped[32:], context)


class SM2PublicEncryptionKey(PublicEncryptionKey):
    """An SM2 public encryption key (GB/T 32918.4)."""

    algorithm = "SM2"
    suite = Suite.GM
    _prefix = _SM2_PREFIX

    __slots__ = ("_point",)

    def __init__(self, public: bytes) -> None:
        self._point = _sm2.point_decode(public)

    @property
    def public_bytes(self) -> bytes:
        return _sm2.point_encode(self._point, compressed=True)

    def _wrap(self, content_key: bytes, context: bytes) -> bytes:
        # SM2 encryption authenticates the key itself (C3); the header is bound by the outer AEAD.
        return _sm2.encrypt(self._point, content_key)


class SM2EncryptionKey(EncryptionKey):
    """An SM2 private decryption key."""

    algorithm = "SM2"
    suite = Suite.GM

    __slots__ = ("_d", "_pub")

    def __init__(self, private: bytes) -> None:
        if len(private) != 32:
            raise KeyFormatError("an SM2 private key is 32 bytes")
        self._d = _sm2.check_private(int.from_bytes(private, "big"))
        self._pub = SM2PublicEncryptionKey(_sm2.point_encode(_sm2.public_from_private(self._d)))

    @classmethod
    def _generate(cls) -> Self:
        return cls(_sm2.generate_private().to_bytes(32, "big"))

    @property
    def public_key(self) -> SM2PublicEncryptionKey:
        return self._pub

    def export_private_bytes(self) -> bytes:
        return self._d.to_bytes(32, "big")

    def _unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return _sm2.decrypt(self._d, wrapped)


def public_encryption_key_from_multibase(text: str) -> PublicEncryptionKey:
    """Decode the `multibase` form of an X25519 or SM2 public encryption key."""
    raw = multibase_decode(text)
    if raw[:2] == _X25519_PREFIX:
        return X25519PublicEncryptionKey(raw[2:])
    if raw[:2] == _SM2_PREFIX:
        return SM2PublicEncryptionKey(raw[2:])
    raise KeyFormatError(f"{text[:12]}… is neither an X25519 nor an SM2 public key")


def _resolve_suite(recipient: PublicEncryptionKey, suite: Suite | str | None) -> Suite:
    chosen = recipient.suite if suite is None else Suite.parse(suite)
    if chosen is not recipient.suite:
        raise UnsupportedSuite(f"a {recipient.algorithm} key cannot receive a {chosen} envelope")
    return chosen


def _encrypt(
    kind: int, recipient: PublicEncryptionKey, plaintext: bytes, aad: bytes, suite: Suite
) -> bytearray:
    content_key = os.urandom(aead_key_len(suite))
    head = _FIXED.pack(_MAGIC, _VERSION, _SUITE_BYTE[suite], kind, recipient.fingerprint, 0)[:-2]
    wrapped = recipient._wrap(content_key, head)
    nonce = os.urandom(NONCE_LEN)
    header = head + struct.pack(">H", len(wrapped)) + wrapped + nonce
    out = bytearray(len(header) + len(plaintext) + TAG_LEN)
    out[: len(header)] = header
    aead_encrypt_into(suite, content_key, nonce, plaintext, header + aad, memoryview(out)[len(header) :])
    return out


def _parse(kind: int, blob: Blob) -> tuple[Suite, bytes, bytes, bytes, bytes, memoryview]:
    """Split a blob into (suite, fingerprint, fixed head, wrapped key, header, ciphertext)."""
    if len(blob) < _FIXED.size:
        raise DecryptionFailed()
    magic, version, suite_byte, got_kind, fingerprint, wrapped_len = _FIXED.unpack_from(blob)
    if magic != _MAGIC or version != _VERSION or got_kind != kind or suite_byte not in _BYTE_SUITE:
        raise DecryptionFailed()
    end_wrapped = _FIXED.size + wrapped_len
    end_header = end_wrapped + NONCE_LEN
    if len(blob) < end_header:
        raise DecryptionFailed()
    head = bytes(blob[: _FIXED.size - 2])
    return (
        _BYTE_SUITE[suite_byte],
        fingerprint,
        head,
        bytes(blob[_FIXED.size : end_wrapped]),
        bytes(blob[:end_header]),
        memoryview(blob)[end_header:],  # a view: large objects are not copied before decryption
    )


def _pick(keys: EncryptionKey | Iterable[EncryptionKey], suite: Suite, fingerprint: bytes) -> EncryptionKey:
    candidates = [keys] if isinstance(keys, EncryptionKey) else list(keys)
    for key in candidates:
        if key.suite is suite and hmac.compare_digest(key.public_key.fingerprint, fingerprint):
            return key
    raise DecryptionFailed()


def _decrypt(kind: int, keys: EncryptionKey | Iterable[EncryptionKey], blob: Blob, aad: bytes) -> bytes:
    suite, fingerprint, head, wrapped, header, ciphertext = _parse(kind, blob)
    key = _pick(keys, suite, fingerprint)
    content_key = key._unwrap(wrapped, head)
    if len(content_key) != aead_key_len(suite):
        raise DecryptionFailed()
    return aead_decrypt(suite, content_key, header[-NONCE_LEN:], ciphertext, header + aad)


def seal(
    recipient_public: PublicEncryptionKey,
    plaintext: bytes,
    *,
    suite: Suite | str | None = None,
    aad: bytes = b"",
) -> bytes:
    """Encrypt `plaintext` to `recipient_public` (anonymous sender); returns the envelope bytes.

    `suite` defaults to the key's suite and must match it (an X25519 key is `intl`, SM2 is `gm`).
    `aad` is bound to the envelope and must be given again to open it (e.g. a job id).
    """
    return bytes(
        _encrypt(_KIND_SEALED, recipient_public, plaintext, aad, _resolve_suite(recipient_public, suite))
    )


def open_sealed(
    private: EncryptionKey | Iterable[EncryptionKey], envelope: bytes, *, aad: bytes = b""
) -> bytes:
    """Open an envelope made by `seal` with the recipient's key (or its current and retired keys).

    Raises `DecryptionFailed` for every failure: wrong key, tampering, truncation, unknown version.
    """
    return _decrypt(_KIND_SEALED, private, envelope, aad)


def encrypt_object(
    holder_key: PublicEncryptionKey | EncryptionKey, plaintext: bytes, aad: bytes
) -> bytearray:
    """Encrypt data at rest under a fresh data key wrapped for the holder's key.

    Returns a new `bytearray` that the caller owns: the ciphertext is written straight after the
    header, so a large object is never copied a second time just to become immutable `bytes`.

    The AEAD is AES-256-GCM (`intl`) or SM4-GCM (`gm`), chosen by the holder key's suite; `aad`
    (e.g. the dataset id and version) must be given again to decrypt.
    """
    public = holder_key.public_key if isinstance(holder_key, EncryptionKey) else holder_key
    return _encrypt(_KIND_OBJECT, public, plaintext, aad, public.suite)


def decrypt_object(holder_key: EncryptionKey | Iterable[EncryptionKey], blob: Blob, aad: bytes) -> bytes:
    """Decrypt an object made by `encrypt_object`; every failure raises `DecryptionFailed`."""
    return _decrypt(_KIND_OBJECT, holder_key, blob, aad)


def rewrap_object(
    holder_key: EncryptionKey | Iterable[EncryptionKey],
    blob: Blob,
    new_holder: PublicEncryptionKey,
    aad: bytes,
) -> bytearray:
    """Re-encrypt an object for `new_holder` (after a key rotation) and return the new blob.

    The data is decrypted and checked first, so a tampered object is never re-wrapped.
    """
    return encrypt_object(new_holder, decrypt_object(holder_key, blob, aad), aad)


def x25519_shared_key(
    private: X25519EncryptionKey, peer_public: X25519PublicEncryptionKey, context: bytes, *, length: int = 32
) -> bytes:
    """A symmetric key both parties derive from their X25519 keys: HKDF-SHA256 of the shared secret.

    Salt is the two public keys in sorted order, so both sides derive the same key; `context`
    (e.g. b"secagg|round-7") separates keys for different uses. Raises `KeyFormatError` when
    the peer key is a low-order point (the shared secret would be all zero).
    """
    if not isinstance(private, X25519EncryptionKey) or not isinstance(peer_public, X25519PublicEncryptionKey):
        raise UnsupportedSuite("x25519_shared_key needs an X25519 private key and an X25519 public key")
    shared = _x25519(private.export_private_bytes(), peer_public.public_bytes)
    low, high = sorted((private.public_key.public_bytes, peer_public.public_bytes))
    return _hkdf(Suite.INTL, shared, low + high, b"tdex/x25519-shared/v1|" + context, length)
