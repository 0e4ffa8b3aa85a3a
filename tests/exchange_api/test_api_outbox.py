"""The transactional outbox: chain outages and relay crashes lose nothing and duplicate nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from api_support import World, application, entry

from exchange_api.models import OutboxEntry
from exchange_api.outbox import Relay


def _approval(world: World) -> dict[str, Any]:
    return {
        "expires_at": (world.clock() + dt.timedelta(days=30)).isoformat(),
        "max_uses": 5,
        "privacy_budget": "1",
    }


def _effect_keys(world: World) -> Counter[tuple[str, str]]:
    keys: Counter[tuple[str, str]] = Counter()
    for effect in world.chain.effects:
        payload = effect["payload"]
        ident = payload.get("application_id") or payload.get("grant_id") or payload.get("org_id") or ""
        keys[(effect["kind"], f"{payload.get('code', '')}|{ident}|{payload.get('metadata_hash', '')}")] += 1
    return keys


def test_chain_outage_mid_workflow_loses_nothing(sqlite_world: World) -> None:
    """With the chain down the service keeps working; once it is back every write lands exactly once."""
    world = sqlite_world
    dept, bank = world["dept_a"].client, world["bank"].client
    dept.register(entry())
    first = bank.apply(application())
    world.relay.drain()
    world.chain.down = True
    approved = dept.approve(first["id"], _approval(world))
    second = world["logistics"].client.apply(application())
    dept.reject(second["id"], "用途不明确")
    body = {k: v for k, v in entry(name="企业登记基础信息（第二版）").items() if k != "code"}
    dept.publish_version("301001/000001", body)
    grant = bank.grant(approved["grant_id"])
    assert grant["status"] == "pending_anchor" and not grant["usable"]
    stats = world.relay.run_once()
    assert stats.unavailable and stats.waiting == 4
    assert (
        world["auditor"]
        .client.call("GET", "/outbox", params={"status": "pending"})[0]["last_error"]
        .startswith("chain.unavailable")
    )
    world.chain.down = False
    world.clock.advance(minutes=5)  # past the back-off
    world.relay.drain()
    assert bank.grant(approved["grant_id"])["usable"] is True
    counts = _effect_keys(world)
    assert all(n == 1 for n in counts.values()), counts
    assert sum(counts.values()) == len(world.chain.effects) == 5 + 6  # five admissions first
    health = world.http.get("/health").json()
    assert (health["outbox_waiting"], health["outbox_failed"]) == (0, 0)


def test_relay_killed_between_send_and_record_does_not_duplicate(sqlite_world: World) -> None:
    """A relay that dies after broadcasting re-sends the same stored transaction: one anchor on chain."""
    world = sqlite_world
    world["dept_a"].client.register(entry())
    world["bank"].client.apply(application())

    def killed(_: OutboxEntry) -> None:
        raise RuntimeError("relay killed after broadcast")

    doomed = Relay(
        world.app.state.sessions, world.chain, world.settings, clock=world.clock, after_broadcast=killed
    )
    with pytest.raises(RuntimeError, match="killed"):
        doomed.run_once()
    sent_before = world.chain.broadcasts
    assert sent_before >= 1
    world.relay.drain()
    assert world.chain.broadcasts > sent_before  # the same raw transactions went out again
    counts = _effect_keys(world)
    assert all(n == 1 for n in counts.values()), counts
    with world.app.state.sessions() as session:
        rows = session.query(OutboxEntry).all()
        assert {r.status for r in rows} == {"anchored"}
        assert len({r.tx_hash for r in rows}) == len(rows)


def test_failed_write_fails_what_depends_on_it(sqlite_world: World) -> None:
    """If the chain refuses an application, its approval fails too and the grant never becomes usable."""
    world = sqlite_world
    world.chain.rejecting.add("grants.apply")
    world["dept_a"].client.register(entry())
    app = world["bank"].client.apply(application())
    approved = world["dept_a"].client.approve(app["id"], _approval(world))
    world.relay.drain()
    grant = world["bank"].client.grant(approved["grant_id"])
    assert grant["status"] == "pending_anchor" and grant["usable"] is False
    assert grant["anchor"]["status"] == "failed"
    assert "dependency_failed" in grant["anchor"]["error"]
    assert world["bank"].client.application(app["id"])["anchor"]["error"].startswith("chain.reverted")
