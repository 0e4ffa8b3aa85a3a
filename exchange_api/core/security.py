"""Request authentication: RFC 9421-style signatures verified through `keys`, with a SQL replay cache.

This is the one place where signature failures from `keys` become `NotAuthenticated` errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from exchange_api.errors import NotAuthenticated
from exchange_api.models import Organization, OrgKey, SeenNonce
from exchange_api.services.context import Actor

__all__ = ["RequestVerifier", "SqlReplayCache"]

# keys' request-signature error codes and the exchange's codes for them.
_CODES = {
    "keys.http.missing": "auth.missing_signature",
    "keys.http.expired": "auth.expired",
    "keys.http.replayed": "auth.replayed",
    "keys.http.bad_digest": "auth.bad_digest",
    "keys.http.bad_signature": "auth.bad_signature",
    "keys.http.unknown_key": "auth.unknown_key",
}


class SqlReplayCache:
    """A `keys.ReplayCache` in the store, so a nonce stays spent across restarts and processes."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._next_purge = 0.0

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        """Store `key` until `expires_at`; False if it is already there."""
        key_id, _, nonce = key.partition("\x00")
        expires = dt.datetime.fromtimestamp(expires_at, dt.UTC)
        try:
            with self._factory() as session, session.begin():
                if now >= self._next_purge:
                    # Spent nonces leave once their window closes; the signature window refuses them anyway.
                    session.execute(
                        delete(SeenNonce).where(SeenNonce.expires_at < dt.datetime.fromtimestamp(now, dt.UTC))
                    )
                    self._next_purge = now + 60
                session.add(SeenNonce(key_id=key_id[:200], nonce=nonce[:128], expires_at=expires))
        except IntegrityError:
            return False
        return True


class RequestVerifier:
    """Verifies a request's signature and names the organisation that signed it."""

    def __init__(
        self, factory: sessionmaker[Session], window_s: int, clock: Callable[[], dt.datetime]
    ) -> None:
        self._factory = factory
        self._window_s = window_s
        self._clock = clock
        self._cache = SqlReplayCache(factory)

    def _resolve(self, session: Session) -> Callable[[str], object | None]:
        from keys import verify_key_from_did

        def resolve(key_id: str) -> object | None:
            row = session.execute(
                select(OrgKey.public_key, Organization.status)
                .join(Organization, Organization.id == OrgKey.org_id)
                .where(OrgKey.key_id == key_id, OrgKey.status == "current")
            ).first()
            if row is None or row.status != "active":
                return None
            return verify_key_from_did(row.public_key)

        return resolve

    def verify(self, *, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Actor:
        """The signing organisation of the request, or `NotAuthenticated` with a precise code."""
        from keys import verify_request
        from keys.errors import RequestSignatureError

        with self._factory() as session:
            try:
                verified = verify_request(
                    method,
                    url,
                    headers,
                    body,
                    resolve_key=self._resolve(session),  # type: ignore[arg-type]
                    now=self._clock().timestamp(),
                    replay_cache=self._cache,
                    window_s=self._window_s,
                )
            except RequestSignatureError as error:
                code = _CODES.get(getattr(error, "code", ""), "auth.unauthenticated")
                raise NotAuthenticated(str(error), code=code) from None
            row = session.execute(
                select(Organization.id, Organization.role)
                .join(OrgKey, OrgKey.org_id == Organization.id)
                .where(OrgKey.key_id == verified.key_id)
            ).one()
        return Actor(org_id=row.id, role=row.role)

    async def verify_async(self, *, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Actor:
        """`verify` off the event loop (it reads the store)."""
        return await run_in_threadpool(
            lambda: self.verify(method=method, url=url, headers=headers, body=body)
        )
