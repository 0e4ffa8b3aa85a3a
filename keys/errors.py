"""The exceptions of the `keys` package: one root, a stable machine `code` on every class.

The tree::

    KeysError                          keys.error
    ├── CanonicalizationError          keys.canonical.invalid
    ├── UnsupportedSuite               keys.suite.unsupported
    ├── KeyFormatError                 keys.key.invalid
    ├── SignatureError                 keys.signature.error
    │   ├── SignatureInvalid           keys.signature.invalid
    │   ├── SignedDocumentMalformed    keys.signature.malformed
    │   └── WrongSigner                keys.signature.wrong_key
    ├── DecryptionFailed               keys.decryption_failed
    ├── RequestSignatureError          keys.http.error
    │   ├── RequestSignatureMissing    keys.http.missing
    │   ├── RequestSignatureExpired    keys.http.expired
    │   ├── RequestReplayed            keys.http.replayed
    │   ├── ContentDigestMismatch      keys.http.bad_digest
    │   ├── RequestSignatureInvalid    keys.http.bad_signature
    │   └── UnknownKeyId               keys.http.unknown_key
    ├── IdentifierError                keys.identifier.error
    │   ├── IdentifierFormatError      keys.identifier.format
    │   ├── CheckCharacterMismatch     keys.identifier.check
    │   ├── InvalidBirthDate           keys.identifier.date
    │   └── OverrideMismatch           keys.identifier.override
    ├── KeystoreError                  keys.keystore.error
    │   ├── KeystoreNotFound           keys.keystore.not_found
    │   ├── KeystoreExists             keys.keystore.exists
    │   ├── WrongPassphrase            keys.keystore.wrong_passphrase
    │   ├── KeystoreCorrupted          keys.keystore.corrupted
    │   ├── KeystoreTruncated          keys.keystore.truncated
    │   ├── KeystoreVersionUnsupported keys.keystore.unknown_version
    │   └── WeakKdfParameters          keys.keystore.weak_kdf
    └── RotationError                  keys.rotation.invalid

Codes are part of the public contract: the API maps them to problem types, so never rename one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CanonicalizationError",
    "CheckCharacterMismatch",
    "ContentDigestMismatch",
    "DecryptionFailed",
    "IdentifierError",
    "IdentifierFormatError",
    "InvalidBirthDate",
    "KeyFormatError",
    "KeysError",
    "KeystoreCorrupted",
    "KeystoreError",
    "KeystoreExists",
    "KeystoreNotFound",
    "KeystoreTruncated",
    "KeystoreVersionUnsupported",
    "OverrideMismatch",
    "RequestReplayed",
    "RequestSignatureError",
    "RequestSignatureExpired",
    "RequestSignatureInvalid",
    "RequestSignatureMissing",
    "RotationError",
    "SignatureError",
    "SignatureInvalid",
    "SignedDocumentMalformed",
    "UnknownKeyId",
    "UnsupportedSuite",
    "WeakKdfParameters",
    "WrongPassphrase",
    "WrongSigner",
]


class KeysError(Exception):
    """Raised when anything in `keys` fails; the root of every error of this package."""

    code = "keys.error"


class CanonicalizationError(KeysError):
    """Raised when a value has no RFC 8785 form (NaN, an integer beyond 2**53, a non-string key...)."""

    code = "keys.canonical.invalid"


class UnsupportedSuite(KeysError):
    """Raised when a crypto suite name is not one of `intl`, `gm`, or a key does not fit the suite."""

    code = "keys.suite.unsupported"


class KeyFormatError(KeysError):
    """Raised when key bytes, a did:key or a public-key encoding cannot be decoded."""

    code = "keys.key.invalid"


class SignatureError(KeysError):
    """Raised when a signature or a signed document does not verify; the root of signature errors."""

    code = "keys.signature.error"


class SignatureInvalid(SignatureError):
    """Raised when a signature does not verify against the key and the bytes."""

    code = "keys.signature.invalid"


class SignedDocumentMalformed(SignatureError):
    """Raised when a signed document lacks a field, has a wrong kind/version, or bad encodings."""

    code = "keys.signature.malformed"


class WrongSigner(SignatureError):
    """Raised when a document names a signing key other than the one (or ones) it is checked against."""

    code = "keys.signature.wrong_key"


class DecryptionFailed(KeysError):
    """Raised for every failure to open an envelope or decrypt an object; deliberately says no more."""

    code = "keys.decryption_failed"

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class RequestSignatureError(KeysError):
    """Raised when an HTTP request signature does not verify; the root of request-signature errors."""

    code = "keys.http.error"


class RequestSignatureMissing(RequestSignatureError):
    """Raised when `Signature`, `Signature-Input` or `Content-Digest`, or a required parameter, is absent."""

    code = "keys.http.missing"


class RequestSignatureExpired(RequestSignatureError):
    """Raised when the signature's `created` time is outside the accepted window around now."""

    code = "keys.http.expired"


class RequestReplayed(RequestSignatureError):
    """Raised when a (key id, nonce) pair was already seen inside the window."""

    code = "keys.http.replayed"


class ContentDigestMismatch(RequestSignatureError):
    """Raised when the `Content-Digest` header does not match the body."""

    code = "keys.http.bad_digest"


class RequestSignatureInvalid(RequestSignatureError):
    """Raised when the request signature does not verify or does not cover the required components."""

    code = "keys.http.bad_signature"


class UnknownKeyId(RequestSignatureError):
    """Raised when the `keyid` of a request signature resolves to no key."""

    code = "keys.http.unknown_key"


class IdentifierError(KeysError):
    """Raised when a USCC or a resident ID number is not valid; the root of identifier errors.

    `position` is 1-based (None when the fault is the whole value, e.g. its length); `expected`
    is the character expected there when it can be computed.
    """

    code = "keys.identifier.error"

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        super().__init__(message)
        self.position = position
        self.expected = expected
        self.found = found


class IdentifierFormatError(IdentifierError):
    """Raised when an identifier has the wrong length or a character not allowed at its position."""

    code = "keys.identifier.format"


class CheckCharacterMismatch(IdentifierError):
    """Raised when a check character (USCC position 17 or 18, resident ID position 18) is wrong."""

    code = "keys.identifier.check"


class InvalidBirthDate(IdentifierError):
    """Raised when the birth date in a resident ID number (positions 7-14) is not a real past date."""

    code = "keys.identifier.date"


class OverrideMismatch(IdentifierError):
    """Raised when an override is offered for a different code, or for a fault it cannot excuse."""

    code = "keys.identifier.override"


class KeystoreError(KeysError):
    """Raised when a keystore file cannot be created, read or decrypted; names the file and the fault."""

    code = "keys.keystore.error"

    def __init__(self, path: Path | str, fault: str) -> None:
        super().__init__(f"{path}: {fault}")
        self.path = Path(path)
        self.fault = fault


class KeystoreNotFound(KeystoreError):
    """Raised when a keystore folder or one of its files does not exist."""

    code = "keys.keystore.not_found"


class KeystoreExists(KeystoreError):
    """Raised when creating a keystore for an organisation that already has one (nothing is overwritten)."""

    code = "keys.keystore.exists"


class WrongPassphrase(KeystoreError):
    """Raised when the passphrase does not open the keystore."""

    code = "keys.keystore.wrong_passphrase"


class KeystoreCorrupted(KeystoreError):
    """Raised when a keystore file is not valid JSON, misses fields, or fails its integrity check."""

    code = "keys.keystore.corrupted"


class KeystoreTruncated(KeystoreError):
    """Raised when a keystore file is empty or ends before its JSON document does."""

    code = "keys.keystore.truncated"


class KeystoreVersionUnsupported(KeystoreError):
    """Raised when a keystore file declares a format version this code does not read."""

    code = "keys.keystore.unknown_version"


class WeakKdfParameters(KeystoreError):
    """Raised when a keystore file's KDF parameters are below the floor of the configured KDF profile."""

    code = "keys.keystore.weak_kdf"


class RotationError(KeysError):
    """Raised when a rotation statement does not chain from the key it claims to replace."""

    code = "keys.rotation.invalid"
