"""Risk signals over the trail (行为风险自动分析识别), each listed with the entries that raised it.

- ``query_rate``: more computations on one grant inside a sliding window than the rule allows;
- ``small_group_refusals``: many results refused for small groups on one grant (a differencing
  attack probes group sizes this way);
- ``budget_nearly_exhausted``: a grant's privacy budget left at or below a fraction of its total;
- ``outside_working_hours``: a member organisation acting outside working hours (local time,
  working days with holidays and 调休 workdays).

Computations are read from ``job.submitted`` and ``job.receipt`` entries and from the nodes' signed
``tdex.sandbox.receipt`` entries (see ``_kinds``): a ``failed`` receipt with error code
``sandbox.group_too_small`` is a small-group refusal, and the ``privacy.budget_spent_micro`` of a
grant's receipts add up against the grant's budget when ``RiskRules.budget_micro`` knows it. Every
member action counts for working hours.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api.audit._models import AuditEntryRow

__all__ = ["RiskRules", "RiskSignal", "risk_signals"]

_SYSTEM = {"", "system"}
_JOB_KINDS = {"job.submitted", "job.receipt", "tdex.sandbox.receipt"}
_GROUP_TOO_SMALL = "sandbox.group_too_small"


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of the signals; defaults suit a city exchange's office hours (UTC+8)."""

    rate_window_s: int = 3600
    max_jobs_per_window: int = 30
    refusal_window_s: int = 86_400
    max_small_group_refusals: int = 3
    budget_left_fraction: float = 0.1
    work_start: dt.time = dt.time(9, 0)
    work_end: dt.time = dt.time(18, 0)
    timezone: str = "Asia/Shanghai"
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    #: Privacy budget of each grant in micro-ε, for the nodes' receipts (keyed as ``grant_ids`` maps).
    budget_micro: Mapping[str, int] = field(default_factory=dict)
    #: The exchange's grant id of each chain grant id, so receipts that name only the chain's id
    #: count against the same grant as the exchange's own entries.
    grant_ids: Mapping[str, str] = field(default_factory=dict)

    def is_working_time(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` falls in working hours on a working day, in the rules' time zone."""
        local = moment.astimezone(_zone(self.timezone))
        day = local.date()
        working_day = day in self.workdays or (local.weekday() < 5 and day not in self.holidays)
        return working_day and self.work_start <= local.time() < self.work_end


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        # Hosts without tz data still know China Standard Time, which has no daylight saving.
        if name == "Asia/Shanghai":
            return dt.timezone(dt.timedelta(hours=8), "CST")
        raise


@dataclass(frozen=True)
class RiskSignal:
    """One signal: what, about whom, why, and the entries that raised it (log indices)."""

    kind: str
    subject: str
    detail: str
    entries: tuple[int, ...]
    first_time: dt.datetime
    last_time: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The signal as a JSON object."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "detail": self.detail,
            "entries": list(self.entries),
            "first_time": self.first_time.isoformat(),
            "last_time": self.last_time.isoformat(),
        }


@dataclass(frozen=True)
class _Row:
    idx: int
    kind: str
    actor: str
    at: dt.datetime
    record: dict[str, Any]


def risk_signals(
    session: Session,
    rules: RiskRules | None = None,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[RiskSignal]:
    """Every signal raised by entries in ``[since, until)``, grouped by kind then subject."""
    rules = rules or RiskRules()
    stmt = select(
        AuditEntryRow.idx,
        AuditEntryRow.kind,
        AuditEntryRow.actor,
        AuditEntryRow.occurred_at,
        AuditEntryRow.record_json,
    ).order_by(AuditEntryRow.idx)
    if since is not None:
        stmt = stmt.where(AuditEntryRow.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntryRow.occurred_at < until)
    rows = [_Row(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in session.execute(stmt)]
    return [
        *_query_rates(rows, rules),
        *_small_group_refusals(rows, rules),
        *_budgets(rows, rules),
        *_working_hours(rows, rules),
    ]


def _signal(kind: str, subject: str, detail: str, rows: Sequence[_Row]) -> RiskSignal:
    return RiskSignal(kind, subject, detail, tuple(r.idx for r in rows), rows[0].at, rows[-1].at)


def _grant(record: Mapping[str, Any], rules: RiskRules) -> str:
    """The grant an entry is about, by the exchange's id whenever it is known.

    A node's receipt names the grant by its chain id (``grant_id``, what the node checked on
    chain); the exchange adds its own ``exchange_grant_id`` when it records the receipt, and
    ``rules.grant_ids`` maps the chain ids of anchored grants, so that receipts and the exchange's
    own job entries count against one grant.
    """
    given = record.get("exchange_grant_id")
    if given:
        return str(given)
    grant = str(record.get("grant_id") or "")
    return rules.grant_ids.get(grant, grant)


def _job(record: Mapping[str, Any], idx: int) -> str:
    # Likewise: a node's receipt carries the node's job id and the exchange's (one per computation).
    return str(record.get("exchange_job_id") or record.get("job_id") or idx)


def _jobs(rows: Iterable[_Row], rules: RiskRules) -> dict[str, list[_Row]]:
    """Per grant, one row per job (its first entry), in time order."""
    seen: set[tuple[str, str]] = set()
    per_grant: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.kind not in _JOB_KINDS:
            continue
        grant, job = _grant(row.record, rules), _job(row.record, row.idx)
        if grant and (grant, job) not in seen:
            seen.add((grant, job))
            per_grant[grant].append(row)
    return per_grant


def _densest(rows: Sequence[_Row], window_s: int) -> list[_Row]:
    """The largest run of rows inside one window of ``window_s`` seconds."""
    best: list[_Row] = []
    run: deque[_Row] = deque()
    for row in sorted(rows, key=lambda r: (r.at, r.idx)):
        run.append(row)
        while (row.at - run[0].at).total_seconds() > window_s:
            run.popleft()
        if len(run) > len(best):
            best = list(run)
    return best


def _query_rates(rows: Sequence[_Row], rules: RiskRules) -> list[RiskSignal]:
    out = []
    for grant, jobs in sorted(_jobs(rows, rules).items()):
        burst = _densest(jobs, rules.rate_window_s)
        if len(burst) > rules.max_jobs_per_window:
            detail = (
                f"{len(burst)} computations within {rules.rate_window_s} s "
                f"(more than {rules.max_jobs_per_window} is unusual)"
            )
            out.append(_signal("query_rate", f"grant:{grant}", detail, burst))
    return out


def _small_group_refusals(rows: Sequence[_Row], rules: RiskRules) -> list[RiskSignal]:
    per_grant: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        ours = (
            row.kind == "job.receipt"
            and row.record.get("outcome") == "refused"
            and row.record.get("refusal_reason") == "small_group"
        )
        nodes = row.kind == "tdex.sandbox.receipt" and row.record.get("error_code") == _GROUP_TOO_SMALL
        if ours or nodes:
            per_grant[_grant(row.record, rules)].append(row)
    out = []
    for grant, refusals in sorted(per_grant.items()):
        burst = _densest(refusals, rules.refusal_window_s)
        if len(burst) >= rules.max_small_group_refusals:
            detail = (
                f"{len(burst)} results refused for small groups within {rules.refusal_window_s} s "
                "(probing group sizes, a differencing attack?)"
            )
            out.append(_signal("small_group_refusals", f"grant:{grant}", detail, burst))
    return out


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _budgets(rows: Sequence[_Row], rules: RiskRules) -> list[RiskSignal]:
    latest: dict[str, _Row] = {}
    spent: dict[str, int] = defaultdict(int)
    spenders: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        grant = _grant(row.record, rules)
        if row.kind == "job.receipt" and "budget_left" in row.record and "budget_total" in row.record:
            latest[grant] = row
        elif row.kind == "tdex.sandbox.receipt":
            micro = (row.record.get("privacy") or {}).get("budget_spent_micro")
            if isinstance(micro, int) and micro > 0:
                spent[grant] += micro
                spenders[grant].append(row)
    out = []
    for grant, used in sorted(spent.items()):
        micro_total = rules.budget_micro.get(grant)
        if micro_total and micro_total - used <= micro_total * rules.budget_left_fraction:
            detail = (
                f"privacy budget {max(micro_total - used, 0)} of {micro_total} micro-ε left "
                f"(at or below {rules.budget_left_fraction:.0%})"
            )
            out.append(_signal("budget_nearly_exhausted", f"grant:{grant}", detail, spenders[grant]))
    limit = Decimal(str(rules.budget_left_fraction))
    for grant, row in sorted(latest.items()):
        left, total = _decimal(row.record["budget_left"]), _decimal(row.record["budget_total"])
        if left is None or total is None or total <= 0:
            continue
        if left <= total * limit:
            detail = f"privacy budget {left} of {total} left (at or below {rules.budget_left_fraction:.0%})"
            out.append(_signal("budget_nearly_exhausted", f"grant:{grant}", detail, [row]))
    return out


def _working_hours(rows: Sequence[_Row], rules: RiskRules) -> list[RiskSignal]:
    per_actor: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.actor not in _SYSTEM and not rules.is_working_time(row.at):
            per_actor[row.actor].append(row)
    out = []
    for actor, found in sorted(per_actor.items()):
        detail = (
            f"{len(found)} actions outside working hours "
            f"({rules.work_start:%H:%M}–{rules.work_end:%H:%M} {rules.timezone}, working days)"
        )
        out.append(_signal("outside_working_hours", f"org:{actor}", detail, found))
    return out
