"""The verifier's report: each check passes or fails on its own, with the error code of the fault."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from credentials_support import CHAIN_ID, NOW, Department, make_department

from credentials import (
    FOOD_OPERATION_PERMIT,
    CertificateStatus,
    InMemoryAnchors,
    Outcome,
    StatusList,
    Verifier,
    add_proof,
    chain_account,
)
from credentials.errors import CredentialSuspended, IssuanceError, SchemaViolation
from keys import SigningKey


def _outcomes(report: object) -> dict[str, str]:
    return {c.check: str(c.outcome) for c in report.checks}  # type: ignore[attr-defined]


def test_fresh_licence_passes_every_check(any_dept: Department) -> None:
    """A newly issued and anchored business licence passes proof, schema, validity, status and anchor."""
    report = any_dept.verifier().verify(any_dept.issue_licence().credential)
    assert report.ok, report.to_json()
    assert set(_outcomes(report).values()) == {"pass"}
    assert report.to_json()["kind"] == "tdex.credential-verification"


def test_not_yet_valid_and_expired_windows(dept: Department) -> None:
    """Before validFrom the validity check fails as not yet valid; after validUntil as expired."""
    issued = dept.issue_licence(valid_from=NOW + timedelta(days=1))
    early = dept.verifier().verify(issued.credential)
    assert not early.ok and early.check("validity").code == "credentials.validity.not_yet_valid"
    permit = dept.issuer.issue(
        FOOD_OPERATION_PERMIT,
        {
            "permitNumber": "JY23301020012345",
            "uscc": "91110000600037341L",
            "operatorName": "某某餐饮管理有限公司",
            "legalRepresentative": "李四",
            "domicile": "某市某区某路2号",
            "premises": "某市某区某路2号一层",
            "businessFormat": "餐饮服务经营者",
            "operatingItems": ["热食类食品制售"],
            "issuingAuthority": "某市市场监督管理局",
        },
    )
    assert permit.credential["validUntil"] == "2031-03-01T08:00:00Z"  # five years by default
    late = dept.verifier().verify(permit.credential, at=NOW + timedelta(days=5 * 366))
    assert not late.ok and late.check("validity").code == "credentials.validity.expired"
    assert late.check("proof").outcome is Outcome.PASS


def test_suspension_is_reported_and_lifted(dept: Department) -> None:
    """A suspended licence fails the status and anchor checks; reinstated, it passes again."""
    issued = dept.issue_licence()
    dept.apply(dept.issuer.suspend(issued.credential, "现场检查发现未按规定公示"))
    report = dept.verifier().verify(issued.credential)
    assert not report.ok
    assert report.check("status").code == "credentials.status.suspended"
    assert report.check("anchor").code == "credentials.status.suspended"
    assert report.check("proof").outcome is Outcome.PASS
    with pytest.raises(CredentialSuspended):
        report.raise_for_failure()
    dept.apply(dept.issuer.reinstate(issued.credential, "整改完成"))
    assert dept.verifier().verify(issued.credential).ok


def test_revocation_is_final(dept: Department) -> None:
    """A revoked licence fails as revoked and cannot be reinstated."""
    issued = dept.issue_licence()
    dept.apply(dept.issuer.revoke(issued.credential, "吊销营业执照"))
    report = dept.verifier().verify(issued.credential)
    assert report.check("status").code == "credentials.status.revoked"
    assert report.check("anchor").code == "credentials.status.revoked"
    with pytest.raises(IssuanceError) as info:
        dept.issuer.reinstate(issued.credential, "mistake")
    assert info.value.code == "credentials.issuance.error"


def test_stale_status_list_is_refused(dept: Department) -> None:
    """Replaying an older (signed, valid) status list fails once a newer version is anchored."""
    issued = dept.issue_licence()
    old_lists = copy.deepcopy(dept.issuer.status_list_credentials())
    dept.apply(dept.issuer.suspend(issued.credential, "暂停"))
    report = dept.verifier(status_lists=old_lists).verify(issued.credential)
    assert report.check("status").code == "credentials.status.mismatch"
    assert "latest anchored version" in report.check("status").detail


def test_wrong_issuer_fails_the_proof(dept: Department) -> None:
    """A credential naming the department as issuer but signed by another key fails the proof check."""
    credential = copy.deepcopy(dept.issue_licence().credential)
    del credential["proof"]
    forged = add_proof(credential, SigningKey.generate("intl"))
    report = dept.verifier().verify(forged)
    assert report.check("proof").code == "credentials.proof.issuer_mismatch"
    assert not report.ok


def test_untrusted_issuer_fails_the_proof(dept: Department) -> None:
    """With a trust list, a correctly signed credential from another issuer is refused."""
    other = make_department()
    credential = other.issue_licence().credential
    report = other.verifier(trusted_issuers=[dept.issuer.did]).verify(credential)
    assert report.check("proof").code == "credentials.proof.untrusted_issuer"


def test_unknown_schema_and_schema_violation(dept: Department) -> None:
    """A credential naming an unregistered schema, or breaking its schema, fails only the schema check."""
    key = SigningKey.generate("intl")
    base = copy.deepcopy(dept.issue_licence().credential)
    del base["proof"]
    base["issuer"] = {"id": key.verify_key.did, "name": "x"}
    unknown = {**base, "credentialSchema": {"id": "https://nowhere.example/s/1", "type": "JsonSchema"}}
    report = Verifier(clock=dept.clock).verify(add_proof(unknown, key))
    assert report.check("schema").code == "credentials.schema.unknown"
    assert report.check("proof").outcome is Outcome.PASS
    broken = copy.deepcopy(base)
    broken["credentialSubject"]["uscc"] = "not-a-uscc"
    report = Verifier(clock=dept.clock).verify(add_proof(broken, key))
    assert report.check("schema").code == "credentials.schema.violation"
    assert "uscc" in report.check("schema").detail


def test_issuer_refuses_bad_subjects(dept: Department) -> None:
    """Issuance checks the USCC check character and the schema before signing."""
    with pytest.raises(IssuanceError):
        dept.issue_licence(uscc="91110000600037341X")
    with pytest.raises(SchemaViolation) as info:
        dept.issue_licence(business_scope="")
    assert info.value.code == "credentials.schema.violation"


def test_status_list_unavailable_fails_unless_allowed(dept: Department) -> None:
    """Without its status list the status check fails; with require_status=False it is skipped."""
    credential = dept.issue_licence().credential
    report = dept.verifier(status_lists={}).verify(credential)
    assert report.check("status").code == "credentials.status.unavailable" and not report.ok
    relaxed = dept.verifier(status_lists={}, require_status=False).verify(credential)
    assert relaxed.check("status").outcome is Outcome.SKIPPED and relaxed.ok
    assert not dept.verifier(status_lists={}, require_status=False, strict=True).verify(credential).ok


def test_anchor_claimed_but_missing_fails(dept: Department) -> None:
    """A credential whose issuer claims a chain account fails when nothing is anchored for it."""
    issued = dept.issuer.issue("business-licence", dept.issue_licence().credential["credentialSubject"])
    report = dept.verifier().verify(issued.credential)
    assert report.check("anchor").code == "credentials.anchor.missing"


def test_anchor_without_chain_is_skipped(dept: Department) -> None:
    """Offline, an anchored credential's anchor check is skipped: ok unless strict."""
    credential = dept.issue_licence().credential
    report = dept.verifier(anchors=None).verify(credential)
    assert report.check("anchor").outcome is Outcome.SKIPPED and report.ok
    assert not dept.verifier(anchors=None, strict=True).verify(credential).ok


def test_anchor_mismatches(dept: Department) -> None:
    """Another chain, another anchoring account or another document under the id fail the anchor check."""
    issued = dept.issue_licence()
    elsewhere = InMemoryAnchors(CHAIN_ID + 1)
    report = dept.verifier(anchors=elsewhere).verify(issued.credential)
    assert report.check("anchor").code == "credentials.anchor.mismatch"

    thief = make_department(account="0x" + "ee" * 20)
    stolen = copy.deepcopy(issued.credential)
    a = issued.anchor
    thief.anchors.anchor(
        "0x" + "ee" * 20, a.anchor_id, a.subject_ref, a.document_hash, a.valid_from, a.valid_until
    )
    report = dept.verifier(anchors=thief.anchors).verify(stolen)
    assert report.check("anchor").code == "credentials.anchor.mismatch"

    reissued = dept.issuer.issue(
        "business-licence", issued.credential["credentialSubject"], credential_id=issued.credential["id"]
    )
    report = dept.verifier().verify(reissued.credential)
    assert report.check("anchor").code == "credentials.anchor.mismatch"


def test_outside_credential_is_not_anchored(dept: Department) -> None:
    """A credential that claims no anchor and has none is not anchored, and still ok."""
    key = SigningKey.generate("intl")
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:6c3c4f0e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": key.verify_key.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1", "name": "x"},
    }
    report = dept.verifier().verify(add_proof(doc, key))
    assert report.check("anchor").outcome is Outcome.NOT_ANCHORED and report.ok


def test_malformed_chain_account_fails_the_anchor_check(dept: Department) -> None:
    """An issuer chainAccount that is not CAIP-10 fails the anchor check and the schema still passes."""
    key = SigningKey.generate("intl")
    doc = copy.deepcopy(dept.issue_licence().credential)
    del doc["proof"]
    doc["issuer"] = {"id": key.verify_key.did, "name": "x", "chainAccount": "eth:0x12"}
    report = dept.verifier().verify(add_proof(doc, key))
    assert report.check("anchor").code == "credentials.malformed"
    assert chain_account(5, "0x" + "ab" * 20) == "eip155:5:0x" + "ab" * 20


def test_not_an_object_is_reported() -> None:
    """Verifying something that is not a JSON object reports a failed proof, not an exception."""
    report = Verifier().verify(["not", "a", "credential"])  # type: ignore[arg-type]
    assert not report.ok and report.check("proof").code == "credentials.malformed"


def test_issuer_state_round_trip(dept: Department) -> None:
    """An issuer rebuilt from its saved state keeps its lists, versions and allocated indices."""
    issued = dept.issue_licence()
    dept.apply(dept.issuer.suspend(issued.credential, "x"))
    state = dept.issuer.to_state()
    from credentials import CertificateIssuer

    again = CertificateIssuer(
        dept.issuer._key,  # the test reuses the key object; the CLI loads it from the keystore
        name="某市市场监督管理局",
        status_base_url="https://certs.tdex.example/status/market",
        subject_secret=b"x" * 32,
        chain_account=chain_account(CHAIN_ID, dept.account),
        clock=dept.clock,
        state=state,
    )
    assert again.to_state() == state
    change = again.reinstate(issued.credential, "ok")
    assert change.list_updates[0].version == 3
    assert change.changes[0][1] is CertificateStatus.ACTIVE


def test_verify_many_prefetches_when_the_anchors_can(dept: Department) -> None:
    """verify_many gives the same reports as verify, asking prefetch-capable anchors for all ids at once."""
    credentials = [dept.issue_licence().credential for _ in range(3)]
    asked: list[list[bytes]] = []

    class Prefetching:
        chain_id = dept.anchors.chain_id
        certificate = staticmethod(dept.anchors.certificate)
        status_list = staticmethod(dept.anchors.status_list)

        def prefetch(self, anchor_ids: list[bytes]) -> None:
            asked.append(list(anchor_ids))

    bulk = dept.verifier(anchors=Prefetching()).verify_many(credentials)
    single = [dept.verifier().verify(c) for c in credentials]
    assert [r.to_json() for r in bulk] == [r.to_json() for r in single]
    assert len(asked) == 1 and len(asked[0]) == 3


def test_status_list_signed_by_someone_else_is_refused(dept: Department) -> None:
    """A clean list naming the issuer but signed by another key does not hide a suspension."""
    issued = dept.issue_licence()
    dept.apply(dept.issuer.suspend(issued.credential, "暂停"))
    forged = {}
    for url, document in dept.issuer.status_list_credentials().items():
        clean = copy.deepcopy(document)
        del clean["proof"]
        clean["credentialSubject"]["encodedList"] = StatusList().encode()
        forged[url] = add_proof(clean, SigningKey.generate("intl"))
    report = dept.verifier(status_lists=forged, anchors=None).verify(issued.credential)
    assert report.check("status").code == "credentials.status.mismatch"
    assert "not signed by its issuer" in report.check("status").detail
