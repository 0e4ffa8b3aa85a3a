"""Sealed envelopes, data-at-rest objects and the X25519 key-agreement helper, through both suites."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keys_constants import EXAMPLES

from keys import (
    EncryptionKey,
    SM2EncryptionKey,
    Suite,
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
from keys.errors import DecryptionFailed, KeyFormatError, UnsupportedSuite

# Keys are made once per suite: SM2 key generation is pure Python.
KEYS = {Suite.INTL: EncryptionKey.generate("intl"), Suite.GM: EncryptionKey.generate("gm")}
OTHER = {Suite.INTL: EncryptionKey.generate("intl"), Suite.GM: EncryptionKey.generate("gm")}


def test_seal_names_version_and_suite(suite: Suite) -> None:
    """The envelope starts with the magic, version 1, the suite byte and the sealed kind."""
    envelope = seal(KEYS[suite].public_key, b"result")
    assert envelope[:4] == b"TDXE"
    assert envelope[4:7] == bytes([1, 1 if suite is Suite.INTL else 2, 1])
    assert open_sealed(KEYS[suite], envelope) == b"result"


def _round_trip_and_tamper(suite: Suite, plaintext: bytes, aad: bytes, index: int, flip: int) -> None:
    key = KEYS[suite]
    envelope = seal(key.public_key, plaintext, aad=aad)
    assert open_sealed(key, envelope, aad=aad) == plaintext
    tampered = bytearray(envelope)
    tampered[index % len(envelope)] ^= flip
    with pytest.raises(DecryptionFailed):
        open_sealed(key, bytes(tampered), aad=aad)


@settings(max_examples=EXAMPLES[Suite.INTL])
@given(st.binary(max_size=200), st.binary(max_size=16), st.integers(min_value=0), st.integers(1, 255))
def test_property_intl_round_trip_and_any_changed_byte(
    plaintext: bytes, aad: bytes, index: int, flip: int
) -> None:
    """Under intl every envelope opens, and changing any byte makes it fail with `DecryptionFailed`."""
    _round_trip_and_tamper(Suite.INTL, plaintext, aad, index, flip)


@settings(max_examples=EXAMPLES[Suite.GM])
@given(st.binary(max_size=200), st.binary(max_size=16), st.integers(min_value=0), st.integers(1, 255))
def test_property_gm_round_trip_and_any_changed_byte(
    plaintext: bytes, aad: bytes, index: int, flip: int
) -> None:
    """Under gm every envelope opens, and changing any byte makes it fail with `DecryptionFailed`."""
    _round_trip_and_tamper(Suite.GM, plaintext, aad, index, flip)


def test_every_failure_is_the_same_opaque_error(suite: Suite) -> None:
    """Wrong key, wrong aad, truncation and garbage all raise one `DecryptionFailed` with one message."""
    envelope = seal(KEYS[suite].public_key, b"secret", aad=b"job-1")
    failures = [
        lambda: open_sealed(OTHER[suite], envelope, aad=b"job-1"),
        lambda: open_sealed(KEYS[suite], envelope, aad=b"job-2"),
        lambda: open_sealed(KEYS[suite], envelope[:-1], aad=b"job-1"),
        lambda: open_sealed(KEYS[suite], envelope[:10], aad=b"job-1"),
        lambda: open_sealed(KEYS[suite], b"", aad=b"job-1"),
        lambda: open_sealed(KEYS[suite], b"TDXE\x02" + envelope[5:], aad=b"job-1"),
    ]
    messages = set()
    for failure in failures:
        with pytest.raises(DecryptionFailed) as info:
            failure()
        assert info.value.code == "keys.decryption_failed"
        messages.add(str(info.value))
    assert messages == {"decryption failed"}


def test_an_object_is_not_an_envelope(suite: Suite) -> None:
    """An encrypted object cannot be opened as a sealed envelope, nor the reverse (kind byte)."""
    key = KEYS[suite]
    with pytest.raises(DecryptionFailed):
        open_sealed(key, encrypt_object(key, b"x", b""))
    with pytest.raises(DecryptionFailed):
        decrypt_object(key, seal(key.public_key, b"x"), b"")


def test_retired_keys_open_old_envelopes(suite: Suite) -> None:
    """Given current and retired keys, the envelope's fingerprint picks the right one."""
    old, new = KEYS[suite], OTHER[suite]
    envelope = seal(old.public_key, b"before rotation")
    assert open_sealed([new, old], envelope) == b"before rotation"


def test_suite_must_match_the_recipient_key() -> None:
    """Asking for a gm envelope to an X25519 key raises `UnsupportedSuite`."""
    with pytest.raises(UnsupportedSuite):
        seal(KEYS[Suite.INTL].public_key, b"x", suite="gm")


def test_objects_round_trip_and_bind_their_aad(suite: Suite) -> None:
    """`encrypt_object` output decrypts only with the same aad; each object has a fresh data key."""
    key = KEYS[suite]
    first = encrypt_object(key.public_key, b"rows" * 100, b"dataset-7/v2")
    second = encrypt_object(key.public_key, b"rows" * 100, b"dataset-7/v2")
    assert isinstance(first, bytearray) and first != second
    assert decrypt_object(key, memoryview(second), b"dataset-7/v2") == b"rows" * 100
    assert decrypt_object(key, first, b"dataset-7/v2") == b"rows" * 100
    with pytest.raises(DecryptionFailed):
        decrypt_object(key, first, b"dataset-7/v3")


def test_rewrap_moves_an_object_to_a_new_holder_key(suite: Suite) -> None:
    """After rotation an object is re-wrapped for the new key and the old key no longer opens it."""
    old, new = KEYS[suite], OTHER[suite]
    blob = encrypt_object(old, b"data", b"aad")
    moved = rewrap_object(old, blob, new.public_key, b"aad")
    assert decrypt_object(new, moved, b"aad") == b"data"
    with pytest.raises(DecryptionFailed):
        decrypt_object(old, moved, b"aad")


def test_gm_objects_use_sm4_and_intl_objects_aes256() -> None:
    """The data key is 16 bytes (SM4) under gm and 32 bytes (AES-256) under intl."""
    from keys._aead import aead_key_len

    assert aead_key_len(Suite.GM) == 16 and aead_key_len(Suite.INTL) == 32


def test_private_bytes_and_multibase_round_trip(suite: Suite) -> None:
    """Exported private bytes and the public multibase form rebuild the same keys."""
    key = KEYS[suite]
    again = EncryptionKey.from_private_bytes(key.algorithm, key.export_private_bytes())
    assert again.public_key == key.public_key
    assert public_encryption_key_from_multibase(key.public_key.multibase) == key.public_key
    assert isinstance(key, SM2EncryptionKey if suite is Suite.GM else X25519EncryptionKey)


def test_x25519_multibase_prefix() -> None:
    """X25519 public keys use the x25519-pub multicodec (`z6LS…`)."""
    assert KEYS[Suite.INTL].public_key.multibase.startswith("z6LS")


def test_x25519_shared_key_agrees_and_separates_contexts() -> None:
    """Both parties derive the same key; another context or another peer gives another key."""
    alice, bob, carol = (
        X25519EncryptionKey.generate(),
        X25519EncryptionKey.generate(),
        X25519EncryptionKey.generate(),
    )
    ab = x25519_shared_key(alice, bob.public_key, b"secagg|round-1")
    assert len(ab) == 32
    assert ab == x25519_shared_key(bob, alice.public_key, b"secagg|round-1")
    assert ab != x25519_shared_key(alice, bob.public_key, b"secagg|round-2")
    assert ab != x25519_shared_key(alice, carol.public_key, b"secagg|round-1")


def test_x25519_rfc7748_diffie_hellman_vector() -> None:
    """The raw X25519 agreement under the helper matches RFC 7748 section 6.1."""
    from keys._envelope import _x25519

    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob_public = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert _x25519(alice, bob_public).hex() == shared
    assert X25519EncryptionKey(alice).public_key.public_bytes.hex() == (
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )


def test_low_order_peer_keys_are_refused() -> None:
    """A low-order peer point (all-zero shared secret) raises `KeyFormatError`."""
    with pytest.raises(KeyFormatError):
        x25519_shared_key(X25519EncryptionKey.generate(), X25519PublicEncryptionKey(bytes(32)), b"ctx")


def test_shared_key_needs_x25519_keys() -> None:
    """The helper refuses SM2 keys."""
    with pytest.raises(UnsupportedSuite):
        x25519_shared_key(KEYS[Suite.GM], KEYS[Suite.INTL].public_key, b"ctx")  # type: ignore[arg-type]
