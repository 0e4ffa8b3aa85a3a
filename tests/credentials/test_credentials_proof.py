"""Data Integrity proofs: round trips under both suites, and any change to a secured credential fails."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from credentials_support import NOW, Department, make_department
from hypothesis import given
from hypothesis import strategies as st

from credentials import SM2_JCS_TDEX_2026, add_proof, verify_proof
from credentials.errors import (
    ProofError,
    ProofExpired,
    ProofInvalid,
    ProofMalformed,
    UnresolvableVerificationMethod,
    UnsupportedCryptosuite,
)
from keys import SigningKey, Suite

_DEPTS = {suite: make_department(suite) for suite in (Suite.INTL, Suite.GM)}
_SECURED = {suite: d.issue_licence().credential for suite, d in _DEPTS.items()}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_paths(item, (*prefix, i)))
    return out


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, "extra"]
    return {**value, "extra": 1}


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], how: str) -> None:
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "delete" and isinstance(parent, dict):
        del parent[last]
    elif how == "delete":
        parent.pop(last)
    else:
        parent[last] = _changed(parent[last])


@pytest.mark.parametrize("suite", [Suite.INTL, Suite.GM], ids=["eddsa", "sm2"])
@given(data=st.data())
def test_any_changed_field_fails_the_proof(suite: Suite, data: st.DataObject) -> None:
    """Changing, adding or deleting any field of the credential or its proof options fails verification."""
    doc = copy.deepcopy(_SECURED[suite])
    paths = [p for p in _paths(doc) if p != ("proof", "proofValue")]
    path = data.draw(st.sampled_from(paths))
    how = data.draw(st.sampled_from(["change", "delete"]))
    _mutate(doc, path, how)
    with pytest.raises(ProofError):
        verify_proof(doc, now=NOW)


@pytest.mark.parametrize("suite", [Suite.INTL, Suite.GM], ids=["eddsa", "sm2"])
@given(extra=st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 9), min_size=1, max_size=3))
def test_added_top_level_fields_fail_the_proof(suite: Suite, extra: dict[str, int]) -> None:
    """Adding properties the issuer did not sign fails verification."""
    doc = copy.deepcopy(_SECURED[suite])
    fresh = {f"added-{k}": v for k, v in extra.items()}
    doc.update(fresh)
    with pytest.raises(ProofInvalid) as info:
        verify_proof(doc, now=NOW)
    assert info.value.code == "credentials.proof.invalid"


def test_round_trip_under_both_suites(any_dept: Department) -> None:
    """A certificate verifies under the suite its issuer's key selects."""
    credential = any_dept.issue_licence().credential
    (proof,) = verify_proof(credential, now=NOW)
    expected = "eddsa-jcs-2022" if any_dept.issuer.did.startswith("did:key:z6Mk") else SM2_JCS_TDEX_2026.name
    assert proof.cryptosuite == expected == credential["proof"]["cryptosuite"]
    assert proof.controller == any_dept.issuer.did


def test_proof_value_must_be_base58btc_of_64_bytes() -> None:
    """A proofValue without the z prefix, or of the wrong length, is malformed."""
    for value in ("u" + "A" * 86, "z" + "1" * 10, "z0OIl"):
        doc = copy.deepcopy(_SECURED[Suite.INTL])
        doc["proof"]["proofValue"] = value
        with pytest.raises(ProofMalformed) as info:
            verify_proof(doc, now=NOW)
        assert info.value.code == "credentials.proof.malformed"


def test_unknown_cryptosuite_is_refused() -> None:
    """A cryptosuite this package does not implement is reported as unsupported."""
    doc = copy.deepcopy(_SECURED[Suite.INTL])
    doc["proof"]["cryptosuite"] = "ecdsa-jcs-2019"
    with pytest.raises(UnsupportedCryptosuite) as info:
        verify_proof(doc, now=NOW)
    assert info.value.code == "credentials.proof.unsupported_suite"


def test_suite_and_key_type_must_agree() -> None:
    """An eddsa-jcs-2022 proof naming an SM2 did:key is unresolvable (no algorithm substitution)."""
    doc = copy.deepcopy(_SECURED[Suite.INTL])
    doc["proof"]["verificationMethod"] = _SECURED[Suite.GM]["proof"]["verificationMethod"]
    with pytest.raises(UnresolvableVerificationMethod):
        verify_proof(doc, now=NOW)


def test_wrong_purpose_is_refused() -> None:
    """A proof made for authentication does not pass as an assertion."""
    key = SigningKey.generate("intl")
    doc = add_proof(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "a": 1}, key, proof_purpose="authentication"
    )
    verify_proof(doc, expected_purpose="authentication")
    with pytest.raises(ProofMalformed):
        verify_proof(doc)


def test_expired_proof_is_refused() -> None:
    """A proof past its `expires` time fails with ProofExpired."""
    key = SigningKey.generate("intl")
    doc = add_proof({"a": 1}, key, created=NOW, expires=NOW)
    verify_proof(doc, now=NOW)
    with pytest.raises(ProofExpired) as info:
        verify_proof(doc, now=NOW.replace(hour=9))
    assert info.value.code == "credentials.proof.expired"


def test_document_without_context_round_trips() -> None:
    """A plain JSON document (no @context) is signed and verified without a proof @context."""
    key = SigningKey.generate("intl")
    doc = add_proof({"kind": "x", "n": [1, 2.5, "三"]}, key)
    assert "@context" not in doc["proof"]
    verify_proof(doc)


def test_proof_sets_verify_each_proof_and_chains_are_refused() -> None:
    """Two independent proofs both verify; a previousProof chain is refused as unsupported."""
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "a": 1}
    first = add_proof(doc, SigningKey.generate("intl"))
    second = add_proof(doc, SigningKey.generate("gm"))
    both = {**doc, "proof": [first["proof"], second["proof"]]}
    assert [p.cryptosuite for p in verify_proof(both)] == ["eddsa-jcs-2022", "sm2-jcs-tdex-2026"]
    chained = copy.deepcopy(both)
    chained["proof"][1]["previousProof"] = "urn:first"
    with pytest.raises(ProofMalformed):
        verify_proof(chained)
    with pytest.raises(ProofMalformed):
        add_proof(first, SigningKey.generate("intl"))


def test_contexts_appended_after_signing_are_refused_unless_allowed() -> None:
    """A context appended to the document fails by default; the spec's lenient reading accepts it."""
    doc = copy.deepcopy(_SECURED[Suite.INTL])
    doc["@context"] = [*doc["@context"], "https://evil.example/context"]
    with pytest.raises(ProofInvalid):
        verify_proof(doc, now=NOW)
    verify_proof(doc, now=NOW, allow_extended_context=True)
