"""Signing keys (Ed25519 under `intl`, SM2 under `gm`), did:key identifiers and signed documents.

A signed document is a detached signature over canonical JSON::

    {"kind": "tdex.signed", "version": 1, "payload": <any JSON value>,
     "signature": {"suite": "intl", "alg": "Ed25519", "kid": "did:key:z6Mk…#z6Mk…",
                   "created": "2025-01-01T00:00:00Z", "value": "<base64url>"}}

The signed bytes are the RFC 8785 form of the whole document without `signature.value`, so the
suite, algorithm, key id and time are covered by the signature (no algorithm substitution).
"""

from __future__ import annotations

import hmac
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, cast

import nacl.bindings
import nacl.exceptions

from keys import _sm2
from keys._canonical import canonical_json
from keys._encoding import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from keys._suite import Suite
from keys.errors import (
    CanonicalizationError,
    KeyFormatError,
    SignatureInvalid,
    SignedDocumentMalformed,
    UnsupportedSuite,
    WrongSigner,
)

__all__ = [
    "SIGNED_KIND",
    "SIGNED_VERSION",
    "Ed25519SigningKey",
    "Ed25519VerifyKey",
    "SM2SigningKey",
    "SM2VerifyKey",
    "SigningKey",
    "VerifiedDocument",
    "VerifyKey",
    "utc_timestamp",
    "verify_document",
    "verify_key_from_did",
    "verify_signed",
]

SIGNED_KIND = "tdex.signed"
SIGNED_VERSION = 1

_CREATED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")  # one spelling, so times compare as text
_ED25519_PREFIX = b"\xed\x01"  # multicodec ed25519-pub
_SM2_PREFIX = b"\x86\x24"  # multicodec sm2-pub (0x1206, draft), compressed point


def utc_timestamp(at: datetime | None = None) -> str:
    """RFC 3339 UTC time to the second, `YYYY-MM-DDTHH:MM:SSZ` (now when `at` is None)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class VerifyKey(ABC):
    """A public signing key; `verify` raises instead of returning False."""

    algorithm: ClassVar[str]
    suite: ClassVar[Suite]
    _prefix: ClassVar[bytes]

    @property
    @abstractmethod
    def public_bytes(self) -> bytes:
        """The public key bytes (Ed25519: 32 raw bytes; SM2: 33-byte compressed point)."""

    @abstractmethod
    def verify(self, signature: bytes, message: bytes) -> None:
        """Check `signature` over `message`; raise `SignatureInvalid` if it does not verify."""

    def is_private(self) -> bool:
        """False: a verify key holds no secret."""
        return False

    def is_public(self) -> bool:
        """True: a verify key is public."""
        return True

    @property
    def multibase(self) -> str:
        """The Multikey form, `z` + base58btc(multicodec prefix + public key)."""
        return multibase_encode(self._prefix, self.public_bytes)

    @property
    def did(self) -> str:
        """The did:key of this key (`did:key:z6Mk…` for Ed25519)."""
        return f"did:key:{self.multibase}"

    @property
    def key_id(self) -> str:
        """The verification method id, `did:key:<mb>#<mb>`, written as `kid` in signatures."""
        return f"{self.did}#{self.multibase}"

    def verify_document(self, document: Mapping[str, Any]) -> Any:
        """Verify a signed document made by this key and return its payload (raises otherwise)."""
        return verify_signed(document, trusted=[self]).payload

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self.algorithm == other.algorithm and hmac.compare_digest(
            self.public_bytes, other.public_bytes
        )

    def __hash__(self) -> int:
        return hash((self.algorithm, self.public_bytes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multibase!r})"


class SigningKey(ABC):
    """A private signing key. Its secret leaves only through `export_private_bytes()`."""

    algorithm: ClassVar[str]
    suite: ClassVar[Suite]

    @classmethod
    def generate(cls, suite: Suite | str | None = None) -> Self:
        """A fresh key from the OS CSPRNG.

        On `SigningKey` itself the suite picks the algorithm (Ed25519 for `intl`, the default;
        SM2 for `gm`); on a concrete class the suite, if given, must be that class's.
        """
        if cls is SigningKey:
            chosen = Suite.INTL if suite is None else Suite.parse(suite)
            concrete: type[SigningKey] = SM2SigningKey if chosen is Suite.GM else Ed25519SigningKey
            return cast(Self, concrete._generate())
        if suite is not None and Suite.parse(suite) is not cls.suite:
            raise UnsupportedSuite(f"{cls.__name__} belongs to the {cls.suite} suite, not {suite}")
        return cls._generate()

    @classmethod
    @abstractmethod
    def _generate(cls) -> Self: ...

    @staticmethod
    def from_private_bytes(algorithm: str, raw: bytes) -> SigningKey:
        """Rebuild a key exported with `export_private_bytes()`; `algorithm` is `Ed25519` or `SM2`."""
        if algorithm == Ed25519SigningKey.algorithm:
            return Ed25519SigningKey(raw)
        if algorithm == SM2SigningKey.algorithm:
            return SM2SigningKey(raw)
        raise UnsupportedSuite(f"unknown signature algorithm {algorithm!r}")

    @property
    @abstractmethod
    def verify_key(self) -> VerifyKey:
        """The matching public key."""

    @abstractmethod
    def sign(self, message: bytes) -> bytes:
        """Raw signature over `message` (Ed25519: 64 bytes; SM2: r‖s, 64 bytes)."""

    @abstractmethod
    def export_private_bytes(self) -> bytes:
        """The 32 secret bytes (Ed25519 seed or SM2 scalar). Call only to store them encrypted."""

    def is_private(self) -> bool:
        """True: this object holds a secret."""
        return True

    def is_public(self) -> bool:
        """False: this object holds a secret."""
        return False

    @property
    def key_id(self) -> str:
        """The verification method id of the public key."""
        return self.verify_key.key_id

    def sign_document(self, payload: Any, *, created: datetime | None = None) -> dict[str, Any]:
        """Return `payload` wrapped in a signed document (see the module docstring)."""
        header = {
            "suite": str(self.suite),
            "alg": self.algorithm,
            "kid": self.key_id,
            "created": utc_timestamp(created),
        }
        unsigned = {"kind": SIGNED_KIND, "version": SIGNED_VERSION, "payload": payload, "signature": header}
        value = self.sign(canonical_json(unsigned))
        return {**unsigned, "signature": {**header, "value": b64url_encode(value)}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<secret>, public={self.verify_key.multibase!r})"


class Ed25519VerifyKey(VerifyKey):
    """An Ed25519 public key (RFC 8032), verified with libsodium through PyNaCl."""

    algorithm = "Ed25519"
    suite = Suite.INTL
    _prefix = _ED25519_PREFIX

    __slots__ = ("_pk",)

    def __init__(self, public: bytes) -> None:
        if len(public) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        self._pk = bytes(public)

    @property
    def public_bytes(self) -> bytes:
        return self._pk

    def verify(self, signature: bytes, message: bytes) -> None:
        if len(signature) != 64:
            raise SignatureInvalid("Ed25519 signature must be 64 bytes")
        try:
            nacl.bindings.crypto_sign_open(signature + message, self._pk)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            raise SignatureInvalid(f"Ed25519 signature does not verify for {self.multibase}") from None


class Ed25519SigningKey(SigningKey):
    """An Ed25519 private key (32-byte seed)."""

    algorithm = "Ed25519"
    suite = Suite.INTL

    __slots__ = ("_seed", "_sk", "_vk")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")
        self._seed = bytes(seed)
        pk, self._sk = nacl.bindings.crypto_sign_seed_keypair(self._seed)
        self._vk = Ed25519VerifyKey(pk)

    @classmethod
    def _generate(cls) -> Self:
        return cls(nacl.bindings.randombytes(32))

    @property
    def verify_key(self) -> Ed25519VerifyKey:
        return self._vk

    def sign(self, message: bytes) -> bytes:
        # crypto_sign returns signature‖message; the slice is the only work added to libsodium's.
        return nacl.bindings.crypto_sign(message, self._sk)[:64]

    def export_private_bytes(self) -> bytes:
        return self._seed


class SM2VerifyKey(VerifyKey):
    """An SM2 public key (GB/T 32918); signatures use SM3 and the default user ID."""

    algorithm = "SM2"
    suite = Suite.GM
    _prefix = _SM2_PREFIX

    __slots__ = ("_point",)

    def __init__(self, public: bytes) -> None:
        self._point = _sm2.point_decode(public)

    @property
    def public_bytes(self) -> bytes:
        return _sm2.point_encode(self._point, compressed=True)

    @property
    def uncompressed(self) -> bytes:
        """The 65-byte `04‖x‖y` form, as most GM tools print it."""
        return _sm2.point_encode(self._point)

    def verify(self, signature: bytes, message: bytes) -> None:
        if not _sm2.verify(self._point, signature, message):
            raise SignatureInvalid(f"SM2 signature does not verify for {self.multibase}")


class SM2SigningKey(SigningKey):
    """An SM2 private key (a scalar d in [1, n-2])."""

    algorithm = "SM2"
    suite = Suite.GM

    __slots__ = ("_d", "_vk")

    def __init__(self, private: bytes) -> None:
        if len(private) != 32:
            raise KeyFormatError("an SM2 private key is 32 bytes")
        self._d = _sm2.check_private(int.from_bytes(private, "big"))
        self._vk = SM2VerifyKey(_sm2.point_encode(_sm2.public_from_private(self._d)))

    @classmethod
    def _generate(cls) -> Self:
        return cls(_sm2.generate_private().to_bytes(32, "big"))

    @property
    def verify_key(self) -> SM2VerifyKey:
        return self._vk

    def sign(self, message: bytes) -> bytes:
        return _sm2.sign(self._d, message, public=self._vk._point)

    def export_private_bytes(self) -> bytes:
        return self._d.to_bytes(32, "big")


def verify_key_from_did(did: str) -> VerifyKey:
    """The public key named by a did:key (or a `did:key:…#…` key id); raises `KeyFormatError`."""
    if not isinstance(did, str) or not did.startswith("did:key:"):
        raise KeyFormatError(f"not a did:key: {str(did)[:40]!r}")
    ident, _, fragment = did[len("did:key:") :].partition("#")
    if fragment and fragment != ident:
        raise KeyFormatError("did:key fragment must repeat the key")
    raw = multibase_decode(ident)
    if raw[:2] == _ED25519_PREFIX:
        return Ed25519VerifyKey(raw[2:])
    if raw[:2] == _SM2_PREFIX:
        return SM2VerifyKey(raw[2:])
    raise KeyFormatError(f"did:key {ident[:12]}… is neither an Ed25519 nor an SM2 key")


@dataclass(frozen=True, slots=True)
class VerifiedDocument:
    """The result of checking a signed document: its payload and who signed it, under which suite."""

    payload: Any
    signer: VerifyKey
    suite: Suite
    created: str


def _field(mapping: Mapping[str, Any], name: str, kind: type) -> Any:
    value = mapping.get(name)
    if not isinstance(value, kind):
        raise SignedDocumentMalformed(f"signed document: field {name!r} missing or not a {kind.__name__}")
    return value


def verify_signed(
    document: Mapping[str, Any], trusted: Iterable[VerifyKey] | None = None
) -> VerifiedDocument:
    """Verify a signed document and return its payload with the signer.

    With `trusted`, the document's key id must name one of those keys (else `WrongSigner`);
    without it, the key is taken from the did:key in `kid`, which proves only that the holder of
    that key signed: callers decide whether they trust that key.
    """
    if not isinstance(document, Mapping):
        raise SignedDocumentMalformed("signed document must be a JSON object")
    if document.get("kind") != SIGNED_KIND:
        raise SignedDocumentMalformed(f"signed document kind must be {SIGNED_KIND!r}")
    if document.get("version") != SIGNED_VERSION:
        raise SignedDocumentMalformed(f"unsupported signed document version {document.get('version')!r}")
    if set(document) != {"kind", "version", "payload", "signature"}:
        raise SignedDocumentMalformed("signed document has missing or unexpected top-level fields")
    sig = _field(document, "signature", Mapping)
    if set(sig) != {"suite", "alg", "kid", "created", "value"}:
        raise SignedDocumentMalformed("signature block has missing or unexpected fields")
    try:
        suite = Suite.parse(_field(sig, "suite", str))
    except UnsupportedSuite as exc:
        raise SignedDocumentMalformed(str(exc)) from None
    alg = _field(sig, "alg", str)
    kid = _field(sig, "kid", str)
    created = _field(sig, "created", str)
    if not _CREATED.fullmatch(created):
        raise SignedDocumentMalformed(f"signature created {created[:30]!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        value = b64url_decode(_field(sig, "value", str))
    except ValueError:
        raise SignedDocumentMalformed("signature value is not base64url") from None
    if trusted is not None:
        candidates = [k for k in trusted if k.key_id == kid]
        if not candidates:
            raise WrongSigner(f"document is signed by {kid}, which is not a trusted key")
        key = candidates[0]
    else:
        try:
            key = verify_key_from_did(kid)
        except KeyFormatError as exc:
            raise SignedDocumentMalformed(f"signature kid: {exc}") from None
    if key.algorithm != alg or key.suite is not suite:
        raise SignedDocumentMalformed(
            f"signature names {alg}/{suite} but {kid} is {key.algorithm}/{key.suite}"
        )
    unsigned = {
        "kind": SIGNED_KIND,
        "version": SIGNED_VERSION,
        "payload": document["payload"],
        "signature": {"suite": str(suite), "alg": alg, "kid": kid, "created": created},
    }
    try:
        message = canonical_json(unsigned)
    except CanonicalizationError as exc:
        raise SignedDocumentMalformed(f"payload is not canonical JSON: {exc}") from None
    key.verify(value, message)
    return VerifiedDocument(payload=document["payload"], signer=key, suite=suite, created=created)


def verify_document(document: Mapping[str, Any], trusted: Iterable[VerifyKey] | None = None) -> Any:
    """Verify a signed document (see `verify_signed`) and return only its payload."""
    return verify_signed(document, trusted).payload
