"""Keystores on disk: round trips, file modes, every read fault by name, atomic writes, rotation."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import AccountRotation, Keystore, Suite, open_sealed, seal, verify_rotation
from keys._canonical import canonical_json
from keys._encoding import b64url_encode
from keys._hashes import sha256
from keys.errors import (
    KeystoreCorrupted,
    KeystoreError,
    KeystoreExists,
    KeystoreNotFound,
    KeystoreTruncated,
    KeystoreVersionUnsupported,
    WeakKdfParameters,
    WrongPassphrase,
)

PASS = "correct horse battery staple"


def _files(keystore: Keystore, org: str) -> tuple[Path, Path]:
    folder = keystore.folder(org)
    account = next(folder.glob("account-*.json"))
    return folder / "keystore.json", account


def _rewrite(path: Path, change: dict[str, object]) -> None:
    """Edit a keystore file and recompute its checksum, as a careful attacker would."""
    document = json.loads(path.read_bytes())
    document.update(change)
    body = {k: v for k, v in document.items() if k != "checksum"}
    body["checksum"] = b64url_encode(sha256(canonical_json(body)))
    path.write_bytes(canonical_json(body) + b"\n")


def test_create_and_load_round_trip(keystore: Keystore, suite: Suite) -> None:
    """A created keystore loads back to the same identity and keys, under either suite."""
    created = keystore.create("dept-a", PASS, suite=suite, uscc="91110000600037341L")
    loaded = keystore.load("dept-a", PASS)
    assert loaded.identity == created.identity
    assert loaded.export_account_key() == created.export_account_key()
    assert loaded.signer.verify_key == created.signer.verify_key
    assert loaded.open_sealed(seal(created.identity.public_encryption_key, b"x")) == b"x"
    assert keystore.identity("dept-a") == created.identity
    assert keystore.orgs() == ["dept-a"]


def test_every_file_names_kind_version_and_suite(keystore: Keystore, suite: Suite) -> None:
    """Both files carry a kind, the format version and the suite."""
    keystore.create("dept-a", PASS, suite=suite)
    main, account = _files(keystore, "dept-a")
    main_doc, account_doc = json.loads(main.read_bytes()), json.loads(account.read_bytes())
    assert (main_doc["kind"], main_doc["version"], main_doc["suite"]) == ("tdex.keystore", 1, str(suite))
    assert (account_doc["tdex"]["kind"], account_doc["tdex"]["version"]) == ("tdex.account-keystore", 1)
    assert account_doc["tdex"]["suite"] == str(suite) and account_doc["version"] == 3


def test_file_modes(keystore: Keystore) -> None:
    """The folder is 0700 and every file 0600."""
    keystore.create("dept-a", PASS)
    folder = keystore.folder("dept-a")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_account_file_is_a_standard_ethereum_keystore(keystore: Keystore) -> None:
    """The account file decrypts with eth-account and the scrypt KDF, extra fields and all."""
    keys = keystore.create("dept-a", PASS)
    _, account = _files(keystore, "dept-a")
    document = json.loads(account.read_bytes())
    assert document["crypto"]["kdf"] == "scrypt"
    assert Account.from_key(Account.decrypt(document, PASS)).address == keys.account_address


def test_no_secret_in_clear(keystore: Keystore) -> None:
    """No private key appears in any file, in hex or base64url."""
    keys = keystore.create("dept-a", PASS, suite="gm")
    assert keys.sm2_signing is not None and keys.sm2_encryption is not None
    secrets = [
        keys.signing.export_private_bytes(),
        keys.encryption.export_private_bytes(),
        keys.sm2_signing.export_private_bytes(),
        keys.sm2_encryption.export_private_bytes(),
        keys.export_account_key(),
    ]
    for path in keystore.folder("dept-a").iterdir():
        text = path.read_text()
        for secret in secrets:
            assert secret.hex() not in text and b64url_encode(secret) not in text


def test_existing_keystore_is_not_overwritten(keystore: Keystore) -> None:
    """Creating twice raises `KeystoreExists` and leaves the first keystore as it was."""
    first = keystore.create("dept-a", PASS)
    before = (keystore.folder("dept-a") / "keystore.json").read_bytes()
    with pytest.raises(KeystoreExists) as info:
        keystore.create("dept-a", PASS)
    assert info.value.code == "keys.keystore.exists"
    assert (keystore.folder("dept-a") / "keystore.json").read_bytes() == before
    assert keystore.load("dept-a", PASS).identity == first.identity


def test_wrong_passphrase_names_the_file(keystore: Keystore) -> None:
    """A wrong passphrase raises `WrongPassphrase` naming keystore.json."""
    keystore.create("dept-a", PASS)
    with pytest.raises(WrongPassphrase) as info:
        keystore.load("dept-a", "Tr0ub4dor&3")
    assert info.value.code == "keys.keystore.wrong_passphrase"
    assert info.value.path.name == "keystore.json" and "wrong passphrase" in str(info.value)


def test_missing_folder_and_files(keystore: Keystore) -> None:
    """A missing organisation, keystore.json or account file each raise `KeystoreNotFound` naming it."""
    with pytest.raises(KeystoreNotFound) as info:
        keystore.load("nobody", PASS)
    assert info.value.path.name == "nobody"
    keystore.create("dept-a", PASS)
    main, account = _files(keystore, "dept-a")
    account.unlink()
    with pytest.raises(KeystoreNotFound) as info:
        keystore.load("dept-a", PASS)
    assert info.value.path == account
    main.unlink()
    with pytest.raises(KeystoreNotFound) as info:
        keystore.load("dept-a", PASS)
    assert info.value.path == main and info.value.code == "keys.keystore.not_found"


@pytest.mark.parametrize("keep", [0, 1, 100, -2])
def test_truncated_files(keystore: Keystore, keep: int) -> None:
    """A file cut short (even to nothing) raises `KeystoreTruncated` naming it."""
    keystore.create("dept-a", PASS)
    main, _ = _files(keystore, "dept-a")
    data = main.read_bytes()
    main.write_bytes(data[:keep])
    with pytest.raises(KeystoreTruncated) as info:
        keystore.load("dept-a", PASS)
    assert info.value.path == main and info.value.code == "keys.keystore.truncated"


def test_truncated_account_file(keystore: Keystore) -> None:
    """A truncated account file is reported as such, naming the account file."""
    keystore.create("dept-a", PASS)
    _, account = _files(keystore, "dept-a")
    account.write_bytes(account.read_bytes()[:-40])
    with pytest.raises(KeystoreTruncated) as info:
        keystore.load("dept-a", PASS)
    assert info.value.path == account


def test_unknown_version(keystore: Keystore) -> None:
    """A file declaring format version 2 raises `KeystoreVersionUnsupported` naming the version."""
    keystore.create("dept-a", PASS)
    main, _ = _files(keystore, "dept-a")
    _rewrite(main, {"version": 2})
    with pytest.raises(KeystoreVersionUnsupported) as info:
        keystore.load("dept-a", PASS)
    assert "version 2" in str(info.value) and info.value.code == "keys.keystore.unknown_version"


def test_edited_identity_is_detected(keystore: Keystore) -> None:
    """Changing the clear identity (checksum recomputed) is caught against the encrypted part."""
    keystore.create("dept-a", PASS)
    main, _ = _files(keystore, "dept-a")
    identity = json.loads(main.read_bytes())["identity"]
    identity["uscc"] = "91110000600037341L"
    _rewrite(main, {"identity": identity})
    with pytest.raises(KeystoreCorrupted) as info:
        keystore.load("dept-a", PASS)
    assert info.value.code == "keys.keystore.corrupted"


def test_default_profile_refuses_test_strength_files(keystore: Keystore) -> None:
    """A keystore written with the fast-test KDF is refused by the default profile."""
    keystore.create("dept-a", PASS)
    with pytest.raises(WeakKdfParameters) as info:
        Keystore(keystore.root).load("dept-a", PASS)
    assert info.value.code == "keys.keystore.weak_kdf"


def test_default_profile_is_secure() -> None:
    """The default KDF profile is Argon2id MODERATE and scrypt n=2**18, r=8, p=1."""
    import nacl.pwhash

    profile = Keystore("unused").profile
    assert profile.argon2_opslimit == nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    assert profile.argon2_memlimit == nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    assert (profile.scrypt_n, profile.scrypt_r, profile.scrypt_p) == (2**18, 8, 1)


def test_bad_org_names_are_refused(keystore: Keystore) -> None:
    """Names that could escape the root or hide a folder are refused."""
    for name in ["../x", ".hidden", "a/b", ""]:
        with pytest.raises(KeystoreError):
            keystore.folder(name)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[Suite, Path]:
    """One keystore per suite for the property test, copied for each example."""
    roots = {}
    for suite in (Suite.INTL, Suite.GM):
        root = tmp_path_factory.mktemp(f"template-{suite}")
        Keystore(root, kdf_profile="fast-test").create("dept-a", PASS, suite=suite)
        roots[suite] = root
    return roots


@settings(max_examples=25)
@given(st.sampled_from([Suite.INTL, Suite.GM]), st.booleans(), st.integers(min_value=0), st.integers(1, 255))
def test_property_any_changed_byte_is_rejected(
    templates: dict[Suite, Path], suite: Suite, account_file: bool, index: int, flip: int
) -> None:
    """Changing any byte of either file makes loading fail with a `KeystoreError`, never succeed."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "keys"
        shutil.copytree(templates[suite], root)
        store = Keystore(root, kdf_profile="fast-test")
        main, account = _files(store, "dept-a")
        path = account if account_file else main
        data = bytearray(path.read_bytes())
        data[index % len(data)] ^= flip
        path.write_bytes(bytes(data))
        with pytest.raises(KeystoreError):
            store.load("dept-a", PASS)


def test_rotation_persists_and_old_material_stays_usable(keystore: Keystore, suite: Suite) -> None:
    """After rotating everything, reloaded keys open old envelopes and verify old documents."""
    original = keystore.create("dept-a", PASS, suite=suite)
    old_document = original.sign_document({"receipt": 1})
    old_envelope = seal(original.identity.public_encryption_key, b"old result")
    signing = keystore.rotate("dept-a", PASS, "signing")
    keystore.rotate("dept-a", PASS, "encryption")
    seen: list[AccountRotation] = []
    account = keystore.rotate("dept-a", PASS, "account", on_account_rotated=seen.append)
    loaded = keystore.load("dept-a", PASS)
    assert loaded.identity == account.keys.identity
    assert loaded.signer.verify_key != original.signer.verify_key
    assert loaded.identity.verify_document(old_document) == {"receipt": 1}
    assert open_sealed(loaded.decryption_keys, old_envelope) == b"old result"
    assert loaded.account_address != original.account_address
    assert loaded.export_account_key(original.account_address) == original.export_account_key()
    assert seen == [account.account]
    assert seen[0].old_address == original.account_address and seen[0].new_address == loaded.account_address
    for statement in signing.statements:
        assert verify_rotation(statement)["which"] == "signing"
    assert len(loaded.identity.rotations) == len(signing.statements) + (2 if suite is Suite.GM else 1) + 1


def test_failed_write_leaves_the_old_keystore(keystore: Keystore, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename of a rotation fails, the previous keystore loads and no temp file remains."""
    keys = keystore.create("dept-a", PASS)
    main, _ = _files(keystore, "dept-a")
    before = main.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        keystore.rotate("dept-a", PASS, "signing")
    monkeypatch.undo()
    assert main.read_bytes() == before
    assert keystore.load("dept-a", PASS).identity == keys.identity
    assert not [p for p in keystore.folder("dept-a").iterdir() if p.name.endswith(".tmp")]


def test_failed_create_leaves_nothing(keystore: Keystore, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final rename of a new keystore fails, no folder and no staging folder remain."""

    def broken_rename(src: object, dst: object) -> None:
        raise OSError("no space")

    monkeypatch.setattr(os, "rename", broken_rename)
    with pytest.raises(KeystoreExists):
        keystore.create("dept-a", PASS)
    monkeypatch.undo()
    assert list(keystore.root.iterdir()) == []


def test_empty_passphrase_is_refused(keystore: Keystore) -> None:
    """An empty passphrase raises a `KeystoreError` before anything is written."""
    with pytest.raises(KeystoreError):
        keystore.create("dept-a", "")
    assert not keystore.exists("dept-a")
