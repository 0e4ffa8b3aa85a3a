"""Organisation identities and keys: JSON round trips, no secrets, rotation statements, account records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from keys_constants import FIXED_TIME

from keys import OrgIdentity, OrgKeys, Suite, verify_rotation
from keys._encoding import b64url_encode
from keys.errors import KeyFormatError, RotationError, SignatureInvalid, WrongSigner


def test_identity_json_round_trip(suite: Suite) -> None:
    """`OrgIdentity` survives to_json → JSON text → from_json unchanged."""
    keys = OrgKeys.generate("dept-a", suite=suite, uscc="91110000600037341L")
    identity = keys.identity
    again = OrgIdentity.from_json(json.loads(json.dumps(identity.to_json())))
    assert again == identity
    assert identity.did.startswith("did:key:z6Mk") and identity.suite is suite
    assert identity.chain_address == keys.account_address


def test_identity_json_has_no_secret(suite: Suite) -> None:
    """No private key of the organisation appears in its public identity."""
    keys = OrgKeys.generate("dept-a", suite=suite)
    text = json.dumps(keys.identity.to_json())
    secrets = [
        keys.signing.export_private_bytes(),
        keys.encryption.export_private_bytes(),
        keys.export_account_key(),
    ]
    for secret in secrets:
        assert secret.hex() not in text and b64url_encode(secret) not in text
    assert keys.export_account_key().hex() not in repr(keys)


def test_suite_picks_the_default_keys(suite: Suite) -> None:
    """Under gm the signer and encryption key are SM2; under intl Ed25519 and X25519."""
    keys = OrgKeys.generate("dept-a", suite=suite)
    expected = "SM2" if suite is Suite.GM else "Ed25519"
    assert keys.signer.algorithm == expected
    assert keys.identity.verify_key.algorithm == expected
    assert keys.identity.public_encryption_key.algorithm == ("SM2" if suite is Suite.GM else "X25519")


def test_retired_key_verifies_only_before_its_retirement(suite: Suite) -> None:
    """An old document verifies after rotation; one the old key signs afterwards is refused."""
    keys = OrgKeys.generate("dept-a", suite=suite)
    before = keys.sign_document({"n": 1}, created=FIXED_TIME)
    rotated = keys.rotate("signing", at=FIXED_TIME + timedelta(hours=1)).keys
    assert rotated.identity.verify_document(before) == {"n": 1}
    after = keys.sign_document({"n": 2}, created=FIXED_TIME + timedelta(hours=2))
    with pytest.raises(WrongSigner):
        rotated.identity.verify_document(after)
    assert rotated.identity.verify_document(rotated.sign_document({"n": 3})) == {"n": 3}


def test_signing_rotation_statement_is_signed_by_the_old_key(suite: Suite) -> None:
    """Each signing rotation statement verifies by itself and names old and new keys."""
    keys = OrgKeys.generate("dept-a", suite=suite)
    result = keys.rotate("signing")
    assert len(result.statements) == (2 if suite is Suite.GM else 1)
    payload = verify_rotation(result.statements[0])
    assert payload["old"] == keys.signing.verify_key.did
    assert payload["new"] == result.keys.signing.verify_key.did


def test_forged_signing_rotation_is_refused() -> None:
    """A rotation statement signed by the new key instead of the old one is refused."""
    keys = OrgKeys.generate("dept-a")
    result = keys.rotate("signing")
    forged = result.keys.signing.sign_document(result.statements[0]["payload"])
    with pytest.raises(RotationError) as info:
        verify_rotation(forged)
    assert info.value.code == "keys.rotation.invalid"


def test_encryption_rotation_needs_trusted_keys(suite: Suite) -> None:
    """Encryption rotations are checked against the organisation's signing keys."""
    keys = OrgKeys.generate("dept-a", suite=suite)
    result = keys.rotate("encryption")
    with pytest.raises(RotationError):
        verify_rotation(result.statements[0])
    assert (
        verify_rotation(result.statements[0], trusted=keys.identity.current_verify_keys())["which"]
        == "encryption"
    )


def test_account_rotation_record_verifies_and_detects_tampering() -> None:
    """The account record carries both EIP-191 signatures; editing an address breaks it."""
    keys = OrgKeys.generate("dept-a")
    record = keys.rotate("account").account
    assert record is not None
    trusted = keys.identity.current_verify_keys()
    record.verify(trusted)
    assert record.to_json()["kind"] == "tdex.account-rotation"
    from dataclasses import replace

    with pytest.raises(RotationError):
        replace(record, new_address=keys.account_address).verify(trusted)
    with pytest.raises(RotationError):
        replace(record, old_account_signature=record.new_account_signature).verify(trusted)
    tampered_statement = json.loads(json.dumps(record.statement))
    tampered_statement["payload"]["at"] = "2000-01-01T00:00:00Z"
    with pytest.raises(SignatureInvalid):
        replace(record, statement=tampered_statement).verify(trusted)


def test_export_account_key_is_explicit() -> None:
    """The account key is reachable only through `export_account_key`, by address for retired ones."""
    keys = OrgKeys.generate("dept-a")
    assert len(keys.export_account_key()) == 32
    with pytest.raises(KeyFormatError):
        keys.export_account_key("0x0000000000000000000000000000000000000001")


def test_unknown_rotation_kind() -> None:
    """Rotating something that is not signing, encryption or account raises `RotationError`."""
    with pytest.raises(RotationError):
        OrgKeys.generate("dept-a").rotate("seal")  # type: ignore[arg-type]


def test_malformed_identity_json() -> None:
    """An identity of another kind or with a bad did raises `KeyFormatError`."""
    good = OrgKeys.generate("dept-a").identity.to_json()
    with pytest.raises(KeyFormatError):
        OrgIdentity.from_json({**good, "kind": "other"})
    with pytest.raises(KeyFormatError):
        OrgIdentity.from_json({**good, "did": "did:key:zBAD"})
