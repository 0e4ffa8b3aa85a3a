"""The W3C vc-di-eddsa eddsa-jcs-2022 test vector (Recommendation, Appendix B.3): reproduce and verify it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base58
import pytest

from credentials import EDDSA_JCS_2022, InMemoryAnchors, Outcome, Verifier, add_proof, verify_proof
from credentials._proof import hash_data
from credentials.errors import ProofInvalid, UnresolvableVerificationMethod
from keys import Ed25519SigningKey, Ed25519VerifyKey, canonical_json, sha256

VECTORS = Path(__file__).parent / "vectors" / "eddsa-jcs-2022"


def _text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def _json(name: str) -> Any:
    return json.loads(_text(name))


def _key() -> Ed25519SigningKey:
    raw = base58.b58decode(_json("keyPair.json")["privateKeyMultibase"][1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519SigningKey(raw[2:])


def test_key_pair_matches_the_published_public_key() -> None:
    """The vector's private key derives the vector's public Multikey."""
    assert _key().verify_key.multibase == _json("keyPair.json")["publicKeyMultibase"]


def test_canonical_forms_and_hashes_match() -> None:
    """JCS of the document and of the proof configuration, their hashes and hashData match byte for byte."""
    doc = _json("unsigned.json")
    config = _json("proofConfigJCS.json")
    assert canonical_json(doc).decode() == _text("canonDocJCS.txt")
    assert canonical_json(config).decode() == _text("proofCanonJCS.txt")
    assert sha256(canonical_json(doc)).hex() == _text("docHashJCS.txt")
    assert sha256(canonical_json(config)).hex() == _text("proofHashJCS.txt")
    assert hash_data(EDDSA_JCS_2022, config, doc).hex() == _text("combinedHashJCS.txt")


def test_signature_and_proof_value_match() -> None:
    """The published signature verifies over hashData and is the base58btc proofValue."""
    signature = bytes.fromhex(_text("sigHexJCS.txt"))
    assert "z" + base58.b58encode(signature).decode() == _text("sigBTC58JCS.txt")
    public = base58.b58decode(_json("keyPair.json")["publicKeyMultibase"][1:])[2:]
    Ed25519VerifyKey(public).verify(signature, bytes.fromhex(_text("combinedHashJCS.txt")))


def test_create_proof_reproduces_the_signed_credential() -> None:
    """add_proof with the vector's key, time and method yields the published secured credential exactly."""
    config = _json("proofConfigJCS.json")
    created = datetime.fromisoformat(config["created"]).astimezone(UTC)
    secured = add_proof(_json("unsigned.json"), _key(), created=created)
    assert secured == _json("signedJCS.json")


def test_verify_proof_accepts_the_published_credential() -> None:
    """The published secured credential verifies, signed by the vector's did:key."""
    (proof,) = verify_proof(_json("signedJCS.json"))
    assert proof.cryptosuite == "eddsa-jcs-2022"
    assert proof.controller == "did:key:" + _json("keyPair.json")["publicKeyMultibase"]


def test_verifier_report_for_a_credential_from_outside_the_consortium() -> None:
    """The vector passes the verifier; with a chain it is reported not anchored, which is not a failure."""
    report = Verifier(anchors=InMemoryAnchors()).verify(_json("signedJCS.json"))
    assert report.ok
    assert report.check("proof").outcome is Outcome.PASS
    assert report.check("schema").outcome is Outcome.PASS
    assert report.check("validity").outcome is Outcome.PASS
    assert report.check("status").outcome is Outcome.NOT_APPLICABLE
    assert report.check("anchor").outcome is Outcome.NOT_ANCHORED


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("credentialSubject", "alumniOf"), "The School of Counterexamples"),
        (("validFrom",), "2023-01-01T00:00:01Z"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "@context"), ["https://www.w3.org/ns/credentials/v2"]),
    ],
)
def test_tampered_vector_fails(path: tuple[str, ...], value: Any) -> None:
    """Changing the document or the proof options of the vector breaks its proof."""
    doc = copy.deepcopy(_json("signedJCS.json"))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ProofInvalid) as info:
        verify_proof(doc)
    assert info.value.code == "credentials.proof.invalid"


def test_vector_with_an_https_method_needs_a_resolver() -> None:
    """A verification method that is not a did:key is unresolvable unless a resolver maps it."""
    doc = _json("signedJCS.json")
    doc["proof"]["verificationMethod"] = (
        "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    )
    with pytest.raises(UnresolvableVerificationMethod) as info:
        verify_proof(doc)
    assert info.value.code == "credentials.proof.unresolvable_method"
    with pytest.raises(ProofInvalid):  # resolvable now, but the method is covered by the signature
        verify_proof(doc, resolver=lambda _url: _key().verify_key)
