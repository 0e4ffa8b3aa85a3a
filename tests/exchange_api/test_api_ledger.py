"""The outbox relay on the real contracts (in-process EVM): every write lands once, with typed outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ROLES, World, application, build_world, entry, make_uscc

import keys
import ledger
from exchange_api.ledger_writer import LedgerWriter
from exchange_api.models import OutboxEntry
from exchange_api.outbox import Relay
from exchange_api.sync import ChainSync
from ledger import ids


@pytest.fixture
def chain_world(tmp_path: Any) -> Iterator[tuple[World, ledger.Deployment]]:
    """The exchange relaying to freshly deployed contracts on eth-tester, each member with its own key."""
    with ledger.connect("eth-tester") as chain:
        signers = {name: ledger.Signer.generate() for name in ROLES}
        chain.fund([s.address for s in signers.values()])
        bureau = signers["bureau"]
        dep = ledger.deploy(chain, bureau, [ledger.Admin(ids.org_id(make_uscc(1)), bureau.address)])
        by_org: dict[str, ledger.Signer] = {}
        writer = LedgerWriter(dep, by_org.get)
        for world in build_world(
            f"sqlite:///{tmp_path}/exchange.db",
            writer=writer,
            accounts={name: s.address for name, s in signers.items()},
            on_admitted=lambda name, org_id: by_org.__setitem__(org_id, signers[name]),
        ):
            stats = world.relay.drain()
            assert stats.failed == 0, stats.errors
            world["bureau"].extra["signers"] = by_org  # the keys the writer holds, by organisation id
            yield world, dep


def _approval(world: World) -> dict[str, Any]:
    return {
        "expires_at": (world.clock() + dt.timedelta(days=30)).isoformat(),
        "max_uses": 7,
        "privacy_budget": "2",
    }


def test_workflow_anchors_on_the_contracts(chain_world: tuple[World, ledger.Deployment]) -> None:
    """Admission, registration, application and approval land on chain with the store's hashes."""
    world, dep = chain_world
    bank_org = ids.org_id(world["bank"].uscc)
    assert dep.consortium.member(bank_org).account.lower() == world["bank"].client.me()["chain_account"]
    created = world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application())
    approved = world["dept_a"].client.approve(app["id"], _approval(world))
    stats = world.relay.drain()
    assert stats.failed == 0, stats.errors
    on_chain = dep.catalog.resource(ids.resource_id("301001/000001"))
    assert "0x" + on_chain.metadata_hash.hex() == created["current_version"]["metadata_hash"]
    grant = world["bank"].client.grant(approved["grant_id"])
    assert grant["usable"] is True
    chain_grant = dep.grants.grant(1)
    assert "0x" + chain_grant.agreement_hash.hex() == grant["agreement_hash"]
    assert (chain_grant.max_uses, chain_grant.privacy_budget) == (7, 2_000_000)
    assert ChainSync(world.app.state.sessions, world.app.state.relay._writer, world.settings).run_once() == 0


def test_relay_killed_after_broadcast_sends_one_transaction(
    chain_world: tuple[World, ledger.Deployment],
) -> None:
    """A relay dying between send and record re-broadcasts the same bytes: one application on chain."""
    world, dep = chain_world
    world["dept_a"].client.register(entry())
    world.relay.drain()
    world["bank"].client.apply(application())

    def killed(_: OutboxEntry) -> None:
        raise RuntimeError("relay killed after broadcast")

    writer = world.app.state.relay._writer
    doomed = Relay(
        world.app.state.sessions, writer, world.settings, clock=world.clock, after_broadcast=killed
    )
    with pytest.raises(RuntimeError, match="killed"):
        doomed.run_once()
    assert dep.grants.application_count() == 1  # it did reach the chain
    stats = world.relay.drain()
    assert stats.failed == 0, stats.errors
    assert dep.grants.application_count() == 1  # and was not sent a second time
    with world.app.state.sessions() as session:
        assert {r.status for r in session.query(OutboxEntry)} == {"anchored"}


def test_contract_refusal_is_stored_with_its_code(chain_world: tuple[World, ledger.Deployment]) -> None:
    """A write the contracts refuse fails with the contract's error code, and nothing retries it."""
    world, _dep = chain_world
    # The auditor is no department: the catalogue contract refuses its registration.
    with world.app.state.sessions() as session, session.begin():
        session.add(
            OutboxEntry(
                kind="catalog.register",
                sender_org_id=world["auditor"].org_id,
                payload={
                    "code": "301001/000009",
                    "share_type": "conditional",
                    "open_type": "not_open",
                    "metadata_hash": "0x" + "11" * 32,
                    "schema_hash": "0x" + "22" * 32,
                    "version": 1,
                },
                status="pending",
                attempts=0,
                next_attempt_at=world.clock(),
                created_at=world.clock(),
                updated_at=world.clock(),
            )
        )
    stats = world.relay.drain()
    assert stats.failed == 1
    failed = world["auditor"].client.call("GET", "/outbox", params={"status": "failed"})
    assert "DataCatalogNotDepartment" in failed[0]["last_error"]


def test_unconditional_grant_matches_the_chain(chain_world: tuple[World, ledger.Deployment]) -> None:
    """A grant issued at once carries the same limits and agreement hash as the contract's grant."""
    world, dep = chain_world
    world["dept_b"].client.register(entry("201002/000001", share_type="unconditional", share_conditions=None))
    world.relay.drain()
    app = world["bank"].client.apply(application("201002/000001", requested_items=["企业名称"]))
    assert world.relay.drain().failed == 0
    grant = world["bank"].client.grant(app["grant_id"])
    assert grant["usable"] is True
    on_chain = dep.grants.grant(1)
    assert "0x" + on_chain.agreement_hash.hex() == grant["agreement_hash"]
    assert (on_chain.max_uses, on_chain.privacy_budget) == (grant["max_uses"], 10_000_000)
    assert grant["privacy_budget"] == "10"


def test_a_missing_account_key_waits_instead_of_failing(chain_world: tuple[World, ledger.Deployment]) -> None:
    """A write whose sender has no account key held waits with the reason, and lands once the key is there."""
    world, dep = chain_world
    held = world["bureau"].extra["signers"]
    dept_id = world["dept_a"].org_id
    key = held.pop(dept_id)
    world["dept_a"].client.register(entry())
    stats = world.relay.drain()
    assert (stats.failed, stats.waiting) == (0, 1)
    waiting = world["auditor"].client.call("GET", "/outbox", params={"status": "pending"})
    assert waiting[0]["last_error"].startswith("chain.no_signer")
    held[dept_id] = key
    assert world.relay.drain().anchored == 1
    assert dep.catalog.exists(ids.resource_id("301001/000001"))


def test_admission_grants_capabilities_on_chain(chain_world: tuple[World, ledger.Deployment]) -> None:
    """Capabilities given with an admission (e.g. CERT_ISSUER) are what the Consortium records."""
    world, dep = chain_world
    uscc = make_uscc(4242)
    account = ledger.Signer.generate()
    world["bureau"].client.admit(
        {
            "name": "市市场监督管理局（证照）",
            "uscc": uscc,
            "role": "DEPARTMENT",
            "capabilities": ["CERT_ISSUER", "CREDIT_RECORDER"],
            "public_keys": [keys.Ed25519SigningKey.generate().verify_key.did],
            "chain_account": account.address,
        }
    )
    assert world.relay.drain().failed == 0
    member = dep.consortium.member(ids.org_id(uscc))
    assert member.capabilities == ledger.Capability.CERT_ISSUER | ledger.Capability.CREDIT_RECORDER
