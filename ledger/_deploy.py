"""Deployment of the six tdex contracts, its manifest, and the Deployment handle the facades hang from."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ledger._anchor import AuditAnchor
from ledger._catalog import DataCatalog
from ledger._certificates import CertificateRegistry
from ledger._chain import Chain
from ledger._consortium import Consortium
from ledger._credit import CreditLedger
from ledger._enums import Capability
from ledger._facade import contract_abi
from ledger._signing import Signer
from ledger._types import Event, TxRequest
from ledger.errors import DeploymentError

__all__ = ["CONTRACT_NAMES", "Admin", "DeployedContract", "Deployment", "Manifest", "attach", "deploy"]

#: Deployment order: each contract's constructor takes the addresses of those before it.
CONTRACT_NAMES: tuple[str, ...] = (
    "Consortium",
    "DataCatalog",
    "AccessGrants",
    "AuditAnchor",
    "CertificateRegistry",
    "CreditLedger",
)
MANIFEST_KIND = "tdex.ledger.manifest"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Admin:
    """A bootstrap ADMIN member of the Consortium: org id hash, account, capability bits."""

    org_id: bytes
    account: str
    capabilities: int = Capability.NONE


@dataclass(frozen=True, slots=True)
class DeployedContract:
    """One deployed contract in a manifest."""

    name: str
    address: str
    artifact_sha256: str
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class Manifest:
    """Where the contracts live on one chain, which artifacts they came from and how the Consortium began."""

    chain_id: int
    genesis_hash: str
    deployer: str
    deploy_block: int
    contracts: Mapping[str, DeployedContract]
    bootstrap: Mapping[str, Any] = field(default_factory=dict)
    kind: str = MANIFEST_KIND
    version: int = MANIFEST_VERSION

    def address(self, name: str) -> str:
        """Address of contract ``name``."""
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the manifest has no contract {name!r}") from None

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON object (what ``save`` writes)."""
        return {
            "kind": self.kind,
            "version": self.version,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "deployer": self.deployer,
            "deploy_block": self.deploy_block,
            "bootstrap": dict(self.bootstrap),
            "contracts": {name: asdict(c) for name, c in self.contracts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Read a manifest written by ``to_json``; DeploymentError when it is not one."""
        if data.get("kind") != MANIFEST_KIND or data.get("version") != MANIFEST_VERSION:
            raise DeploymentError(f"not a {MANIFEST_KIND} v{MANIFEST_VERSION} manifest")
        try:
            return cls(
                chain_id=int(data["chain_id"]),
                genesis_hash=str(data["genesis_hash"]),
                deployer=str(data["deployer"]),
                deploy_block=int(data["deploy_block"]),
                bootstrap=dict(data.get("bootstrap", {})),
                contracts={name: DeployedContract(**c) for name, c in data["contracts"].items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"malformed manifest: {exc}") from exc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the manifest atomically (a reader never sees half a file)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as tmp:
            json.dump(self.to_json(), tmp, indent=2, sort_keys=True)
            tmp.write("\n")
        os.replace(tmp.name, target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a manifest file; DeploymentError when missing or malformed."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise DeploymentError(f"cannot read manifest {path}: {exc}") from exc
        return cls.from_json(data)


def _artifact(name: str) -> tuple[dict[str, Any], str]:
    import contracts

    try:
        return contracts.load_artifact(name), contracts.artifact_sha256(name)
    except contracts.ContractsError as exc:
        raise DeploymentError(str(exc)) from exc


def _bootstrap(admins: Sequence[Admin], threshold: int) -> dict[str, Any]:
    return {
        "admins": [
            {
                "org_id": "0x" + a.org_id.hex(),
                "account": to_checksum_address(a.account),
                "capabilities": int(a.capabilities),
            }
            for a in admins
        ],
        "threshold": threshold,
    }


def _reusable(chain: Chain, manifest: Manifest, bootstrap: Mapping[str, Any]) -> bool:
    if manifest.chain_id != chain.chain_id or manifest.genesis_hash != chain.genesis_hash:
        return False
    if dict(manifest.bootstrap) != dict(bootstrap) or set(manifest.contracts) != set(CONTRACT_NAMES):
        return False
    for name in CONTRACT_NAMES:
        deployed = manifest.contracts[name]
        if deployed.artifact_sha256 != _artifact(name)[1] or not chain.code(deployed.address):
            return False
    return True


class Deployment:
    """The six contracts on one chain, with typed facades and one event reader over all of them."""

    def __init__(self, chain: Chain, manifest: Manifest, *, reused: bool = False) -> None:
        if manifest.chain_id != chain.chain_id:
            raise DeploymentError(f"the manifest is for chain {manifest.chain_id}, not {chain.chain_id}")
        self.chain = chain
        self.manifest = manifest
        #: Whether ``deploy`` found these contracts already deployed and reused them.
        self.reused = reused
        self.consortium = Consortium(chain, manifest.address("Consortium"))
        self.catalog = DataCatalog(chain, manifest.address("DataCatalog"))
        from ledger._grants import AccessGrants

        self.grants = AccessGrants(chain, manifest.address("AccessGrants"))
        self.anchor = AuditAnchor(chain, manifest.address("AuditAnchor"))
        self.certificates = CertificateRegistry(chain, manifest.address("CertificateRegistry"))
        self.credit = CreditLedger(chain, manifest.address("CreditLedger"))

    def __repr__(self) -> str:
        block = self.manifest.deploy_block
        return f"Deployment(chain_id={self.chain.chain_id}, block={block}, reused={self.reused})"

    @property
    def addresses(self) -> dict[str, str]:
        """Contract name → address."""
        return {name: c.address for name, c in self.manifest.contracts.items()}

    def events(
        self,
        from_block: int | None = None,
        to_block: int | None = None,
        *,
        names: Sequence[str] | None = None,
        chunk_size: int = 2_000,
    ) -> list[Event]:
        """Decoded events of the six contracts in chain order, from ``from_block`` (default: deploy block).

        For syncing an off-chain store: remember the last block read and continue from the next.
        """
        start = self.manifest.deploy_block if from_block is None else from_block
        return self.chain.events(
            start, to_block, addresses=list(self.addresses.values()), names=names, chunk_size=chunk_size
        )


def attach(chain: Chain, manifest: Manifest | str | os.PathLike[str]) -> Deployment:
    """A Deployment for contracts deployed earlier (a Manifest or the path of its file)."""
    loaded = manifest if isinstance(manifest, Manifest) else Manifest.load(manifest)
    for name, deployed in loaded.contracts.items():
        if not chain.code(deployed.address):
            raise DeploymentError(
                f"no code at {deployed.address} where the manifest puts {name} on {chain.name}"
            )
    return Deployment(chain, loaded)


def deploy(
    chain: Chain,
    deployer: Signer,
    admins: Sequence[Admin],
    *,
    threshold: int = 1,
    manifest_path: str | os.PathLike[str] | None = None,
) -> Deployment:
    """Deploy the Consortium (bootstrapped with ``admins``), DataCatalog, AccessGrants, AuditAnchor,
    CertificateRegistry and CreditLedger.

    With ``manifest_path``: when the file describes this chain (same chain id and genesis), the same
    artifacts and bootstrap, and code is at its addresses, the deployment is reused (``reused`` is
    True) and nothing is sent; otherwise the contracts are deployed and the file is (re)written.
    A manifest that lacks any of ``CONTRACT_NAMES`` (e.g. an older four-contract one) is not reused.
    A bootstrap the Consortium refuses raises its typed error (e.g. ConsortiumInvalidThreshold).
    """
    if not admins:
        raise DeploymentError("the Consortium needs at least one bootstrap admin")
    bootstrap = _bootstrap(admins, threshold)
    if manifest_path is not None and Path(manifest_path).exists():
        try:
            existing = Manifest.load(manifest_path)
        except DeploymentError:
            existing = None
        if existing is not None and _reusable(chain, existing, bootstrap):
            return Deployment(chain, existing, reused=True)

    deployed: dict[str, DeployedContract] = {}

    def create(name: str, *args: Any) -> str:
        artifact, digest = _artifact(name)
        code = bytes.fromhex(str(artifact["bytecode"]).removeprefix("0x"))
        data = code + contract_abi(name).encode_constructor(args)
        receipt = chain.send(deployer, TxRequest(to=None, data=data, label=f"deploy {name}"))
        if receipt.contract_address is None:  # pragma: no cover - a node bug
            raise DeploymentError(f"{name} deployment {receipt.tx_hash} reports no contract address")
        deployed[name] = DeployedContract(
            name, receipt.contract_address, digest, receipt.tx_hash, receipt.block_number
        )
        return receipt.contract_address

    consortium = create(
        "Consortium",
        [a.org_id for a in admins],
        [a.account for a in admins],
        [int(a.capabilities) for a in admins],
        threshold,
    )
    catalog = create("DataCatalog", consortium)
    create("AccessGrants", consortium, catalog)
    create("AuditAnchor", consortium)
    create("CertificateRegistry", consortium)
    create("CreditLedger", consortium)
    manifest = Manifest(
        chain_id=chain.chain_id,
        genesis_hash=chain.genesis_hash,
        deployer=deployer.address,
        deploy_block=deployed["Consortium"].block_number,
        contracts=deployed,
        bootstrap=bootstrap,
    )
    if manifest_path is not None:
        manifest.save(manifest_path)
    return Deployment(chain, manifest)
