"""Times in credentials: XML Schema dateTimeStamp parsing, the one spelling we write, and clocks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from credentials.errors import CredentialMalformed

__all__ = ["Clock", "format_time", "parse_time", "system_clock"]

#: A clock returns the current time as an aware datetime; verifiers take one so tests can fix "now".
Clock = Callable[[], datetime]

# xsd:dateTimeStamp: a date, a time, optional fractional seconds, and a mandatory time zone.
_DATETIME_STAMP = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
)


def system_clock() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def parse_time(value: object, field: str) -> datetime:
    """Parse an xsd:dateTimeStamp (time zone required) into an aware datetime; else CredentialMalformed."""
    if not isinstance(value, str) or not _DATETIME_STAMP.fullmatch(value):
        raise CredentialMalformed(f"{field} must be an XML Schema dateTimeStamp with a time zone")
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise CredentialMalformed(f"{field} {value[:40]!r} is not a real date and time") from None


def format_time(moment: datetime) -> str:
    """The one spelling this package writes: UTC to the second, `YYYY-MM-DDTHH:MM:SSZ`."""
    if moment.tzinfo is None:
        raise ValueError("format_time needs an aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
