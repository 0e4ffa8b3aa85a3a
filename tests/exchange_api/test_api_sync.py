"""The background sync flags disagreements between chain events and the store."""

from __future__ import annotations

import datetime as dt

from api_support import World, application, entry
from sqlalchemy import update

from exchange_api.models import Grant, ResourceVersion
from exchange_api.sync import ChainSync


def test_sync_agrees_when_nothing_was_tampered(sqlite_world: World) -> None:
    """After a normal workflow the sync finds no disagreement."""
    world = sqlite_world
    world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application())
    approval = {
        "expires_at": (world.clock() + dt.timedelta(days=9)).isoformat(),
        "max_uses": 3,
        "privacy_budget": "1",
    }
    world["dept_a"].client.approve(app["id"], approval)
    world.relay.drain()
    sync = ChainSync(world.app.state.sessions, world.chain, world.settings, clock=world.clock)
    assert sync.run_once() == 0
    assert world["auditor"].client.call("GET", "/chain/discrepancies") == []


def test_sync_flags_a_tampered_store(sqlite_world: World) -> None:
    """A metadata hash or agreement hash changed in the store after anchoring is flagged once."""
    world = sqlite_world
    world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application())
    approval = {
        "expires_at": (world.clock() + dt.timedelta(days=9)).isoformat(),
        "max_uses": 3,
        "privacy_budget": "1",
    }
    grant_id = world["dept_a"].client.approve(app["id"], approval)["grant_id"]
    world.relay.drain()
    with world.app.state.sessions() as session, session.begin():
        session.execute(update(ResourceVersion).values(metadata_hash="0x" + "11" * 32))
        session.execute(update(Grant).where(Grant.id == grant_id).values(agreement_hash="0x" + "22" * 32))
    sync = ChainSync(world.app.state.sessions, world.chain, world.settings, clock=world.clock)
    assert sync.run_once() == 2
    found = world["auditor"].client.call("GET", "/chain/discrepancies")
    assert sorted(d["field"] for d in found) == ["agreement_hash", "metadata_hash"]
    assert {d["store_value"] for d in found} == {"0x" + "11" * 32, "0x" + "22" * 32}
    world.chain.effects.append({**world.chain.effects[-1]})  # the same events read again
    assert ChainSync(world.app.state.sessions, world.chain, world.settings).run_once() == 0
    problem = world["bank"].client.request("GET", "/chain/discrepancies")
    assert (problem.status_code, problem.json()["code"]) == (403, "auth.forbidden")
