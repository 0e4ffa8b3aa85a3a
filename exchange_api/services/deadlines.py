"""Working-day deadlines of pending applications, counted in the city's local time (UTC+8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

__all__ = ["LOCAL", "add_working_days", "is_working_day"]

LOCAL = dt.timezone(dt.timedelta(hours=8), "CST")


def is_working_day(day: dt.date, holidays: Set[dt.date], workdays: Set[dt.date]) -> bool:
    """Monday to Friday unless a holiday; a listed make-up working day (调休) counts too."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    start: dt.datetime, days: int, holidays: Set[dt.date] = frozenset(), workdays: Set[dt.date] = frozenset()
) -> dt.datetime:
    """The end (23:59:59.999999 local) of the `days`-th working day after the local day of `start`."""
    if days < 1:
        raise ValueError("a deadline needs at least one working day")
    day = start.astimezone(LOCAL).date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays, workdays):
            counted += 1
    end = dt.datetime.combine(day, dt.time.max, tzinfo=LOCAL)
    return end.astimezone(dt.UTC)
