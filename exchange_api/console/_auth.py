"""Signing in to the console with the organisation's key, never with a password or a pasted key.

1. ``GET /console/sign-in`` issues a one-time challenge (random, bound to this exchange's host
   and to the browser by a cookie) and shows it.
2. The organisation signs it where its key lives: ``tdex console sign CHALLENGE --org ORG`` prints
   a token (a `keys` signed document, base64url), which is pasted into the page.
3. The exchange verifies the signature against the organisation's current registered keys,
   spends the challenge and opens a session: a random token in an HttpOnly, SameSite=Strict
   cookie, of which only a digest is stored, with its own CSRF token for the page's forms.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from exchange_api.errors import Forbidden, NotAuthenticated
from exchange_api.models import Organization, OrgKey
from exchange_api.models_console import ConsoleChallenge, ConsoleSession
from exchange_api.services.context import Actor, Ctx
from exchange_api.services.events import record_event
from keys import SigningKey, canonical_json, verify_key_from_did, verify_signed
from keys.errors import KeysError

__all__ = [
    "CHALLENGE_PREFIX",
    "ConsoleUser",
    "end_session",
    "issue_challenge",
    "session_user",
    "sign_challenge",
    "sign_in",
]

CHALLENGE_PREFIX = "tdex-console-sign-in"
PURPOSE = "tdex.console.sign-in"
CHALLENGE_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=8)
MAX_TOKEN_CHARS = 8192


@dataclass(frozen=True)
class ConsoleUser:
    """The organisation signed in to a browser, and the session's CSRF token."""

    org_id: str
    org_name: str
    role: str
    key_id: str
    csrf_token: str

    @property
    def actor(self) -> Actor:
        """The actor the console's service calls run as."""
        return Actor(org_id=self.org_id, role=self.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_challenge(session: Session, host: str, now: dt.datetime) -> str:
    """A new challenge for `host`, stored until it is used or expires.

    Anyone may ask for a challenge, so expired ones are deleted here: the table holds at most the
    last ten minutes' worth, however many sign-in pages are opened.
    """
    session.execute(delete(ConsoleChallenge).where(ConsoleChallenge.expires_at <= now))
    challenge = f"{CHALLENGE_PREFIX}:{host}:{secrets.token_urlsafe(24)}"
    session.add(ConsoleChallenge(challenge=challenge, created_at=now, expires_at=now + CHALLENGE_TTL))
    return challenge


def sign_challenge(key: SigningKey, challenge: str) -> str:
    """The token that answers `challenge` (what ``tdex console sign`` prints)."""
    document = key.sign_document({"purpose": PURPOSE, "challenge": challenge})
    return base64.urlsafe_b64encode(canonical_json(document)).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    token = "".join(token.split())  # pasted tokens may be wrapped over several lines
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise NotAuthenticated("the sign-in token is empty or too long", code="console.bad_token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = json.loads(raw)
    except ValueError:
        raise NotAuthenticated(
            "the sign-in token is not what `tdex console sign` prints (base64url JSON)",
            code="console.bad_token",
        ) from None
    if not isinstance(document, dict):
        raise NotAuthenticated("the sign-in token is not a signed document", code="console.bad_token")
    return document


def sign_in(ctx: Ctx, token: str, expected_challenge: str | None) -> tuple[str, ConsoleUser]:
    """Verify `token` for the browser's challenge and open a session: (cookie value, user)."""
    document = _decode_token(token)
    kid = document.get("signature", {}).get("kid") if isinstance(document.get("signature"), dict) else None
    row = (
        ctx.session.execute(
            select(OrgKey.public_key, Organization)
            .join(Organization, Organization.id == OrgKey.org_id)
            .where(OrgKey.key_id == str(kid), OrgKey.status == "current")
        ).first()
        if isinstance(kid, str)
        else None
    )
    if row is None:
        raise NotAuthenticated(
            "the token is signed by a key no member organisation has registered as current",
            code="console.unknown_key",
        )
    public_key, org = row
    try:
        payload = verify_signed(document, trusted=[verify_key_from_did(public_key)]).payload
    except KeysError as exc:
        raise NotAuthenticated(
            f"the token's signature does not verify: {exc}", code="console.bad_signature"
        ) from None
    challenge = payload.get("challenge") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or payload.get("purpose") != PURPOSE or not isinstance(challenge, str):
        raise NotAuthenticated("the signed document is not a console sign-in", code="console.bad_token")
    if expected_challenge is None or not hmac.compare_digest(challenge, expected_challenge):
        raise NotAuthenticated(
            "the token answers a different challenge than the one this browser was shown; "
            "sign the challenge on this page",
            code="console.wrong_challenge",
        )
    now = ctx.now()
    # Spend the challenge atomically: of two concurrent sign-ins with one token, one wins.
    spent = ctx.session.execute(
        update(ConsoleChallenge)
        .where(
            ConsoleChallenge.challenge == challenge,
            ConsoleChallenge.used_at.is_(None),
            ConsoleChallenge.expires_at > now,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise NotAuthenticated(
            "this challenge has expired or was already used; reload the page for a new one",
            code="console.challenge_spent",
        )
    if org.status != "active":
        raise Forbidden(f"organisation {org.id} is {org.status}", code="console.org_inactive")
    # Sessions that ended or expired open nothing again (the trail keeps the sign-ins and -outs).
    ctx.session.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.expires_at <= now, ConsoleSession.ended_at.is_not(None))
        )
    )
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    ctx.session.add(
        ConsoleSession(
            token_digest=_digest(cookie),
            org_id=org.id,
            key_id=str(kid),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    record_event(ctx, "console.signed_in", f"org:{org.id}", f"org:{org.id}", {"key_id": str(kid)})
    return cookie, ConsoleUser(org.id, org.name, org.role, str(kid), csrf)


def session_user(session: Session, cookie: str | None, now: dt.datetime) -> ConsoleUser | None:
    """The user of a session cookie, or None when absent, unknown, ended, expired or suspended."""
    if not cookie or len(cookie) > 128:
        return None
    row = session.execute(
        select(ConsoleSession, Organization)
        .join(Organization, Organization.id == ConsoleSession.org_id)
        .join(OrgKey, OrgKey.key_id == ConsoleSession.key_id)
        .where(
            ConsoleSession.token_digest == _digest(cookie),
            ConsoleSession.ended_at.is_(None),
            ConsoleSession.expires_at > now,
            Organization.status == "active",
            OrgKey.status == "current",  # a rotated-out key ends its sessions
        )
    ).first()
    if row is None:
        return None
    sess, org = row
    return ConsoleUser(org.id, org.name, org.role, sess.key_id, sess.csrf_token)


def end_session(ctx: Ctx, cookie: str) -> None:
    """End the session of `cookie` (signing out), recorded in the trail."""
    ended = ctx.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_digest == _digest(cookie), ConsoleSession.ended_at.is_(None))
        .values(ended_at=ctx.now())
    )
    if ended.rowcount == 1:  # type: ignore[attr-defined]
        record_event(ctx, "console.signed_out", ctx.actor.subject, ctx.actor.subject, {})
