"""Passphrase-protected keystores on disk: one folder per organisation.

Layout of `<root>/<org>/` (every file mode 0600, the folder 0700)::

    keystore.json            kind tdex.keystore v1: suite, public identity, KDF parameters and a
                             SecretBox (XSalsa20-Poly1305) of the Ed25519/X25519/SM2 keys under an
                             Argon2id-derived key; the commit point of every change
    account-<address>.json   the account key as an Ethereum keystore v3 file (scrypt), with a
                             `tdex` block naming kind, version, suite and organisation

Every file is written as canonical JSON plus a newline, with a SHA-256 checksum of its content,
through a temporary file and a rename, so a crash leaves the old file or the new one, never half.
A new keystore is built in a staging folder and renamed into place. On reading, a missing final
`}` means truncated, a checksum or canonical-form mismatch means corrupted, and a decryption
failure of an intact file means a wrong passphrase.

KDF profiles. `moderate` (the default): Argon2id with libsodium's OPSLIMIT_MODERATE (3 passes)
and MEMLIMIT_MODERATE (256 MiB), about 1 s here, and scrypt n=2**18, r=8, p=1 (geth's standard,
256 MiB, about 1.5 s). These keys are long-lived and unlocked rarely (a service start, a CLI
command), so a few seconds buy a lot against offline guessing of a stolen file. `fast-test` uses
the libsodium minimum and scrypt n=2**4 and exists only so tests run quickly: a keystore opened
with the default profile refuses files whose parameters are below it (`WeakKdfParameters`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
from eth_account import Account

from keys._canonical import canonical_json, parse_json
from keys._encoding import b64url_decode, b64url_encode
from keys._envelope import EncryptionKey, SM2EncryptionKey, X25519EncryptionKey
from keys._hashes import sha256
from keys._identifiers import IdentifierOverride, validate_uscc
from keys._identity import AccountRotation, OrgIdentity, OrgKeys, RotationResult, Which
from keys._signing import Ed25519SigningKey, SM2SigningKey
from keys._suite import Suite
from keys.errors import (
    KeyFormatError,
    KeystoreCorrupted,
    KeystoreError,
    KeystoreExists,
    KeystoreNotFound,
    KeystoreTruncated,
    KeystoreVersionUnsupported,
    UnsupportedSuite,
    WeakKdfParameters,
    WrongPassphrase,
)

__all__ = ["KDF_PROFILES", "KdfProfile", "Keystore"]

KEYSTORE_KIND = "tdex.keystore"
ACCOUNT_KIND = "tdex.account-keystore"
FORMAT_VERSION = 1
_KEYSTORE_FILE = "keystore.json"
_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class KdfProfile:
    """Passphrase-KDF cost: Argon2id for the key envelope, scrypt for the Ethereum account file."""

    name: str
    argon2_opslimit: int
    argon2_memlimit: int
    scrypt_n: int
    scrypt_r: int = 8
    scrypt_p: int = 1


KDF_PROFILES: dict[str, KdfProfile] = {
    "moderate": KdfProfile(
        "moderate", nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE, 2**18
    ),
    "fast-test": KdfProfile(
        "fast-test", nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN, 2**4
    ),
}


def _passphrase_text(path: Path, passphrase: str | bytes) -> str:
    if isinstance(passphrase, bytes):
        try:
            passphrase = passphrase.decode("utf-8")
        except UnicodeDecodeError:
            raise KeystoreError(path, "passphrase bytes must be UTF-8") from None
    if not passphrase:
        raise KeystoreError(path, "the passphrase must not be empty")
    # NFC so the same passphrase typed on different systems gives the same bytes (geth hashes
    # the UTF-8 of the string too, so the account file opens there with the same passphrase).
    return unicodedata.normalize("NFC", passphrase)


def _with_checksum(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "checksum"}
    return canonical_json({**body, "checksum": b64url_encode(sha256(canonical_json(body)))}) + b"\n"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 0600) so that a crash leaves the old file or the new one.

    A temporary file beside it, synced, renamed over the old one, then the folder synced: never
    half a file on disk, and the new one is durable before the caller acts on it. The project's
    one writer of files that must not be torn (keystores, a witness's state).
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _read_document(path: Path, kind: str) -> dict[str, Any]:
    """Read and check one keystore file up to (not including) decryption."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeystoreNotFound(path, "file does not exist") from None
    except OSError as exc:
        raise KeystoreError(path, f"cannot read: {exc.strerror}") from None
    if not data.endswith(b"}\n"):
        raise KeystoreTruncated(path, f"file is truncated ({len(data)} bytes, no closing brace)")
    try:
        document = parse_json(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeystoreCorrupted(path, f"not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise KeystoreCorrupted(path, "not a JSON object")
    meta = document.get("tdex", document) if kind == ACCOUNT_KIND else document
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        raise KeystoreCorrupted(path, f"not a {kind} file")
    if meta.get("version") != FORMAT_VERSION:
        raise KeystoreVersionUnsupported(
            path,
            f"format version {meta.get('version')!r} is not supported (this code reads {FORMAT_VERSION})",
        )
    checksum = document.get("checksum")
    if not isinstance(checksum, str) or _with_checksum(document) != data:
        raise KeystoreCorrupted(path, "checksum or canonical form does not match the content")
    return document


class Keystore:
    """The keystores of organisations under one root folder (e.g. `$TDEX_HOME`).

    Passphrases are arguments: reading them from the environment or a prompt is the CLI's job.
    """

    def __init__(self, root: Path | str, *, kdf_profile: str = "moderate") -> None:
        if kdf_profile not in KDF_PROFILES:
            raise ValueError(f"unknown KDF profile {kdf_profile!r}; expected one of {sorted(KDF_PROFILES)}")
        self.root = Path(root)
        self.profile = KDF_PROFILES[kdf_profile]

    def folder(self, org: str) -> Path:
        """The folder of `org`'s keystore (which may not exist)."""
        if not _ORG_NAME.match(org):
            raise KeystoreError(
                self.root / org,
                "organisation name must be 1-64 of A-Z a-z 0-9 . _ - (not starting with . _ -)",
            )
        return self.root / org

    def exists(self, org: str) -> bool:
        """True when `org` has a keystore folder."""
        return (self.folder(org) / _KEYSTORE_FILE).exists()

    def orgs(self) -> list[str]:
        """The organisations that have a keystore under the root."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if (p / _KEYSTORE_FILE).is_file() and _ORG_NAME.match(p.name)
        )

    # -- writing -----------------------------------------------------------------------------

    def _account_document(self, keys: OrgKeys, raw: bytes, passphrase: str) -> bytes:
        v3 = Account.encrypt(raw, passphrase, kdf="scrypt", iterations=self.profile.scrypt_n)
        v3 = dict(v3)
        v3["tdex"] = {
            "kind": ACCOUNT_KIND,
            "version": FORMAT_VERSION,
            "suite": str(keys.suite),
            "org": keys.org,
        }
        return _with_checksum(v3)

    def _keystore_document(self, keys: OrgKeys, passphrase: str, account_files: dict[str, Any]) -> bytes:
        identity = keys.identity.to_json()
        secret = {
            "signing": b64url_encode(keys.signing.export_private_bytes()),
            "encryption": b64url_encode(keys.encryption.export_private_bytes()),
            "sm2_signing": b64url_encode(keys.sm2_signing.export_private_bytes())
            if keys.sm2_signing
            else None,
            "sm2_encryption": b64url_encode(keys.sm2_encryption.export_private_bytes())
            if keys.sm2_encryption
            else None,
            "retired_encryption": [
                {"alg": k.algorithm, "key": b64url_encode(k.export_private_bytes())}
                for k in keys.retired_encryption
            ],
            # Binds the clear public part to the encrypted part: editing one without the other fails.
            "public_digest": b64url_encode(
                sha256(canonical_json({"identity": identity, "accounts": account_files}))
            ),
        }
        salt = secrets.token_bytes(nacl.pwhash.argon2id.SALTBYTES)
        key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=self.profile.argon2_opslimit,
            memlimit=self.profile.argon2_memlimit,
        )
        boxed = nacl.secret.SecretBox(key).encrypt(canonical_json(secret))
        return _with_checksum(
            {
                "kind": KEYSTORE_KIND,
                "version": FORMAT_VERSION,
                "suite": str(keys.suite),
                "identity": identity,
                "accounts": account_files,
                "kdf": {
                    "alg": "argon2id",
                    "opslimit": self.profile.argon2_opslimit,
                    "memlimit": self.profile.argon2_memlimit,
                    "salt": b64url_encode(salt),
                },
                "box": {
                    "alg": "xsalsa20-poly1305",
                    "nonce": b64url_encode(boxed.nonce),
                    "ciphertext": b64url_encode(boxed.ciphertext),
                },
            }
        )

    def create(
        self,
        org: str,
        passphrase: str | bytes,
        *,
        suite: Suite | str = Suite.INTL,
        uscc: str | None = None,
        uscc_override: IdentifierOverride | None = None,
    ) -> OrgKeys:
        """Create a keystore with fresh keys for `org`; raises `KeystoreExists` if it has one.

        The USCC, when given, is validated first (an override is recorded in the identity).
        """
        folder = self.folder(org)
        if folder.exists():
            raise KeystoreExists(
                folder, "a keystore already exists for this organisation; nothing was changed"
            )
        override_json: dict[str, str | int] | None = None
        if uscc is not None:
            info = validate_uscc(uscc, allow_override=uscc_override)
            uscc = info.code
            override_json = info.override.to_json() if info.override else None
        keys = OrgKeys.generate(org, suite=suite, uscc=uscc)
        if override_json is not None:
            keys = replace(keys, uscc_override=override_json)
        secret = _passphrase_text(folder, passphrase)
        account_name = f"account-{keys.account_address}.json"
        accounts = {"current": account_name, "retired": []}
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = self.root / f".{org}.staging-{secrets.token_hex(6)}"
        staging.mkdir(mode=0o700)
        try:
            write_file_atomic(
                staging / account_name, self._account_document(keys, keys.export_account_key(), secret)
            )
            write_file_atomic(staging / _KEYSTORE_FILE, self._keystore_document(keys, secret, accounts))
            try:
                os.rename(staging, folder)
            except OSError:
                raise KeystoreExists(
                    folder, "a keystore appeared for this organisation meanwhile; nothing was changed"
                ) from None
            _fsync_dir(self.root)
        finally:
            if staging.exists():
                for child in staging.iterdir():
                    child.unlink()
                staging.rmdir()
        return keys

    # -- reading -----------------------------------------------------------------------------

    def identity(self, org: str) -> OrgIdentity:
        """The public identity of `org`, read without the passphrase (no secret is decrypted)."""
        folder = self.folder(org)
        if not folder.is_dir():
            raise KeystoreNotFound(folder, "no keystore for this organisation")
        path = folder / _KEYSTORE_FILE
        document = _read_document(path, KEYSTORE_KIND)
        try:
            return OrgIdentity.from_json(document["identity"])
        except (KeyError, KeyFormatError) as exc:
            raise KeystoreCorrupted(path, f"identity block is malformed ({exc})") from None

    def _check_kdf(self, path: Path, kdf: Any) -> tuple[int, int, bytes]:
        try:
            ops, mem, salt = int(kdf["opslimit"]), int(kdf["memlimit"]), b64url_decode(kdf["salt"])
            if kdf["alg"] != "argon2id" or len(salt) != nacl.pwhash.argon2id.SALTBYTES:
                raise ValueError("unexpected KDF")
        except (KeyError, TypeError, ValueError) as exc:
            raise KeystoreCorrupted(path, f"KDF block is malformed ({exc})") from None
        if ops < self.profile.argon2_opslimit or mem < self.profile.argon2_memlimit:
            raise WeakKdfParameters(
                path,
                f"Argon2id opslimit={ops} memlimit={mem} is below the {self.profile.name!r} profile "
                f"({self.profile.argon2_opslimit}, {self.profile.argon2_memlimit})",
            )
        return ops, mem, salt

    def _load_account(self, path: Path, passphrase: str, org: str) -> bytes:
        document = _read_document(path, ACCOUNT_KIND)
        try:
            params = document["crypto"]["kdfparams"]
            kdf_name = document["crypto"]["kdf"]
        except (KeyError, TypeError):
            raise KeystoreCorrupted(path, "Ethereum keystore lacks crypto.kdf/kdfparams") from None
        if kdf_name != "scrypt":
            raise KeystoreCorrupted(path, f"account keystore uses {kdf_name!r}, expected scrypt")
        if (
            int(params.get("n", 0)) < self.profile.scrypt_n
            or int(params.get("r", 0)) < self.profile.scrypt_r
            or int(params.get("p", 0)) < self.profile.scrypt_p
        ):
            raise WeakKdfParameters(
                path, f"scrypt parameters {params} are below the {self.profile.name!r} profile"
            )
        if document["tdex"].get("org") != org:
            raise KeystoreCorrupted(
                path, f"account keystore belongs to {document['tdex'].get('org')!r}, not {org!r}"
            )
        v3 = {k: v for k, v in document.items() if k not in ("tdex", "checksum")}
        try:
            raw = bytes(Account.decrypt(v3, passphrase))
        except ValueError as exc:
            # The checksum proved the file intact, so a MAC mismatch means the passphrase is wrong.
            if "MAC mismatch" in str(exc):
                raise WrongPassphrase(
                    path, "wrong passphrase (the file is intact but does not decrypt)"
                ) from None
            raise KeystoreCorrupted(path, f"Ethereum keystore does not decrypt ({exc})") from None
        return raw

    def load(self, org: str, passphrase: str | bytes) -> OrgKeys:
        """Decrypt and return `org`'s keys; raises a `KeystoreError` subclass naming the file and fault."""
        folder = self.folder(org)
        if not folder.is_dir():
            raise KeystoreNotFound(folder, "no keystore for this organisation")
        path = folder / _KEYSTORE_FILE
        document = _read_document(path, KEYSTORE_KIND)
        secret_pw = _passphrase_text(path, passphrase)
        ops, mem, salt = self._check_kdf(path, document.get("kdf"))
        try:
            box = document["box"]
            nonce, ciphertext = b64url_decode(box["nonce"]), b64url_decode(box["ciphertext"])
            accounts = document["accounts"]
            identity_json = document["identity"]
            suite = Suite.parse(document["suite"])
        except (KeyError, TypeError, ValueError, UnsupportedSuite) as exc:
            raise KeystoreCorrupted(path, f"keystore block is malformed ({exc})") from None
        key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, secret_pw.encode("utf-8"), salt, opslimit=ops, memlimit=mem
        )
        try:
            plaintext = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
            raise WrongPassphrase(
                path, "wrong passphrase (the file is intact but does not decrypt)"
            ) from None
        try:
            secret = parse_json(plaintext)
            expected = b64url_encode(
                sha256(canonical_json({"identity": identity_json, "accounts": accounts}))
            )
            if secret["public_digest"] != expected:
                raise ValueError("public part does not match the encrypted part")
            identity = OrgIdentity.from_json(identity_json)
            retired_encryption: tuple[EncryptionKey, ...] = tuple(
                EncryptionKey.from_private_bytes(item["alg"], b64url_decode(item["key"]))
                for item in secret["retired_encryption"]
            )
            keys_partial = {
                "signing": Ed25519SigningKey(b64url_decode(secret["signing"])),
                "encryption": X25519EncryptionKey(b64url_decode(secret["encryption"])),
                "sm2_signing": SM2SigningKey(b64url_decode(secret["sm2_signing"]))
                if secret["sm2_signing"]
                else None,
                "sm2_encryption": SM2EncryptionKey(b64url_decode(secret["sm2_encryption"]))
                if secret["sm2_encryption"]
                else None,
            }
        except (KeyError, TypeError, ValueError, KeyFormatError) as exc:
            raise KeystoreCorrupted(path, f"decrypted keys are inconsistent ({exc})") from None
        account = self._load_account(folder / str(accounts["current"]), secret_pw, org)
        retired_accounts = tuple(
            self._load_account(folder / str(name), secret_pw, org) for name in accounts.get("retired", [])
        )
        keys = OrgKeys(
            org=identity.org,
            suite=suite,
            _account_key=account,
            uscc=identity.uscc,
            retired_encryption=retired_encryption,
            retired_signing=identity.retired_signing_keys,
            retired_accounts=retired_accounts,
            rotations=identity.rotations,
            uscc_override=identity.uscc_override,
            **keys_partial,  # type: ignore[arg-type]
        )
        if keys.identity != identity:
            raise KeystoreCorrupted(path, "the stored identity does not match the decrypted keys")
        if identity.org != org:
            raise KeystoreCorrupted(path, f"keystore belongs to {identity.org!r}, not {org!r}")
        return keys

    # -- rotation ----------------------------------------------------------------------------

    def rotate(
        self,
        org: str,
        passphrase: str | bytes,
        which: Which,
        *,
        on_account_rotated: Callable[[AccountRotation], None] | None = None,
    ) -> RotationResult:
        """Rotate `which` keys of `org` and persist the result atomically.

        For `account`, the new account file is written first under a new name, then the keystore
        file is replaced (the commit point), then `on_account_rotated` is called with the record
        for the ledger to send `Consortium.rotateAccount`. If that hook fails, the local rotation
        stands and the old account key stays available through `export_account_key(old_address)`.
        """
        keys = self.load(org, passphrase)
        result = keys.rotate(which)
        folder = self.folder(org)
        path = folder / _KEYSTORE_FILE
        current = _read_document(path, KEYSTORE_KIND)["accounts"]
        secret = _passphrase_text(path, passphrase)
        accounts = dict(current)
        if result.account is not None:
            new_name = f"account-{result.account.new_address}.json"
            write_file_atomic(
                folder / new_name,
                self._account_document(result.keys, result.keys.export_account_key(), secret),
            )
            accounts = {"current": new_name, "retired": [current["current"], *current.get("retired", [])]}
        write_file_atomic(path, self._keystore_document(result.keys, secret, accounts))
        if result.account is not None and on_account_rotated is not None:
            on_account_rotated(result.account)
        return result
