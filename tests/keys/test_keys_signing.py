"""Signing keys and signed documents, run through both suites."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keys_constants import EXAMPLES, FIXED_TIME

from keys import (
    Ed25519SigningKey,
    SigningKey,
    SM2SigningKey,
    Suite,
    canonical_json,
    verify_document,
    verify_key_from_did,
    verify_signed,
)
from keys.errors import (
    KeyFormatError,
    SignatureInvalid,
    SignedDocumentMalformed,
    UnsupportedSuite,
    WrongSigner,
)

# RFC 8032 section 7.1, tests 1-3: (secret seed, public key, message, signature).
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

payloads = st.dictionaries(
    st.text(max_size=6),
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=12),
    max_size=5,
)


@pytest.mark.parametrize(("seed", "public", "message", "signature"), RFC8032, ids=["test1", "test2", "test3"])
def test_rfc8032_vectors(seed: str, public: str, message: str, signature: str) -> None:
    """Ed25519 keys and signatures match RFC 8032 tests 1-3, and the signatures verify."""
    key = Ed25519SigningKey(bytes.fromhex(seed))
    assert key.verify_key.public_bytes.hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    key.verify_key.verify(bytes.fromhex(signature), bytes.fromhex(message))


def test_did_key_of_rfc8032_test1_uses_the_ed25519_multicodec() -> None:
    """An Ed25519 did:key starts with z6Mk and resolves back to the same key."""
    key = Ed25519SigningKey(bytes.fromhex(RFC8032[0][0])).verify_key
    assert key.did.startswith("did:key:z6Mk")
    assert verify_key_from_did(key.key_id) == key


def test_generate_follows_the_suite(suite: Suite) -> None:
    """`SigningKey.generate(suite)` gives Ed25519 for intl and SM2 for gm, and names the suite."""
    key = SigningKey.generate(suite)
    assert isinstance(key, SM2SigningKey if suite is Suite.GM else Ed25519SigningKey)
    assert key.suite is suite and key.is_private() and key.verify_key.is_public()


def test_concrete_generate_refuses_another_suite() -> None:
    """A concrete key class refuses to generate for a suite it does not belong to."""
    with pytest.raises(UnsupportedSuite):
        Ed25519SigningKey.generate("gm")


def test_private_bytes_round_trip(suite: Suite) -> None:
    """Exported private bytes rebuild the same key."""
    key = SigningKey.generate(suite)
    again = SigningKey.from_private_bytes(key.algorithm, key.export_private_bytes())
    assert again.verify_key == key.verify_key


def test_repr_hides_the_secret(suite: Suite) -> None:
    """repr() of a private key shows the public key only."""
    key = SigningKey.generate(suite)
    assert key.export_private_bytes().hex() not in repr(key)
    assert "<secret>" in repr(key)


def test_raw_sign_verify(suite: Suite) -> None:
    """A raw signature verifies and any other message raises `SignatureInvalid`."""
    key = SigningKey.generate(suite)
    signature = key.sign(b"message")
    key.verify_key.verify(signature, b"message")
    with pytest.raises(SignatureInvalid) as info:
        key.verify_key.verify(signature, b"messagE")
    assert info.value.code == "keys.signature.invalid"


def test_signed_document_shape_and_verification(suite: Suite) -> None:
    """A signed document names kind, version, suite, algorithm, key id and time, and verifies."""
    key = SigningKey.generate(suite)
    doc = key.sign_document({"kind": "x", "n": 1}, created=FIXED_TIME)
    assert doc["kind"] == "tdex.signed" and doc["version"] == 1
    assert doc["signature"]["suite"] == str(suite)
    assert doc["signature"]["kid"] == key.key_id
    assert doc["signature"]["created"] == "2025-03-01T08:00:00Z"
    assert key.verify_key.verify_document(doc) == {"kind": "x", "n": 1}
    result = verify_signed(doc)
    assert result.signer == key.verify_key and result.suite is suite


def _sign_and_check(suite: Suite, payload: dict[str, Any], index: int) -> None:
    key = SigningKey.generate(suite)
    doc = key.sign_document(payload)
    assert verify_document(doc, trusted=[key.verify_key]) == payload
    value = bytearray(doc["signature"]["value"].encode())
    tampered = copy.deepcopy(doc)
    position = index % len(value)
    value[position] = ord("A") if value[position] != ord("A") else ord("B")
    tampered["signature"]["value"] = value.decode()
    with pytest.raises((SignatureInvalid, SignedDocumentMalformed)):
        verify_document(tampered)


@settings(max_examples=EXAMPLES[Suite.INTL])
@given(payloads, st.integers(min_value=0))
def test_property_intl_any_changed_signature_character_is_rejected(
    payload: dict[str, Any], index: int
) -> None:
    """Under intl, every payload verifies and changing any character of the signature is rejected."""
    _sign_and_check(Suite.INTL, payload, index)


@settings(max_examples=EXAMPLES[Suite.GM])
@given(payloads, st.integers(min_value=0))
def test_property_gm_any_changed_signature_character_is_rejected(payload: dict[str, Any], index: int) -> None:
    """Under gm, every payload verifies and changing any character of the signature is rejected."""
    _sign_and_check(Suite.GM, payload, index)


@settings(max_examples=EXAMPLES[Suite.INTL])
@given(st.data())
def test_property_any_changed_payload_byte_is_rejected(data: st.DataObject) -> None:
    """Changing any byte of the canonical payload (keeping it valid JSON) breaks verification."""
    key = Ed25519SigningKey.generate()
    payload = data.draw(st.text(min_size=1, max_size=20))
    doc = key.sign_document({"text": payload})
    index = data.draw(st.integers(0, len(payload) - 1))
    changed = payload[:index] + chr((ord(payload[index]) + 1) % 0xD800 or 1) + payload[index + 1 :]
    tampered = {**doc, "payload": {"text": changed}}
    with pytest.raises(SignatureInvalid):
        verify_document(tampered)


def test_changed_header_fields_are_rejected(suite: Suite) -> None:
    """Changing the signed time or the kid breaks the signature or the key binding."""
    key = SigningKey.generate(suite)
    doc = key.sign_document({"a": 1}, created=FIXED_TIME)
    later = copy.deepcopy(doc)
    later["signature"]["created"] = "2025-03-01T08:00:01Z"
    with pytest.raises(SignatureInvalid):
        verify_document(later)
    other = SigningKey.generate(suite)
    swapped = copy.deepcopy(doc)
    swapped["signature"]["kid"] = other.key_id
    with pytest.raises(SignatureInvalid):
        verify_document(swapped)


def test_algorithm_substitution_is_rejected() -> None:
    """A document claiming another algorithm or suite than its key is malformed."""
    key = Ed25519SigningKey.generate()
    doc = key.sign_document({"a": 1})
    doc["signature"]["alg"] = "SM2"
    with pytest.raises(SignedDocumentMalformed) as info:
        verify_document(doc)
    assert info.value.code == "keys.signature.malformed"


def test_untrusted_signer_is_reported(suite: Suite) -> None:
    """A valid document by a key outside `trusted` raises `WrongSigner`."""
    doc = SigningKey.generate(suite).sign_document({"a": 1})
    with pytest.raises(WrongSigner) as info:
        SigningKey.generate(suite).verify_key.verify_document(doc)
    assert info.value.code == "keys.signature.wrong_key"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("payload"),
        lambda d: d.__setitem__("kind", "other"),
        lambda d: d.__setitem__("version", 2),
        lambda d: d.__setitem__("extra", 1),
        lambda d: d["signature"].pop("created"),
        lambda d: d["signature"].__setitem__("value", "not base64!"),
        lambda d: d["signature"].__setitem__("suite", "rot13"),
        lambda d: d["signature"].__setitem__("kid", "did:web:example.com"),
        lambda d: d["signature"].__setitem__("created", "2025-03-01 08:00:00"),
    ],
    ids=[
        "no-payload",
        "kind",
        "version",
        "extra-field",
        "no-created",
        "bad-value",
        "bad-suite",
        "not-did-key",
        "bad-time",
    ],
)
def test_malformed_documents(mutate: Any) -> None:
    """Structural faults raise `SignedDocumentMalformed` before any signature check."""
    doc = Ed25519SigningKey.generate().sign_document({"a": 1})
    mutate(doc)
    with pytest.raises(SignedDocumentMalformed):
        verify_document(doc)


def test_signed_bytes_are_canonical_json_without_the_value(suite: Suite) -> None:
    """The signature covers exactly the RFC 8785 bytes of the document without `signature.value`."""
    key = SigningKey.generate(suite)
    doc = key.sign_document({"b": 2, "a": 1})
    unsigned = copy.deepcopy(doc)
    value = unsigned["signature"].pop("value")
    from keys._encoding import b64url_decode

    key.verify_key.verify(b64url_decode(value), canonical_json(unsigned))


@pytest.mark.parametrize("did", ["did:web:x", "did:key:abc", "did:key:z6Mk#zOther", "did:key:z111111"])
def test_bad_did_keys(did: str) -> None:
    """Strings that are not a did:key of Ed25519 or SM2 raise `KeyFormatError`."""
    with pytest.raises(KeyFormatError):
        verify_key_from_did(did)
