"""Request authentication: RFC 9421-style signatures verified through `keys`, with a SQL replay cache.

This is the one place where signature failures from `keys` become `NotAuthenticated` errors.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from exchange_api.errors import NotAuthenticated
from exchange_api.models import Organization, OrgKey, SeenNonce
from exchange_api.services.context import Actor
from keys import VerifyKey, verify_key_from_did, verify_request
from keys.errors import RequestSignatureError

__all__ = ["RequestVerifier", "SqlReplayCache"]

# Statements built once (per-call construction costs more than running them; see bench/api.py).
_PURGE_NONCES = delete(SeenNonce).where(SeenNonce.expires_at < bindparam("cutoff"))
_KEY_LOOKUP = (
    select(OrgKey.public_key, Organization.id, Organization.role, Organization.status)
    .join(Organization, Organization.id == OrgKey.org_id)
    .where(OrgKey.key_id == bindparam("key_id"), OrgKey.status == "current")
)

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
    """A `keys.ReplayCache` in the store, so a nonce stays spent across restarts and processes.

    One INSERT per request, straight to the driver on a pooled connection: the primary key
    (key id, nonce) refuses a second use, so no SELECT goes first. Spent nonces are purged at
    most once a minute.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._engine = factory.kw["bind"]
        self._next_purge = 0.0
        dialect = self._engine.dialect
        # The column type's own bind processing (UTC, naive on SQLite), as the ORM would apply it.
        self._stamp = SeenNonce.__table__.c.expires_at.type.bind_processor(dialect)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        # Constant text only; the placeholder style is the driver's (qmark for SQLite, %s otherwise).
        self._insert_sql = "INSERT INTO seen_nonces (key_id, nonce, expires_at) VALUES (?, ?, ?)".replace(
            "?", mark
        )
        self._duplicate = dialect.loaded_dbapi.IntegrityError

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        """Store `key` until `expires_at`; False if it is already there."""
        if now >= self._next_purge:
            # Spent nonces leave once their window has closed: the window refuses them anyway.
            self._next_purge = now + 60
            with self._engine.begin() as conn:
                conn.execute(_PURGE_NONCES, {"cutoff": dt.datetime.fromtimestamp(now, dt.UTC)})
        key_id, _, nonce = key.partition("\x00")
        expires = dt.datetime.fromtimestamp(expires_at, dt.UTC)
        params = (key_id[:200], nonce[:128], self._stamp(expires) if self._stamp is not None else expires)
        # Straight to the driver: SQLAlchemy's statement and result handling cost more than the
        # insert itself on this per-request path (measured in bench/api.py).
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._insert_sql, params)
            finally:
                cursor.close()
            connection.commit()
        except self._duplicate:
            connection.rollback()
            return False
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()
        return True


@dataclass(frozen=True)
class _KnownKey:
    key: VerifyKey
    actor: Actor
    until: float


class RequestVerifier:
    """Verifies a request's signature and names the organisation that signed it.

    Known keys are cached for `key_cache_s` seconds, so a key retired or an organisation suspended
    in the store stops working within that time; unknown keys are never cached.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        window_s: int,
        clock: Callable[[], dt.datetime],
        *,
        key_cache_s: float = 5.0,
    ) -> None:
        self._factory = factory
        self._window_s = window_s
        self._clock = clock
        self._cache = SqlReplayCache(factory)
        self._key_cache_s = key_cache_s
        self._known: dict[str, _KnownKey] = {}
        self._lock = threading.Lock()

    def _lookup(self, key_id: str) -> _KnownKey | None:
        now = time.monotonic()
        known = self._known.get(key_id)
        if known is not None and known.until > now:
            return known
        with self._factory() as session:
            row = session.execute(_KEY_LOOKUP, {"key_id": key_id}).first()
        if row is None or row.status != "active":
            with self._lock:
                self._known.pop(key_id, None)
            return None
        actor = Actor(row.id, row.role)
        known = _KnownKey(verify_key_from_did(row.public_key), actor, now + self._key_cache_s)
        with self._lock:
            self._known[key_id] = known
        return known

    def verify(self, *, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Actor:
        """The signing organisation of the request, or `NotAuthenticated` with a precise code."""
        found: dict[str, _KnownKey] = {}

        def resolve(key_id: str) -> VerifyKey | None:
            known = self._lookup(key_id)
            if known is None:
                return None
            found["key"] = known
            return known.key

        try:
            verify_request(
                method,
                url,
                headers,
                body,
                resolve_key=resolve,
                now=self._clock().timestamp(),
                replay_cache=self._cache,
                window_s=self._window_s,
            )
        except RequestSignatureError as error:
            raise NotAuthenticated(str(error), code=_CODES.get(error.code, "auth.unauthenticated")) from None
        return found["key"].actor

    async def verify_async(self, *, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Actor:
        """`verify` off the event loop (it reads and writes the store)."""
        return await run_in_threadpool(
            lambda: self.verify(method=method, url=url, headers=headers, body=body)
        )
