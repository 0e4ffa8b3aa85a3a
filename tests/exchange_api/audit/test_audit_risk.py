"""Risk signals over the trail, each listed with the entries that raised it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from audit_support import T0, Store, make_store

from exchange_api.audit import NewEntry, RiskRules, append_entries, risk_signals
from exchange_api.core.db import session_scope


def _add(store: Store, kind: str, at: dt.datetime, actor: str = "org_bank", **record: Any) -> None:
    body = {"version": 1, **record}
    refs = frozenset({f"org:{actor}"} | ({f"grant:{record['grant_id']}"} if "grant_id" in record else set()))
    with session_scope(store.sessions) as session:
        append_entries(
            session, [NewEntry(kind, actor, f"grant:{record.get('grant_id', '-')}", at, body, refs)]
        )


def _job(store: Store, n: int, at: dt.datetime, grant: str = "g1", **receipt: Any) -> None:
    _add(store, "job.submitted", at, grant_id=grant, job_id=f"j{n}", template="count")
    if receipt:
        _add(store, "job.receipt", at, grant_id=grant, job_id=f"j{n}", template="count", **receipt)


def _signals(store: Store, rules: RiskRules | None = None) -> dict[str, list[Any]]:
    with store.sessions() as session:
        found = risk_signals(session, rules or RiskRules())
    out: dict[str, list[Any]] = {}
    for s in found:
        out.setdefault(s.kind, []).append(s)
    return out


def test_quiet_trail_raises_nothing(tmp_path: Path) -> None:
    """A few jobs in working hours with budget left raise no signal."""
    store = make_store(tmp_path)
    for n in range(3):
        _job(
            store, n, T0 + dt.timedelta(minutes=n), outcome="released", budget_left="0.8", budget_total="1.0"
        )
    assert _signals(store) == {}
    store.engine.dispose()


def test_unusual_query_rate(tmp_path: Path) -> None:
    """More jobs on one grant inside the window than allowed raise query_rate with those jobs' entries."""
    store = make_store(tmp_path)
    for n in range(6):
        _job(store, n, T0 + dt.timedelta(minutes=n))
    _job(store, 99, T0 + dt.timedelta(days=1), grant="g2")
    signals = _signals(store, RiskRules(max_jobs_per_window=5))
    [rate] = signals["query_rate"]
    assert rate.subject == "grant:g1" and len(rate.entries) == 6
    assert rate.entries == tuple(range(6))


def test_small_group_refusals(tmp_path: Path) -> None:
    """Repeated small-group refusals on one grant are flagged as probing."""
    store = make_store(tmp_path)
    for n in range(3):
        _job(store, n, T0 + dt.timedelta(minutes=n), outcome="refused", refusal_reason="small_group")
    _job(store, 3, T0 + dt.timedelta(minutes=5), outcome="refused", refusal_reason="budget_exhausted")
    [signal] = _signals(store)["small_group_refusals"]
    assert signal.subject == "grant:g1" and signal.entries == (1, 3, 5)
    assert "differencing" in signal.detail


def test_budget_nearly_exhausted(tmp_path: Path) -> None:
    """The latest receipt of a grant with little budget left raises budget_nearly_exhausted."""
    store = make_store(tmp_path)
    _job(store, 0, T0, outcome="released", budget_left="0.5", budget_total="1.0")
    _job(store, 1, T0 + dt.timedelta(minutes=1), outcome="released", budget_left="0.05", budget_total="1.0")
    [signal] = _signals(store)["budget_nearly_exhausted"]
    assert signal.entries == (3,) and "0.05 of 1.0" in signal.detail


def test_outside_working_hours(tmp_path: Path) -> None:
    """Member actions at night, at weekends and on holidays are flagged; system actions and 调休 are not."""
    store = make_store(tmp_path)
    night = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    saturday = dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)  # 10:00, a Saturday
    holiday = dt.datetime(2026, 10, 1, 2, 0, tzinfo=dt.UTC)  # National Day, 10:00
    makeup = dt.datetime(2026, 10, 10, 2, 0, tzinfo=dt.UTC)  # a Saturday worked in exchange
    _add(store, "grant.revoked", T0, grant_id="g1", reason="x")
    _add(store, "grant.revoked", night, grant_id="g1", reason="x")
    _add(store, "grant.revoked", night, actor="system", grant_id="g1", reason="x")
    _add(store, "grant.revoked", saturday, grant_id="g1", reason="x")
    _add(store, "grant.revoked", holiday, grant_id="g1", reason="x")
    _add(store, "grant.revoked", makeup, grant_id="g1", reason="x")
    rules = RiskRules(holidays=frozenset({dt.date(2026, 10, 1)}), workdays=frozenset({dt.date(2026, 10, 10)}))
    [signal] = _signals(store, rules)["outside_working_hours"]
    assert signal.subject == "org:org_bank" and signal.entries == (1, 3, 4)
    assert signal.to_json()["entries"] == [1, 3, 4]


def _receipt(store: Store, n: int, at: dt.datetime, **fields: Any) -> None:
    body = {"receipt_id": f"rcpt_{n}", "job_id": f"job_{n}", "grant_id": 7, "outcome": "completed", **fields}
    _add(store, "tdex.sandbox.receipt", at, actor="system", **body)


def test_node_receipts_feed_the_signals(tmp_path: Path) -> None:
    """The nodes' signed receipts count as jobs, small-group failures and budget spent."""
    store = make_store(tmp_path)
    for n in range(3):
        _receipt(
            store, n, T0 + dt.timedelta(minutes=n), outcome="failed", error_code="sandbox.group_too_small"
        )
    for n in range(3, 5):
        _receipt(
            store, n, T0 + dt.timedelta(minutes=n), privacy={"epsilon": 0.5, "budget_spent_micro": 460_000}
        )
    signals = _signals(store, RiskRules(max_jobs_per_window=4, budget_micro={"7": 1_000_000}))
    assert [s.entries for s in signals["small_group_refusals"]] == [(0, 1, 2)]
    assert [s.entries for s in signals["query_rate"]] == [(0, 1, 2, 3, 4)]
    [budget] = signals["budget_nearly_exhausted"]
    assert budget.subject == "grant:7" and budget.entries == (3, 4) and "80000 of 1000000" in budget.detail
    store.engine.dispose()
