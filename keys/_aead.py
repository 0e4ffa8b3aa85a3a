"""The suite's AEAD: AES-256-GCM under `intl`, SM4-GCM under `gm`; failures become `DecryptionFailed`."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys._suite import Suite
from keys.errors import DecryptionFailed

__all__ = ["NONCE_LEN", "TAG_LEN", "aead_decrypt", "aead_encrypt", "aead_encrypt_into", "aead_key_len"]

NONCE_LEN = 12
TAG_LEN = 16


def aead_key_len(suite: Suite) -> int:
    """Key length in bytes: 32 for AES-256-GCM, 16 for SM4-GCM (SM4 has a 128-bit key)."""
    return 16 if suite is Suite.GM else 32


def aead_encrypt(suite: Suite, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate; returns ciphertext‖tag (16-byte tag)."""
    if suite is Suite.GM:
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return body + enc.tag
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_encrypt_into(
    suite: Suite, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes, out: memoryview
) -> None:
    """Like `aead_encrypt`, writing ciphertext‖tag into `out` (exactly len(plaintext) + 16 bytes).

    Large objects are encrypted straight into the caller's buffer after its header, which saves
    allocating and copying the ciphertext a second time.
    """
    if suite is Suite.GM:
        # SM4-GCM runs at a few tens of MB/s here, so the extra copy does not matter.
        out[:] = aead_encrypt(suite, key, nonce, plaintext, aad)
        return
    AESGCM(key).encrypt_into(nonce, plaintext, aad, out)


def aead_decrypt(suite: Suite, key: bytes, nonce: bytes, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
    """Inverse of `aead_encrypt`; any failure raises the opaque `DecryptionFailed`."""
    if len(ciphertext) < TAG_LEN:
        raise DecryptionFailed()
    try:
        if suite is Suite.GM:
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, bytes(ciphertext[-TAG_LEN:]))).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(ciphertext[:-TAG_LEN]) + dec.finalize()
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed() from None
