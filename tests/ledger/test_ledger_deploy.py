"""Deployment: the manifest, reuse on the same chain, redeployment when anything differs, attaching."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import contracts
import ledger
from ledger import Admin, Capability, Signer
from ledger.errors import DeploymentError, revert_class
from ledger.ids import org_id


@pytest.fixture(scope="module")
def chain() -> Iterator[ledger.Chain]:
    """One eth-tester chain for the module (deployment is what is tested, so no snapshots)."""
    with ledger.connect("eth-tester") as connected:
        yield connected


@pytest.fixture(scope="module")
def bureau(chain: ledger.Chain) -> Signer:
    """A funded deployer and bootstrap admin."""
    signer = Signer.generate()
    chain.fund(signer.address)
    return signer


def _admins(bureau: Signer) -> list[Admin]:
    return [Admin(org_id("bureau"), bureau.address, Capability.LOG_OPERATOR)]


def test_manifest_records_what_was_deployed(chain: ledger.Chain, bureau: Signer, tmp_path: Path) -> None:
    """The manifest names the chain, deployer, block, and each contract's address and artifact hash."""
    path = tmp_path / "manifest.json"
    dep = ledger.deploy(chain, bureau, _admins(bureau), manifest_path=path)
    assert not dep.reused
    data = json.loads(path.read_text())
    assert data["kind"] == "tdex.ledger.manifest" and data["version"] == 1
    assert data["chain_id"] == chain.chain_id
    assert data["genesis_hash"] == chain.genesis_hash
    assert data["deployer"] == bureau.address
    assert data["deploy_block"] == dep.manifest.contracts["Consortium"].block_number
    assert set(data["contracts"]) == set(ledger.CONTRACT_NAMES)
    for name, entry in data["contracts"].items():
        assert entry["artifact_sha256"] == contracts.artifact_sha256(name)
        assert chain.code(entry["address"])
    assert data["bootstrap"]["threshold"] == 1
    assert ledger.Manifest.from_json(data) == dep.manifest


def test_second_deploy_reuses_the_manifest(chain: ledger.Chain, bureau: Signer, tmp_path: Path) -> None:
    """Deploying again with the same artifacts and bootstrap sends nothing and returns the same addresses."""
    path = tmp_path / "manifest.json"
    first = ledger.deploy(chain, bureau, _admins(bureau), manifest_path=path)
    block = chain.block_number()
    again = ledger.deploy(chain, bureau, _admins(bureau), manifest_path=path)
    assert again.reused
    assert again.addresses == first.addresses
    assert chain.block_number() == block


def test_different_bootstrap_or_chain_redeploys(chain: ledger.Chain, bureau: Signer, tmp_path: Path) -> None:
    """A manifest for another bootstrap, another chain or missing code is not reused."""
    path = tmp_path / "manifest.json"
    first = ledger.deploy(chain, bureau, _admins(bureau), manifest_path=path)
    other_admins = [Admin(org_id("bureau"), bureau.address, Capability.NONE)]
    second = ledger.deploy(chain, bureau, other_admins, manifest_path=path)
    assert not second.reused and second.addresses != first.addresses
    data = json.loads(path.read_text())
    data["chain_id"] = 1
    path.write_text(json.dumps(data))
    third = ledger.deploy(chain, bureau, other_admins, manifest_path=path)
    assert not third.reused and third.addresses != second.addresses


def test_attach_checks_code(chain: ledger.Chain, bureau: Signer, tmp_path: Path) -> None:
    """Attaching reads a manifest file; an address without code is refused naming the contract."""
    path = tmp_path / "manifest.json"
    dep = ledger.deploy(chain, bureau, _admins(bureau), manifest_path=path)
    attached = ledger.attach(chain, path)
    assert attached.addresses == dep.addresses
    assert attached.consortium.threshold() == 1
    data = json.loads(path.read_text())
    data["contracts"]["AuditAnchor"]["address"] = "0x" + "12" * 20
    with pytest.raises(DeploymentError) as caught:
        ledger.attach(chain, ledger.Manifest.from_json(data))
    assert "AuditAnchor" in str(caught.value)
    assert caught.value.code == "ledger.deployment"


def test_malformed_manifest_is_refused(tmp_path: Path) -> None:
    """A file that is not a manifest raises DeploymentError."""
    path = tmp_path / "manifest.json"
    path.write_text("{not json")
    with pytest.raises(DeploymentError):
        ledger.Manifest.load(path)
    path.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(DeploymentError):
        ledger.Manifest.load(path)


def test_refused_bootstrap_raises_the_consortium_error(chain: ledger.Chain, bureau: Signer) -> None:
    """A threshold larger than the admins is the Consortium's typed error, from the constructor."""
    with pytest.raises(revert_class("ConsortiumInvalidThreshold")) as caught:
        ledger.deploy(chain, bureau, _admins(bureau), threshold=3)
    assert caught.value.arguments == {"threshold": 3, "activeAdmins": 1}


def test_no_admins_is_refused(chain: ledger.Chain, bureau: Signer) -> None:
    """Deploying without bootstrap admins is refused before anything is sent."""
    with pytest.raises(DeploymentError):
        ledger.deploy(chain, bureau, [])


def test_manifest_round_trip(chain: ledger.Chain, bureau: Signer, tmp_path: Path) -> None:
    """save then load gives the same manifest."""
    dep = ledger.deploy(chain, bureau, _admins(bureau))
    path = tmp_path / "m.json"
    dep.manifest.save(path)
    assert ledger.Manifest.load(path) == dep.manifest
