"""Organisation identities: the public `OrgIdentity`, the private `OrgKeys`, and key rotation.

Every organisation holds a secp256k1 account key (chain transactions), an Ed25519 signing key
(its did:key), an X25519 encryption key, and under the `gm` suite an SM2 signing key and an SM2
encryption key as well (GM/T 0010 keeps signing and encryption key pairs apart). The suite picks
which signing and encryption key the organisation uses by default; Ed25519 and X25519 stay for
did:key credentials and the sandbox's pairwise masks whatever the suite.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import encode_defunct

from keys._canonical import canonical_json
from keys._envelope import (
    EncryptionKey,
    PublicEncryptionKey,
    SM2EncryptionKey,
    SM2PublicEncryptionKey,
    X25519EncryptionKey,
    X25519PublicEncryptionKey,
    open_sealed,
    public_encryption_key_from_multibase,
)
from keys._signing import (
    Ed25519SigningKey,
    Ed25519VerifyKey,
    SigningKey,
    SM2SigningKey,
    SM2VerifyKey,
    VerifyKey,
    utc_timestamp,
    verify_key_from_did,
    verify_signed,
)
from keys._suite import Suite
from keys.errors import KeyFormatError, RotationError, SignedDocumentMalformed, WrongSigner

__all__ = [
    "IDENTITY_KIND",
    "ROTATION_KIND",
    "AccountRotation",
    "OrgIdentity",
    "OrgKeys",
    "RetiredKey",
    "RotationResult",
    "Which",
    "account_address",
    "verify_rotation",
]

IDENTITY_KIND = "tdex.org-identity"
ROTATION_KIND = "tdex.key-rotation"
Which = Literal["signing", "encryption", "account"]
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def account_address(private_key: bytes) -> str:
    """The EIP-55 checksummed address of a secp256k1 private key."""
    return str(Account.from_key(private_key).address)


def _new_account_key() -> bytes:
    while True:
        raw = secrets.token_bytes(32)
        if 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
            return raw


@dataclass(frozen=True, slots=True)
class RetiredKey:
    """A signing key that was replaced: still good for what it signed before `retired_at`."""

    key: VerifyKey
    retired_at: str

    def to_json(self) -> dict[str, str]:
        """JSON form: the did:key and the retirement time."""
        return {"did": self.key.did, "retired_at": self.retired_at}


@dataclass(frozen=True, slots=True)
class OrgIdentity:
    """The public identity of an organisation: no secret in it, safe to publish and to store in SQL."""

    org: str
    suite: Suite
    signing_key: Ed25519VerifyKey
    encryption_key: X25519PublicEncryptionKey
    chain_address: str
    uscc: str | None = None
    sm2_signing_key: SM2VerifyKey | None = None
    sm2_encryption_key: SM2PublicEncryptionKey | None = None
    retired_signing_keys: tuple[RetiredKey, ...] = ()
    rotations: tuple[dict[str, Any], ...] = ()
    uscc_override: dict[str, str | int] | None = None

    @property
    def did(self) -> str:
        """The did:key of the Ed25519 signing key (`did:key:z6Mk…`)."""
        return self.signing_key.did

    @property
    def verify_key(self) -> VerifyKey:
        """The current signing key of the organisation's suite (Ed25519 or SM2)."""
        if self.suite is Suite.GM:
            assert self.sm2_signing_key is not None
            return self.sm2_signing_key
        return self.signing_key

    @property
    def public_encryption_key(self) -> PublicEncryptionKey:
        """The current encryption key of the organisation's suite (X25519 or SM2): seal to this."""
        if self.suite is Suite.GM:
            assert self.sm2_encryption_key is not None
            return self.sm2_encryption_key
        return self.encryption_key

    def current_verify_keys(self) -> list[VerifyKey]:
        """Every current signing key (Ed25519, and SM2 under `gm`)."""
        return [self.signing_key] + ([self.sm2_signing_key] if self.sm2_signing_key else [])

    def verify_document(self, document: Mapping[str, Any]) -> Any:
        """Verify a document signed by this organisation's current or retired keys; return the payload.

        A retired key is accepted only for documents it claims to have signed before it was
        retired. `created` is chosen by the signer, so this stops mistakes, not a thief of an
        old key: a compromised key must also be revoked on chain.
        """
        retired = {r.key.key_id: r for r in self.retired_signing_keys}
        trusted = self.current_verify_keys() + [r.key for r in self.retired_signing_keys]
        result = verify_signed(document, trusted=trusted)
        old = retired.get(result.signer.key_id)
        if old is not None and result.created > old.retired_at:
            raise WrongSigner(f"document created {result.created} by a key retired at {old.retired_at}")
        return result.payload

    def to_json(self) -> dict[str, Any]:
        """The identity as a JSON object (kind `tdex.org-identity`, version 1)."""
        return {
            "kind": IDENTITY_KIND,
            "version": 1,
            "org": self.org,
            "suite": str(self.suite),
            "did": self.did,
            "x25519": self.encryption_key.multibase,
            "chain_address": self.chain_address,
            "uscc": self.uscc,
            "uscc_override": self.uscc_override,
            "sm2_signing": self.sm2_signing_key.did if self.sm2_signing_key else None,
            "sm2_encryption": self.sm2_encryption_key.multibase if self.sm2_encryption_key else None,
            "retired_signing": [r.to_json() for r in self.retired_signing_keys],
            "rotations": list(self.rotations),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrgIdentity:
        """Inverse of `to_json`; raises `KeyFormatError` on a malformed identity."""
        if data.get("kind") != IDENTITY_KIND or data.get("version") != 1:
            raise KeyFormatError("not a tdex.org-identity version 1 object")
        try:
            signing = verify_key_from_did(data["did"])
            encryption = public_encryption_key_from_multibase(data["x25519"])
            sm2_sign = verify_key_from_did(data["sm2_signing"]) if data.get("sm2_signing") else None
            sm2_enc = (
                public_encryption_key_from_multibase(data["sm2_encryption"])
                if data.get("sm2_encryption")
                else None
            )
            retired = tuple(
                RetiredKey(verify_key_from_did(r["did"]), str(r["retired_at"]))
                for r in data.get("retired_signing", [])
            )
            identity = cls(
                org=str(data["org"]),
                suite=Suite.parse(data["suite"]),
                signing_key=signing,  # type: ignore[arg-type]
                encryption_key=encryption,  # type: ignore[arg-type]
                chain_address=str(data["chain_address"]),
                uscc=data.get("uscc"),
                sm2_signing_key=sm2_sign,  # type: ignore[arg-type]
                sm2_encryption_key=sm2_enc,  # type: ignore[arg-type]
                retired_signing_keys=retired,
                rotations=tuple(data.get("rotations", [])),
                uscc_override=data.get("uscc_override"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFormatError(f"malformed identity: {exc}") from None
        if not isinstance(identity.signing_key, Ed25519VerifyKey) or not isinstance(
            identity.encryption_key, X25519PublicEncryptionKey
        ):
            raise KeyFormatError("identity did must be Ed25519 and x25519 an X25519 key")
        if identity.suite is Suite.GM and (sm2_sign is None or sm2_enc is None):
            raise KeyFormatError("a gm identity needs SM2 signing and encryption keys")
        return identity


@dataclass(frozen=True, slots=True)
class AccountRotation:
    """The record of an account-key rotation, for the ledger to anchor with `Consortium.rotateAccount`.

    `statement` is signed by the organisation's signing key; `old_account_signature` and
    `new_account_signature` are EIP-191 signatures by the old and the new account over the
    canonical statement (the new one proves possession, so nobody binds another's address).
    """

    org: str
    old_address: str
    new_address: str
    statement: dict[str, Any]
    old_account_signature: str
    new_account_signature: str

    def verify(self, trusted: Iterable[VerifyKey]) -> None:
        """Check the statement's signature against `trusted` and both account signatures; raises."""
        payload = verify_signed(self.statement, trusted=trusted).payload
        if payload.get("old") != self.old_address or payload.get("new") != self.new_address:
            raise RotationError("account rotation statement names other addresses")
        message = encode_defunct(primitive=canonical_json(self.statement))
        for address, signature in (
            (self.old_address, self.old_account_signature),
            (self.new_address, self.new_account_signature),
        ):
            try:
                recovered = Account.recover_message(
                    message, signature=bytes.fromhex(signature.removeprefix("0x"))
                )
            except Exception as exc:  # eth-keys raises several unrelated types for a malformed signature
                raise RotationError(f"account signature for {address} is malformed") from exc
            if recovered != address:
                raise RotationError(f"account signature is by {recovered}, not {address}")

    def to_json(self) -> dict[str, Any]:
        """JSON form (kind `tdex.account-rotation`, version 1)."""
        return {
            "kind": "tdex.account-rotation",
            "version": 1,
            "org": self.org,
            "old_address": self.old_address,
            "new_address": self.new_address,
            "statement": self.statement,
            "old_account_signature": self.old_account_signature,
            "new_account_signature": self.new_account_signature,
        }


@dataclass(frozen=True)
class RotationResult:
    """What a rotation produced: the new keys, the signed statements, and the account record if any."""

    keys: OrgKeys
    statements: tuple[dict[str, Any], ...]
    account: AccountRotation | None = None


@dataclass(frozen=True)
class OrgKeys:
    """The private keys of an organisation. Never serialized in clear; persisted only by `Keystore`.

    The account key is reachable only through `export_account_key()`.
    """

    org: str
    suite: Suite
    signing: Ed25519SigningKey
    encryption: X25519EncryptionKey
    _account_key: bytes = field(repr=False)
    uscc: str | None = None
    sm2_signing: SM2SigningKey | None = None
    sm2_encryption: SM2EncryptionKey | None = None
    retired_encryption: tuple[EncryptionKey, ...] = ()
    retired_signing: tuple[RetiredKey, ...] = ()
    retired_accounts: tuple[bytes, ...] = field(default=(), repr=False)
    rotations: tuple[dict[str, Any], ...] = ()
    uscc_override: dict[str, str | int] | None = None

    @classmethod
    def generate(cls, org: str, *, suite: Suite | str = Suite.INTL, uscc: str | None = None) -> OrgKeys:
        """Fresh keys for `org` under `suite` (the USCC, if any, should already be validated)."""
        chosen = Suite.parse(suite)
        gm = chosen is Suite.GM
        return cls(
            org=org,
            suite=chosen,
            signing=Ed25519SigningKey.generate(),
            encryption=X25519EncryptionKey.generate(),
            _account_key=_new_account_key(),
            uscc=uscc,
            sm2_signing=SM2SigningKey.generate() if gm else None,
            sm2_encryption=SM2EncryptionKey.generate() if gm else None,
        )

    def is_private(self) -> bool:
        """True: this object holds secrets."""
        return True

    @property
    def account_address(self) -> str:
        """The current chain address (EIP-55)."""
        return account_address(self._account_key)

    def export_account_key(self, address: str | None = None) -> bytes:
        """The 32-byte secp256k1 key of the current account (or of a retired one by `address`).

        Deliberately a method: the ledger calls it to sign transactions; nothing else should.
        """
        if address is None or address.lower() == self.account_address.lower():
            return self._account_key
        for old in self.retired_accounts:
            if account_address(old).lower() == address.lower():
                return old
        raise KeyFormatError(f"{self.org} holds no account key for {address}")

    @property
    def signer(self) -> SigningKey:
        """The suite's current signing key (Ed25519 under `intl`, SM2 under `gm`)."""
        if self.suite is Suite.GM:
            assert self.sm2_signing is not None
            return self.sm2_signing
        return self.signing

    @property
    def decryption_keys(self) -> list[EncryptionKey]:
        """Every key that may open an envelope to this organisation: current ones, then retired."""
        current: list[EncryptionKey] = [self.encryption]
        if self.sm2_encryption is not None:
            current.append(self.sm2_encryption)
        return current + list(self.retired_encryption)

    @property
    def identity(self) -> OrgIdentity:
        """The public identity matching these keys."""
        return OrgIdentity(
            org=self.org,
            suite=self.suite,
            signing_key=self.signing.verify_key,
            encryption_key=self.encryption.public_key,
            chain_address=self.account_address,
            uscc=self.uscc,
            sm2_signing_key=self.sm2_signing.verify_key if self.sm2_signing else None,
            sm2_encryption_key=self.sm2_encryption.public_key if self.sm2_encryption else None,
            retired_signing_keys=self.retired_signing,
            rotations=self.rotations,
            uscc_override=self.uscc_override,
        )

    def sign_document(self, payload: Any, *, created: datetime | None = None) -> dict[str, Any]:
        """Sign `payload` with the suite's signing key."""
        return self.signer.sign_document(payload, created=created)

    def open_sealed(self, envelope: bytes, *, aad: bytes = b"") -> bytes:
        """Open an envelope sealed to any current or retired key of this organisation."""
        return open_sealed(self.decryption_keys, envelope, aad=aad)

    def _statement(self, which: Which, algorithm: str, old: str, new: str, at: str) -> dict[str, Any]:
        return {
            "kind": ROTATION_KIND,
            "version": 1,
            "org": self.org,
            "which": which,
            "algorithm": algorithm,
            "old": old,
            "new": new,
            "at": at,
        }

    def rotate(self, which: Which, *, at: datetime | None = None) -> RotationResult:
        """Replace the `signing`, `encryption` or `account` keys; returns new keys and signed statements.

        Signing: each signing key (Ed25519, and SM2 under `gm`) is replaced and its statement is
        signed by the old key it replaces; the old public keys stay for verification.
        Encryption: the X25519 (and SM2) keys are replaced, statements signed by the signing key,
        and the old private keys stay so old envelopes still open. Account: a new secp256k1 key;
        the old key stays (the ledger may need it to send `rotateAccount`).
        """
        when = utc_timestamp(at)
        if which == "signing":
            new_ed = Ed25519SigningKey.generate()
            statements = [
                self.signing.sign_document(
                    self._statement(
                        which, "Ed25519", self.signing.verify_key.did, new_ed.verify_key.did, when
                    ),
                    created=at,
                )
            ]
            retired = [RetiredKey(self.signing.verify_key, when)]
            new_sm2 = None
            if self.sm2_signing is not None:
                new_sm2 = SM2SigningKey.generate()
                statements.append(
                    self.sm2_signing.sign_document(
                        self._statement(
                            which, "SM2", self.sm2_signing.verify_key.did, new_sm2.verify_key.did, when
                        ),
                        created=at,
                    )
                )
                retired.append(RetiredKey(self.sm2_signing.verify_key, when))
            keys = replace(
                self,
                signing=new_ed,
                sm2_signing=new_sm2,
                retired_signing=self.retired_signing + tuple(retired),
                rotations=self.rotations + tuple(statements),
            )
            return RotationResult(keys=keys, statements=tuple(statements))
        if which == "encryption":
            new_x = X25519EncryptionKey.generate()
            statements = [
                self.signer.sign_document(
                    self._statement(
                        which,
                        "X25519",
                        self.encryption.public_key.multibase,
                        new_x.public_key.multibase,
                        when,
                    ),
                    created=at,
                )
            ]
            old_keys: list[EncryptionKey] = [self.encryption]
            new_sm2_enc = None
            if self.sm2_encryption is not None:
                new_sm2_enc = SM2EncryptionKey.generate()
                statements.append(
                    self.signer.sign_document(
                        self._statement(
                            which,
                            "SM2",
                            self.sm2_encryption.public_key.multibase,
                            new_sm2_enc.public_key.multibase,
                            when,
                        ),
                        created=at,
                    )
                )
                old_keys.append(self.sm2_encryption)
            keys = replace(
                self,
                encryption=new_x,
                sm2_encryption=new_sm2_enc,
                retired_encryption=tuple(old_keys) + self.retired_encryption,
                rotations=self.rotations + tuple(statements),
            )
            return RotationResult(keys=keys, statements=tuple(statements))
        if which == "account":
            new_account = _new_account_key()
            old_address, new_address = self.account_address, account_address(new_account)
            statement = self.signer.sign_document(
                self._statement(which, "secp256k1", old_address, new_address, when), created=at
            )
            message = encode_defunct(primitive=canonical_json(statement))
            record = AccountRotation(
                org=self.org,
                old_address=old_address,
                new_address=new_address,
                statement=statement,
                old_account_signature=Account.sign_message(
                    message, private_key=self._account_key
                ).signature.hex(),
                new_account_signature=Account.sign_message(message, private_key=new_account).signature.hex(),
            )
            keys = replace(
                self,
                _account_key=new_account,
                retired_accounts=(self._account_key, *self.retired_accounts),
                rotations=(*self.rotations, statement),
            )
            return RotationResult(keys=keys, statements=(statement,), account=record)
        raise RotationError(f"unknown key kind {which!r}; expected signing, encryption or account")


def verify_rotation(
    statement: Mapping[str, Any], trusted: Iterable[VerifyKey] | None = None
) -> dict[str, Any]:
    """Verify a rotation statement and return its payload.

    A signing-key rotation must be signed by the old key it names (no `trusted` needed); an
    encryption or account rotation must be signed by one of `trusted` (the organisation's
    signing keys at the time).
    """
    result = verify_signed(statement, trusted=trusted)
    payload = result.payload
    if not isinstance(payload, dict) or payload.get("kind") != ROTATION_KIND or payload.get("version") != 1:
        raise SignedDocumentMalformed("not a tdex.key-rotation version 1 statement")
    if payload.get("which") == "signing":
        if payload.get("old") != result.signer.did:
            raise RotationError("a signing-key rotation must be signed by the key it retires")
    elif trusted is None:
        raise RotationError(
            f"a {payload.get('which')} rotation needs the organisation's trusted signing keys"
        )
    return payload
