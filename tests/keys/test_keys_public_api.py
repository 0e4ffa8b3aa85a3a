"""The public surface of `keys`: locked names, stable error codes, no imports of other packages."""

from __future__ import annotations

import ast
from pathlib import Path

import keys
from keys import errors

EXPECTED_ALL = {
    "KDF_PROFILES", "AccountRotation", "DecryptionFailed", "Ed25519SigningKey", "Ed25519VerifyKey",
    "EncryptionKey", "IdentifierOverride", "InMemoryReplayCache", "KdfProfile", "KeysError", "Keystore",
    "OrgIdentity", "OrgKeys", "OverrideRecord", "PublicEncryptionKey", "ReplayCache", "ResidentIdInfo",
    "RetiredKey", "RotationResult", "SM2EncryptionKey", "SM2PublicEncryptionKey", "SM2SigningKey",
    "SM2VerifyKey", "SigningKey", "Suite", "UsccInfo", "VerifiedDocument", "VerifiedRequest", "VerifyKey",
    "X25519EncryptionKey", "X25519PublicEncryptionKey", "canonical_json", "content_digest", "decrypt_object",
    "digest", "digest_name", "encrypt_object", "errors", "hmac_digest", "keccak256", "open_sealed",
    "org_code_check", "parse_json", "public_encryption_key_from_multibase", "rewrap_object", "seal", "sha256",
    "sign_request", "uscc_check_char",
    "sm3", "subject_ref", "validate_identifier", "validate_resident_id", "validate_uscc", "verify_document",
    "verify_key_from_did", "verify_request", "verify_rotation", "verify_signed", "write_file_atomic",
    "x25519_shared_key",
}  # fmt: skip

EXPECTED_CODES = {
    "KeysError": "keys.error",
    "CanonicalizationError": "keys.canonical.invalid",
    "UnsupportedSuite": "keys.suite.unsupported",
    "KeyFormatError": "keys.key.invalid",
    "SignatureError": "keys.signature.error",
    "SignatureInvalid": "keys.signature.invalid",
    "SignedDocumentMalformed": "keys.signature.malformed",
    "WrongSigner": "keys.signature.wrong_key",
    "DecryptionFailed": "keys.decryption_failed",
    "RequestSignatureError": "keys.http.error",
    "RequestSignatureMissing": "keys.http.missing",
    "RequestSignatureExpired": "keys.http.expired",
    "RequestReplayed": "keys.http.replayed",
    "ContentDigestMismatch": "keys.http.bad_digest",
    "RequestSignatureInvalid": "keys.http.bad_signature",
    "UnknownKeyId": "keys.http.unknown_key",
    "IdentifierError": "keys.identifier.error",
    "IdentifierFormatError": "keys.identifier.format",
    "CheckCharacterMismatch": "keys.identifier.check",
    "InvalidBirthDate": "keys.identifier.date",
    "OverrideMismatch": "keys.identifier.override",
    "KeystoreError": "keys.keystore.error",
    "KeystoreNotFound": "keys.keystore.not_found",
    "KeystoreExists": "keys.keystore.exists",
    "WrongPassphrase": "keys.keystore.wrong_passphrase",
    "KeystoreCorrupted": "keys.keystore.corrupted",
    "KeystoreTruncated": "keys.keystore.truncated",
    "KeystoreVersionUnsupported": "keys.keystore.unknown_version",
    "WeakKdfParameters": "keys.keystore.weak_kdf",
    "RotationError": "keys.rotation.invalid",
}


def test_public_names_are_locked() -> None:
    """`keys.__all__` is exactly the documented surface, and every name resolves."""
    assert set(keys.__all__) == EXPECTED_ALL
    for name in keys.__all__:
        assert getattr(keys, name) is not None


def test_error_codes_are_stable_and_unique() -> None:
    """Every error class has its documented code, all codes differ, and all derive from `KeysError`."""
    classes = {name: getattr(errors, name) for name in errors.__all__}
    assert {name: cls.code for name, cls in classes.items()} == EXPECTED_CODES
    assert len(set(EXPECTED_CODES.values())) == len(EXPECTED_CODES)
    assert all(issubclass(cls, errors.KeysError) for cls in classes.values())


def test_keys_imports_no_other_project_package() -> None:
    """No module of `keys` imports ledger, sandbox, exchange_api, tdex, contracts or bench."""
    forbidden = {"ledger", "sandbox", "exchange_api", "tdex", "contracts", "bench", "tlog"}
    for path in Path(keys.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & forbidden, f"{path.name} imports {roots & forbidden}"
