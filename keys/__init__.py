"""Identities, keystores, canonical JSON, signatures, envelopes and crypto suites for tdex.

Every signature, hash, envelope and keystore of the project goes through this package; no other
package imports PyNaCl or `cryptography` directly. See docs/keys.md for how to use it.
"""

from __future__ import annotations

from keys import errors
from keys._canonical import canonical_json, parse_json
from keys._envelope import (
    EncryptionKey,
    PublicEncryptionKey,
    SM2EncryptionKey,
    SM2PublicEncryptionKey,
    X25519EncryptionKey,
    X25519PublicEncryptionKey,
    decrypt_object,
    encrypt_object,
    open_sealed,
    public_encryption_key_from_multibase,
    rewrap_object,
    seal,
    x25519_shared_key,
)
from keys._hashes import digest, digest_name, hmac_digest, keccak256, sha256, sm3
from keys._httpsig import (
    InMemoryReplayCache,
    ReplayCache,
    VerifiedRequest,
    content_digest,
    sign_request,
    verify_request,
)
from keys._identifiers import (
    IdentifierOverride,
    OverrideRecord,
    ResidentIdInfo,
    UsccInfo,
    org_code_check,
    subject_ref,
    uscc_check_char,
    validate_identifier,
    validate_resident_id,
    validate_uscc,
)
from keys._identity import (
    AccountRotation,
    OrgIdentity,
    OrgKeys,
    RetiredKey,
    RotationResult,
    verify_rotation,
)
from keys._keystore import KDF_PROFILES, KdfProfile, Keystore, write_file_atomic
from keys._signing import (
    Ed25519SigningKey,
    Ed25519VerifyKey,
    SigningKey,
    SM2SigningKey,
    SM2VerifyKey,
    VerifiedDocument,
    VerifyKey,
    verify_document,
    verify_key_from_did,
    verify_signed,
)
from keys._suite import Suite
from keys.errors import DecryptionFailed, KeysError

__all__ = [
    "KDF_PROFILES",
    "AccountRotation",
    "DecryptionFailed",
    "Ed25519SigningKey",
    "Ed25519VerifyKey",
    "EncryptionKey",
    "IdentifierOverride",
    "InMemoryReplayCache",
    "KdfProfile",
    "KeysError",
    "Keystore",
    "OrgIdentity",
    "OrgKeys",
    "OverrideRecord",
    "PublicEncryptionKey",
    "ReplayCache",
    "ResidentIdInfo",
    "RetiredKey",
    "RotationResult",
    "SM2EncryptionKey",
    "SM2PublicEncryptionKey",
    "SM2SigningKey",
    "SM2VerifyKey",
    "SigningKey",
    "Suite",
    "UsccInfo",
    "VerifiedDocument",
    "VerifiedRequest",
    "VerifyKey",
    "X25519EncryptionKey",
    "X25519PublicEncryptionKey",
    "canonical_json",
    "content_digest",
    "decrypt_object",
    "digest",
    "digest_name",
    "encrypt_object",
    "errors",
    "hmac_digest",
    "keccak256",
    "open_sealed",
    "org_code_check",
    "parse_json",
    "public_encryption_key_from_multibase",
    "rewrap_object",
    "seal",
    "sha256",
    "sign_request",
    "sm3",
    "subject_ref",
    "uscc_check_char",
    "validate_identifier",
    "validate_resident_id",
    "validate_uscc",
    "verify_document",
    "verify_key_from_did",
    "verify_request",
    "verify_rotation",
    "verify_signed",
    "write_file_atomic",
    "x25519_shared_key",
]
