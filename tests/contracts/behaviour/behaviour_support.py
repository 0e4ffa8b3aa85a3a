"""The world the contract behaviour suites run in: a deployment, a cast of members, small helpers.

The same suites run on eth-tester and on Anvil through the ledger client; test modules import from
here, never from ``conftest`` (each test folder has one, and only one can be ``import conftest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import ledger
from ledger import Admin, Capability, Role, Signer
from ledger.errors import ContractRevert, revert_class
from ledger.ids import org_id, resource_id, text_hash

BACKENDS = ["eth-tester", pytest.param("anvil", marks=pytest.mark.anvil)]
DAY = 24 * 3600


def h(label: str) -> bytes:
    """A readable 32-byte test digest."""
    return text_hash("tdex.test", label)


@dataclass
class World:
    """A deployment on one backend with a consortium: two admins, two departments, two firms, an auditor."""

    chain: ledger.Chain
    dep: ledger.Deployment
    bureau: Signer
    second_admin: Signer
    health: Signer
    transport: Signer
    bank: Signer
    logistics: Signer
    auditor: Signer
    outsider: Signer

    @property
    def consortium(self) -> ledger.Consortium:
        return self.dep.consortium

    @property
    def catalog(self) -> ledger.DataCatalog:
        return self.dep.catalog

    @property
    def grants(self) -> ledger.AccessGrants:
        return self.dep.grants

    @property
    def anchor(self) -> ledger.AuditAnchor:
        return self.dep.anchor

    def now(self) -> int:
        """The latest block's timestamp."""
        return self.chain.timestamp()

    def register(self, code: str, share: ledger.ShareType, provider: Signer | None = None) -> bytes:
        """Register resource ``code`` (as the health department by default); returns its resource id."""
        rid = resource_id(code)
        self.catalog.register(
            provider or self.health, rid, share, ledger.OpenType.NOT_OPEN, h(f"meta {code}"), h("schema")
        )
        return rid


MEMBERS = [
    ("health", Role.DEPARTMENT, Capability.NONE),
    ("transport", Role.DEPARTMENT, Capability.NONE),
    ("bank", Role.ENTERPRISE, Capability.NONE),
    ("logistics", Role.ENTERPRISE, Capability.NONE),
    ("auditor", Role.AUDITOR, Capability.WITNESS),
]


def build_world(backend: str) -> Iterator[World]:
    """Connect, fund, deploy (threshold one) and admit the cast; yields the world, then closes."""
    with ledger.connect(backend) as chain:
        signers = {
            name: Signer.generate()
            for name in ["bureau", "second_admin", *[m[0] for m in MEMBERS], "outsider"]
        }
        chain.fund([s.address for s in signers.values()])
        admins = [
            Admin(org_id("bureau"), signers["bureau"].address, Capability.LOG_OPERATOR),
            Admin(org_id("second_admin"), signers["second_admin"].address, Capability.NONE),
        ]
        dep = ledger.deploy(chain, signers["bureau"], admins, threshold=1)
        for name, role, caps in MEMBERS:
            outcome = dep.consortium.propose_admission(
                signers["bureau"], org_id(name), signers[name].address, role, caps
            )
            assert outcome.executed
        yield World(chain=chain, dep=dep, **signers)


def expect_revert(error_name: str) -> pytest.RaisesExc[ContractRevert]:
    """``pytest.raises`` for the typed exception of the Solidity error ``error_name``."""
    return pytest.raises(revert_class(error_name))


def rolled_back(world: World) -> Iterator[World]:
    """Run a test from a snapshot of ``world`` and restore it afterwards."""
    snapshot = world.chain.snapshot()
    try:
        yield world
    finally:
        world.chain.revert_to(snapshot)
