"""Read-only figures over the applications table: how many each department receives, how fast it answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from exchange_api.models import Application, Organization
from exchange_api.schemas.applications import ApplicationState
from exchange_api.services.context import Ctx

__all__ = ["DepartmentLoad", "department_load"]

# An answer is a provider's decision; refusals, withdrawals and cancellations are nobody's answer.
_ANSWERED = (ApplicationState.APPROVED.value, ApplicationState.REJECTED.value)


@dataclass(frozen=True)
class DepartmentLoad:
    """Applications received by one providing department and its average answer time."""

    org_id: str
    name: str
    applications: int
    answered: int
    average_answer_hours: float | None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def department_load(ctx: Ctx) -> list[DepartmentLoad]:
    """Per providing department: applications received and the mean time to answer, busiest first.

    Only conditional applications count as answered (they are the ones with deadlines): an
    unconditional one is granted by the exchange at once and would pull every average to zero.
    Durations are averaged here rather than in SQL, which differs between SQLite and PostgreSQL.
    """
    session = ctx.session
    counts = session.execute(
        select(Application.provider_org_id, Organization.name, func.count())
        .join(Organization, Organization.id == Application.provider_org_id)
        .group_by(Application.provider_org_id, Organization.name)
    ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    answered = session.execute(
        select(Application.provider_org_id, Application.submitted_at, Application.decided_at).where(
            Application.state.in_(_ANSWERED),
            Application.answer_due.is_not(None),
            Application.decided_at.is_not(None),
        )
    )
    for org_id, submitted_at, decided_at in answered:
        assert decided_at is not None  # selected above
        seconds = (_aware(decided_at) - _aware(submitted_at)).total_seconds()
        durations[org_id].append(max(0.0, seconds) / 3600)
    loads = [
        DepartmentLoad(
            org_id=org_id,
            name=name,
            applications=int(n),
            answered=len(durations[org_id]),
            average_answer_hours=(
                sum(durations[org_id]) / len(durations[org_id]) if durations[org_id] else None
            ),
        )
        for org_id, name, n in counts
    ]
    return sorted(loads, key=lambda load: (-load.applications, load.name))
