"""budget_nearly_exhausted over HTTP: the nodes' receipts name chain grant ids, the exchange maps them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api_support import TEMPLATE, World, application, entry

from exchange_api.audit import append_event
from exchange_api.core.db import session_scope
from exchange_api.models import Grant
from exchange_api.services.jobs import chain_grant_id


def _approved_grant(world: World, budget: str) -> tuple[str, int]:
    """A grant with privacy budget ``budget``, anchored: (exchange grant id, chain grant id)."""
    dept, bank = world["dept_a"].client, world["bank"].client
    dept.register(entry())
    app = bank.apply(application(templates=[TEMPLATE]))
    dept.review(app["id"])
    decision = {
        "expires_at": (world.clock() + dt.timedelta(days=30)).isoformat(),
        "max_uses": 10,
        "privacy_budget": budget,
        "templates": [TEMPLATE],
    }
    grant_id = dept.approve(app["id"], decision)["grant_id"]
    assert world.relay.drain().failed == 0
    with world.app.state.sessions() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        on_chain = chain_grant_id(session, grant)
    assert on_chain is not None
    return grant_id, on_chain


def _receipt(world: World, n: int, chain_grant: int, spent_micro: int, **exchange_ids: Any) -> int:
    """Log a node's receipt as the exchange records it; returns its entry index."""
    record = {
        "kind": "tdex.sandbox.receipt",
        "version": 1,
        "receipt_id": f"rcpt_{n}",
        "job_id": f"node_job_{n}",
        "grant_id": chain_grant,
        "outcome": "completed",
        "privacy": {"epsilon": 0.5, "budget_spent_micro": spent_micro},
        **exchange_ids,
    }
    provider = world["dept_a"].org_id
    with session_scope(world.app.state.sessions) as session:
        return append_event(
            session, "tdex.sandbox.receipt", provider, f"job:{n}", record, world.clock()
        ).index


def test_budget_nearly_exhausted_is_listed_over_http(sqlite_world: World) -> None:
    """Receipts spending 92 % of a grant's budget raise the signal on the exchange's grant, with both entries.

    One receipt carries the exchange's ids, the other names only the chain's grant id: both count.
    """
    world = sqlite_world
    grant_id, on_chain = _approved_grant(world, "1.0")
    first = _receipt(world, 1, on_chain, 460_000, exchange_grant_id=grant_id, exchange_job_id="job_1")
    second = _receipt(world, 2, on_chain, 460_000)
    signals = world["auditor"].client.call("GET", "/audit/risks")["signals"]
    [budget] = [s for s in signals if s["kind"] == "budget_nearly_exhausted"]
    assert budget["subject"] == f"grant:{grant_id}"
    assert budget["entries"] == [first, second]
    assert "80000 of 1000000" in budget["detail"]


def test_budget_signal_waits_for_the_threshold(sqlite_world: World) -> None:
    """Half the budget spent raises nothing; the receipt that leaves 8 % raises it with both entries."""
    world = sqlite_world
    grant_id, on_chain = _approved_grant(world, "1.0")
    ids = {"exchange_grant_id": grant_id}
    first = _receipt(world, 1, on_chain, 460_000, exchange_job_id="job_1", **ids)
    quiet = world["auditor"].client.call("GET", "/audit/risks")["signals"]
    assert not [s for s in quiet if s["kind"] == "budget_nearly_exhausted"]
    second = _receipt(world, 2, on_chain, 460_000, exchange_job_id="job_2", **ids)
    signals = world["auditor"].client.call("GET", "/audit/risks")["signals"]
    [budget] = [s for s in signals if s["kind"] == "budget_nearly_exhausted"]
    assert budget["subject"] == f"grant:{grant_id}"
    assert budget["entries"] == [first, second]
    assert "80000 of 1000000" in budget["detail"]
