"""Proof bundles verify offline and on chain; every tampered field is named."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from audit_support import ORIGIN, Keys, Store, anchor_chain, fill, make_anchorer, make_keys, make_store

import ledger
from exchange_api.audit import (
    ChainAnchorLookup,
    LogOperator,
    ProofBundle,
    TrustedKeys,
    export_bundle,
    format_vkey,
    log_id_for,
    parse_vkey,
    verify_bundle,
)
from exchange_api.audit.errors import BundleInvalid, BundleMalformed
from keys import Ed25519SigningKey
from tlog import SignedNote, sign_note


@dataclass
class Anchored:
    """A store whose 40 entries are checkpointed and anchored on eth-tester."""

    store: Store
    keys: Keys
    chain: ledger.Chain
    dep: ledger.Deployment
    bundle: dict[str, Any]


@pytest.fixture
def anchored(tmp_path: Path) -> Iterator[Anchored]:
    """40 entries anchored in one transaction, and the bundle of entry 7."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 40)
    with anchor_chain() as (chain, dep, signer):
        assert make_anchorer(store, keys, dep, signer).tick(force=True).anchored is not None
        bundle = export_bundle(store.log, 7).to_json()
        yield Anchored(store, keys, chain, dep, bundle)
    store.engine.dispose()


def _fields(bundle: dict[str, Any], **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(BundleInvalid) as caught:
        verify_bundle(bundle, **kwargs)
    assert caught.value.code == "audit.bundle_invalid"
    return caught.value.fields


def test_bundle_verifies_offline_and_on_chain(anchored: Anchored) -> None:
    """A fresh bundle verifies with pinned keys, offline and against the chain."""
    offline = verify_bundle(anchored.bundle, trusted=anchored.keys.trusted)
    assert (offline.index, offline.tree_size, offline.origin) == (7, 40, ORIGIN)
    assert offline.keys_pinned and offline.record_checked and not offline.anchored_on_chain
    assert offline.witnesses == ("auditor.test",)
    online = verify_bundle(
        anchored.bundle,
        trusted=anchored.keys.trusted,
        chain=ChainAnchorLookup(anchored.chain),
        contract=anchored.dep.anchor.address,
    )
    assert online.anchored_on_chain
    assert "anchor found on chain and matches" in online.lines()


def test_bundle_round_trips(anchored: Anchored, tmp_path: Path) -> None:
    """A bundle written to JSON and read back is the same bundle, and verifies from the file."""
    bundle = ProofBundle.from_json(anchored.bundle)
    assert ProofBundle.loads(bundle.dumps()) == bundle
    path = tmp_path / "bundle.json"
    export_bundle(anchored.store.engine, 7, path)
    assert ProofBundle.loads(path.read_text()) == bundle


def _note(bundle: dict[str, Any]) -> SignedNote:
    return SignedNote.parse(bundle["checkpoint"])


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(bundle: dict[str, Any]) -> None:
        target = bundle
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value(target[last]) if callable(value) else value

    return change


def _flip_hex(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


def _entry_actor(text: str) -> str:
    return text.replace('"actor":"org_a"', '"actor":"org_x"')


def _checkpoint_size(text: str) -> str:
    note = SignedNote.parse(text)
    lines = note.text.split("\n")
    lines[1] = "39"
    return SignedNote("\n".join(lines), note.signatures).format()


def _drop_signature(name: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        note = SignedNote.parse(text)
        return SignedNote(note.text, tuple(s for s in note.signatures if s.name != name)).format()

    return change


def _corrupt_signature(name: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        note = SignedNote.parse(text)
        sigs = tuple(
            type(s)(s.name, s.key_id, bytes([s.signature[0] ^ 1]) + s.signature[1:]) if s.name == name else s
            for s in note.signatures
        )
        return SignedNote(note.text, sigs).format()

    return change


OFFLINE_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("entry", _set("entry", _entry_actor)),
    ("leaf_hash", _set("leaf_hash", _flip_hex)),
    ("index", _set("index", 8)),
    ("record", _set("record.reason", "something else")),
    ("inclusion_proof", _set("inclusion_proof", lambda p: [_flip_hex(p[0]), *p[1:]])),
    ("checkpoint.signature.log", _set("checkpoint", _checkpoint_size)),
    ("checkpoint.signature.log", _set("checkpoint", _corrupt_signature(ORIGIN))),
    ("checkpoint.signature.witness", _set("checkpoint", _drop_signature("auditor.test"))),
    ("checkpoint.signature.witness", _set("checkpoint", _corrupt_signature("auditor.test"))),
    ("anchor", _set("anchor", None)),
    ("anchor.log_id", _set("anchor.log_id", lambda v: "0x" + _flip_hex(v[2:]))),
]


@pytest.mark.parametrize(("field", "tamper"), OFFLINE_TAMPERING, ids=[f for f, _ in OFFLINE_TAMPERING])
def test_offline_tampering_is_named(
    anchored: Anchored, field: str, tamper: Callable[[dict[str, Any]], None]
) -> None:
    """Each tampered field fails verification, and the failure names that field first."""
    bundle = copy.deepcopy(anchored.bundle)
    tamper(bundle)
    fields = _fields(bundle, trusted=anchored.keys.trusted)
    assert fields[0] == field, fields


ONCHAIN_TAMPERING: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("anchor.chain_id", _set("anchor.chain_id", 1)),
    ("anchor.tx_hash", _set("anchor.tx_hash", lambda v: "0x" + _flip_hex(v[2:]))),
    ("anchor.block_number", _set("anchor.block_number", lambda v: v + 1)),
    ("anchor.sequence", _set("anchor.sequence", 5)),
    ("anchor.contract", _set("anchor.contract", "0x" + "11" * 20)),
]


@pytest.mark.parametrize(("field", "tamper"), ONCHAIN_TAMPERING, ids=[f for f, _ in ONCHAIN_TAMPERING])
def test_onchain_tampering_is_named(
    anchored: Anchored, field: str, tamper: Callable[[dict[str, Any]], None]
) -> None:
    """With a chain, each altered anchor field fails and is named; offline the same bundle passes."""
    bundle = copy.deepcopy(anchored.bundle)
    tamper(bundle)
    verify_bundle(bundle, trusted=anchored.keys.trusted)
    fields = _fields(bundle, trusted=anchored.keys.trusted, chain=ChainAnchorLookup(anchored.chain))
    assert fields[0] == field, fields


def test_pinned_contract_must_match(anchored: Anchored) -> None:
    """A bundle naming another contract than the pinned one fails on anchor.contract."""
    fields = _fields(
        anchored.bundle,
        trusted=anchored.keys.trusted,
        chain=ChainAnchorLookup(anchored.chain),
        contract="0x" + "22" * 20,
    )
    assert "anchor.contract" in fields


def test_resigned_bundle_needs_pinned_keys(anchored: Anchored) -> None:
    """An attacker re-signing a forged checkpoint with its own keys passes only when keys are not pinned."""
    bundle = copy.deepcopy(anchored.bundle)
    forger = LogOperator(ORIGIN, Ed25519SigningKey.generate())
    witness_key = Ed25519SigningKey.generate()
    witness_vkey = format_vkey("auditor.test", witness_key.verify_key)
    note = _note(bundle)
    forged = sign_note(note.text, forger.signer, parse_vkey_signer("auditor.test", witness_key))
    bundle["checkpoint"] = forged.format()
    bundle["keys"] = {"log": forger.vkey, "witnesses": [witness_vkey]}
    report = verify_bundle(bundle)
    assert not report.keys_pinned
    assert any("not pinned" in note for note in report.notes)
    assert _fields(bundle, trusted=anchored.keys.trusted)[0] == "checkpoint.signature.log"


def parse_vkey_signer(name: str, key: Ed25519SigningKey) -> Any:
    """A note signer for ``key`` under ``name``."""
    from tlog import NoteSigner

    return NoteSigner.ed25519(name, key.verify_key.public_bytes, key)


def test_unanchored_bundle_fails_on_anchor(tmp_path: Path) -> None:
    """A bundle of a checkpoint not yet anchored verifies in every respect but the anchor."""
    store = make_store(tmp_path)
    keys = make_keys(tmp_path)
    fill(store, 5)
    make_anchorer(store, keys, None, None).tick(force=True)
    bundle = export_bundle(store.log, 2).to_json()
    assert bundle["anchor"] is None
    assert _fields(bundle, trusted=keys.trusted) == ("anchor",)
    store.engine.dispose()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(kind="other"), "kind"),
        (lambda b: b.update(version=2), "version"),
        (lambda b: b.pop("entry"), "entry"),
        (lambda b: b.update(index="7"), "index"),
        (lambda b: b.update(inclusion_proof=[1]), "inclusion_proof"),
        (lambda b: b["keys"].pop("log"), "keys.log"),
        (lambda b: b.update(record=[]), "record"),
        (lambda b: b["anchor"].update(sequence=True), "anchor.sequence"),
    ],
)
def test_malformed_bundle_names_the_field(
    anchored: Anchored, change: Callable[[dict[str, Any]], Any], field: str
) -> None:
    """A document that is not a bundle is refused with the field at fault."""
    bundle = copy.deepcopy(anchored.bundle)
    change(bundle)
    with pytest.raises(BundleMalformed) as caught:
        verify_bundle(bundle)
    assert caught.value.code == "audit.bundle_malformed"
    assert caught.value.field == field


def test_not_json_is_malformed() -> None:
    """Text that is not JSON is refused as a malformed bundle."""
    with pytest.raises(BundleMalformed) as caught:
        verify_bundle("{not json")
    assert caught.value.field == "bundle"


def test_vkeys_round_trip() -> None:
    """Verifier keys read back to the same name and key id, and refuse a wrong key id."""
    key = Ed25519SigningKey.generate()
    text = format_vkey("auditor.example", key.verify_key)
    verifier = parse_vkey(text)
    assert verifier.name == "auditor.example"
    name, key_id, blob = text.split("+", 2)
    assert key_id == verifier.key_id.hex()
    with pytest.raises(ValueError, match="key id"):
        parse_vkey(f"{name}+00000000+{blob}")
    with pytest.raises(ValueError, match="Ed25519"):
        parse_vkey(f"{name}+{key_id}+" + base64.b64encode(b"\x02" + bytes(32)).decode())
    assert TrustedKeys.from_vkeys([text], []).log[0].key_id == verifier.key_id


def test_log_id_is_sha256_of_origin() -> None:
    """The on-chain log id is SHA-256 of the origin line."""
    import hashlib

    assert log_id_for(ORIGIN) == hashlib.sha256(ORIGIN.encode()).digest()
    assert json.dumps(log_id_for(ORIGIN).hex())
