"""CertificateRegistry through the ledger client on eth-tester: anchors, status, batches, status lists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils import keccak

import ledger
from ledger import Admin, Capability, CertificateRegistry, CertificateStatus, Role, Signer
from ledger.errors import revert_class
from ledger.ids import org_id

SUBJECT = keccak(text="subject-ref")
DOC = keccak(text="document")
REASON = keccak(text="reason")


@dataclass
class World:
    """A chain with a bureau, two certificate issuers, a credit recorder and a bank, and a registry."""

    chain: ledger.Chain
    deployment: ledger.Deployment
    registry: CertificateRegistry
    bureau: Signer
    market: Signer
    health: Signer
    tax: Signer
    bank: Signer


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One deployment for the module; each test runs from a snapshot of it."""
    with ledger.connect("eth-tester") as chain:
        signers = [Signer.generate() for _ in range(5)]
        bureau, market, health, tax, bank = signers
        chain.fund([s.address for s in signers])
        dep = ledger.deploy(chain, bureau, [Admin(org_id("bureau"), bureau.address)])
        for name, signer, role, caps in [
            ("market", market, Role.DEPARTMENT, Capability.CERT_ISSUER),
            ("health", health, Role.DEPARTMENT, Capability.CERT_ISSUER),
            ("tax", tax, Role.DEPARTMENT, Capability.CREDIT_RECORDER),
            ("bank", bank, Role.ENTERPRISE, Capability.NONE),
        ]:
            dep.consortium.propose_admission(bureau, org_id(name), signer.address, role, caps)
        registry = CertificateRegistry.deploy(chain, bureau, dep.consortium.address)
        yield World(chain, dep, registry, bureau, market, health, tax, bank)


@pytest.fixture
def w(world: World) -> Iterator[World]:
    """The module's world, rolled back after the test."""
    snapshot = world.chain.snapshot()
    yield world
    world.chain.revert_to(snapshot)


def _anchor(w: World, label: str = "cert-1", signer: Signer | None = None) -> bytes:
    anchor_id = keccak(text=label)
    w.registry.anchor(signer or w.market, anchor_id, SUBJECT, DOC, 1_700_000_000, 1_900_000_000)
    return anchor_id


def test_issuer_anchors_a_certificate(w: World) -> None:
    """An active CERT_ISSUER anchors a certificate, ACTIVE, owned by its organisation, findable by subject."""
    anchor_id = keccak(text="cert-1")
    receipt = w.registry.anchor(w.market, anchor_id, SUBJECT, DOC, 1_700_000_000, 0)
    event = receipt.event("CertificateAnchored")
    assert (event["anchorId"], event["issuerOrgId"], event["anchoredBy"]) == (
        anchor_id,
        org_id("market"),
        w.market.address,
    )
    cert = w.registry.certificate(anchor_id)
    assert cert.status is CertificateStatus.ACTIVE and cert.valid_until == 0
    assert (cert.issuer_org_id, cert.subject_ref, cert.document_hash) == (org_id("market"), SUBJECT, DOC)
    assert w.registry.certificates_of(SUBJECT) == [anchor_id]
    assert w.registry.find(keccak(text="nothing")) is None and w.registry.exists(anchor_id)


@pytest.mark.parametrize("who", ["tax", "bank", "bureau"])
def test_only_cert_issuers_anchor(w: World, who: str) -> None:
    """Members without CERT_ISSUER (a credit recorder, a bank, an admin) cannot anchor."""
    signer = getattr(w, who)
    with pytest.raises(revert_class("CertificateRegistryNotIssuer")) as info:
        _anchor(w, signer=signer)
    assert info.value.account == signer.address
    assert info.value.code == "ledger.revert.CertificateRegistryNotIssuer"


def test_anchor_inputs_are_checked(w: World) -> None:
    """An anchor id is used once; zero ids, missing digests and inverted windows are refused."""
    anchor_id = _anchor(w)
    with pytest.raises(revert_class("CertificateRegistryAlreadyAnchored")) as dup:
        _anchor(w, signer=w.health)
    assert dup.value.anchor_id == anchor_id
    with pytest.raises(revert_class("CertificateRegistryInvalidAnchorId")):
        w.registry.anchor(w.market, bytes(32), SUBJECT, DOC, 1, 0)
    with pytest.raises(revert_class("CertificateRegistryMissingDigest")):
        w.registry.anchor(w.market, keccak(text="x"), SUBJECT, bytes(32), 1, 0)
    with pytest.raises(revert_class("CertificateRegistryInvalidValidity")) as window:
        w.registry.anchor(w.market, keccak(text="y"), SUBJECT, DOC, 10, 10)
    assert (window.value.valid_from, window.value.valid_until) == (10, 10)


def test_status_lifecycle_and_final_revocation(w: World) -> None:
    """Suspend, reinstate, revoke; after revocation nothing changes; each change is an event."""
    anchor_id = _anchor(w)
    receipt = w.registry.set_status(w.market, anchor_id, CertificateStatus.SUSPENDED, REASON)
    event = receipt.event("CertificateStatusChanged")
    assert (event["previousStatus"], event["status"]) == (
        CertificateStatus.ACTIVE,
        CertificateStatus.SUSPENDED,
    )
    w.registry.set_status(w.market, anchor_id, CertificateStatus.ACTIVE, bytes(32))
    w.registry.set_status(w.market, anchor_id, CertificateStatus.REVOKED, REASON)
    cert = w.registry.certificate(anchor_id)
    assert cert.status is CertificateStatus.REVOKED and cert.reason_hash == REASON
    with pytest.raises(revert_class("CertificateRegistryCertificateRevoked")):
        w.registry.set_status(w.market, anchor_id, CertificateStatus.ACTIVE, bytes(32))


def test_status_changes_are_checked(w: World) -> None:
    """Another issuer, NONE or the same status, a missing reason, an unknown id are each refused."""
    anchor_id = _anchor(w)
    with pytest.raises(revert_class("CertificateRegistryNotCertificateIssuer")) as other:
        w.registry.set_status(w.health, anchor_id, CertificateStatus.SUSPENDED, REASON)
    assert other.value.account == w.health.address
    for status in (CertificateStatus.NONE, CertificateStatus.ACTIVE):
        with pytest.raises(revert_class("CertificateRegistryInvalidStatus")) as bad:
            w.registry.set_status(w.market, anchor_id, status, REASON)
        assert bad.value.status == status
    with pytest.raises(revert_class("CertificateRegistryMissingReason")):
        w.registry.set_status(w.market, anchor_id, CertificateStatus.REVOKED, bytes(32))
    with pytest.raises(revert_class("CertificateRegistryUnknownCertificate")):
        w.registry.set_status(w.market, keccak(text="none"), CertificateStatus.REVOKED, REASON)


def test_batch_is_all_or_nothing(w: World) -> None:
    """A batch suspends many certificates in one transaction; one bad id reverts the whole batch."""
    ids = [_anchor(w, f"cert-{i}") for i in range(5)]
    receipt = w.registry.set_status_batch(w.market, ids, CertificateStatus.SUSPENDED, REASON)
    assert len(receipt.events_named("CertificateStatusChanged")) == 5
    assert all(w.registry.certificate(i).status is CertificateStatus.SUSPENDED for i in ids)
    with pytest.raises(revert_class("CertificateRegistryUnknownCertificate")):
        w.registry.set_status_batch(w.market, [*ids, keccak(text="none")], CertificateStatus.REVOKED, REASON)
    assert w.registry.certificate(ids[0]).status is CertificateStatus.SUSPENDED
    with pytest.raises(revert_class("CertificateRegistryInvalidBatch")) as empty:
        w.registry.set_status_batch(w.market, [], CertificateStatus.REVOKED, REASON)
    assert (empty.value.length, empty.value.max) == (0, 1000)


def test_status_list_versions(w: World) -> None:
    """Versions count up from 1 by the publishing organisation; each stays readable, findable by time."""
    list_id = keccak(text="list")
    w.registry.anchor_status_list(w.market, list_id, 1, keccak(text="v1"))
    first_time = w.chain.timestamp()
    w.chain.advance_time(100)
    w.registry.anchor_status_list(w.market, list_id, 2, keccak(text="v2"))
    assert w.registry.latest_status_list(list_id).list_hash == keccak(text="v2")  # type: ignore[union-attr]
    assert w.registry.status_list_at(list_id, 1).list_hash == keccak(text="v1")
    assert w.registry.status_list_at_time(list_id, first_time + 50).version == 1  # type: ignore[union-attr]
    assert w.registry.status_list_at_time(list_id, first_time - 1) is None
    assert w.registry.status_list_publisher(list_id) == org_id("market")
    with pytest.raises(revert_class("CertificateRegistryVersionNotNext")) as skip:
        w.registry.anchor_status_list(w.market, list_id, 4, keccak(text="v4"))
    assert (skip.value.expected, skip.value.given) == (3, 4)
    with pytest.raises(revert_class("CertificateRegistryNotListOwner")):
        w.registry.anchor_status_list(w.health, list_id, 3, keccak(text="v3"))
    with pytest.raises(revert_class("CertificateRegistryUnknownListVersion")):
        w.registry.status_list_at(list_id, 3)
    with pytest.raises(revert_class("CertificateRegistryInvalidStatusList")):
        w.registry.anchor_status_list(w.market, list_id, 3, bytes(32))


def test_rotation_keeps_the_issuers_certificates(w: World) -> None:
    """After the issuer rotates its account, the new account changes status; anchoredBy keeps the old one."""
    anchor_id = _anchor(w)
    new_market = Signer.generate()
    w.chain.fund(new_market.address)
    w.deployment.consortium.rotate_account(w.market, new_market.address)
    w.registry.set_status(new_market, anchor_id, CertificateStatus.SUSPENDED, REASON)
    cert = w.registry.certificate(anchor_id)
    assert cert.status is CertificateStatus.SUSPENDED and cert.anchored_by == w.market.address
    with pytest.raises(revert_class("CertificateRegistryNotIssuer")):
        w.registry.set_status(w.market, anchor_id, CertificateStatus.ACTIVE, bytes(32))


def test_find_many_matches_single_reads(w: World) -> None:
    """Batched reads decode exactly what `certificate` returns, and None for unknown ids."""
    ids = [_anchor(w, f"bulk-{i}") for i in range(3)]
    w.registry.set_status(w.market, ids[1], CertificateStatus.SUSPENDED, REASON)
    unknown = keccak(text="unknown")
    found = w.registry.find_many([*ids, unknown], batch_size=2)
    assert found[:3] == [w.registry.certificate(i) for i in ids] and found[3] is None
