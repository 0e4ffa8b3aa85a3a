"""What every service call gets: the session, the settings, the clock and the calling actor."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exchange_api.core.config import Settings


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Actor:
    """The organisation a request was signed by, and its role."""

    org_id: str
    role: str

    @property
    def subject(self) -> str:
        """How the actor appears in recorded events."""
        return f"org:{self.org_id}"


SYSTEM = Actor(org_id="system", role="SYSTEM")


@dataclass
class Ctx:
    """One unit of work: everything a service function needs, passed in explicitly."""

    session: Session
    settings: Settings
    actor: Actor
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        """The time this unit of work runs at."""
        return self.clock()


def new_id(prefix: str, now: dt.datetime) -> str:
    """A time-ordered, unguessable id: prefix, milliseconds since the epoch (hex), 64 random bits."""
    return f"{prefix}_{int(now.timestamp() * 1000):012x}{secrets.token_hex(8)}"
