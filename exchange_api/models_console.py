"""SQLAlchemy models of the web console: sign-in challenges and browser sessions.

Created by migration ``0006_console``. Only digests of session tokens are stored: a copy of the
table does not let anyone sign in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange_api.models import Base

__all__ = ["ConsoleChallenge", "ConsoleSession"]


class ConsoleChallenge(Base):
    """A sign-in challenge shown in a browser, to be signed by an organisation's key once."""

    __tablename__ = "console_challenges"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class ConsoleSession(Base):
    """A signed-in browser: the organisation and key that answered the challenge."""

    __tablename__ = "console_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(200))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
