"""Typed dependencies of the routes: the signed caller, its unit of work, paging and idempotency."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Header, Query, Request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import JSONResponse, Response

from exchange_api._crypto import digest_hex
from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from exchange_api.core.security import RequestVerifier
from exchange_api.services import idempotency
from exchange_api.services.context import Actor, Ctx

T = TypeVar("T")


# Dependencies are async on purpose: FastAPI runs every sync dependency in the thread pool, and
# these do no I/O of their own (verification goes to the pool once, in `get_unit`).
async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_factory(request: Request) -> sessionmaker[Session]:
    """The session factory of the app's store."""
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


SettingsDep = Annotated[Settings, Depends(get_settings)]
FactoryDep = Annotated[sessionmaker[Session], Depends(get_factory)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Same key and body: the first result again; same key, different body: 422.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=200, description="Continue after this cursor (from `Link`).")]


@dataclass
class Unit:
    """One request's unit of work: runs a service in a transaction, as the signed caller."""

    request: Request
    factory: sessionmaker[Session]
    settings: Settings
    body: bytes
    actor: Actor

    def read(self, fn: Callable[[Ctx], T]) -> T:
        """Run a read-only service call."""
        with session_scope(self.factory) as session:
            return fn(Ctx(session, self.settings, self.actor, self.request.app.state.clock))

    def show(self, fn: Callable[[Ctx], BaseModel]) -> Response:
        """Run a read returning one model, serialised once (no second validation on the way out)."""
        return Response(self.read(fn).model_dump_json(), media_type="application/json")

    def page(
        self, fn: Callable[[Ctx], tuple[Sequence[BaseModel], str | None]], model: type[BaseModel]
    ) -> Response:
        """Run a listing; its next page goes in a `Link` header and in `next_cursor`."""
        items, next_cursor = self.read(fn)
        body = model(items=items, next_cursor=next_cursor)
        headers = {}
        if next_cursor is not None:
            params = dict(self.request.query_params)
            params["cursor"] = next_cursor
            headers["Link"] = f'<{self.request.url.path}?{urlencode(params)}>; rel="next"'
        return Response(body.model_dump_json(), media_type="application/json", headers=headers)

    def jsonld(self, fn: Callable[[Ctx], tuple[dict[str, Any], str | None]]) -> Response:
        """Run an export returning a JSON-LD document and the next page's cursor."""
        doc, next_cursor = self.read(fn)
        headers = {}
        if next_cursor is not None:
            params = dict(self.request.query_params)
            params["cursor"] = next_cursor
            headers["Link"] = f'<{self.request.url.path}?{urlencode(params)}>; rel="next"'
        return JSONResponse(doc, media_type="application/ld+json", headers=headers)

    def write(
        self,
        key: str | None,
        fn: Callable[[Ctx], BaseModel],
        status_code: int = 200,
        location: Callable[[Any], str] | None = None,
    ) -> Response:
        """Run a state change; with an `Idempotency-Key` the first response is kept and replayed."""
        request_hash = digest_hex(
            self.request.method.encode() + b" " + self.request.url.path.encode() + b"\n" + self.body
        )
        try:
            with session_scope(self.factory) as session:
                ctx = Ctx(session, self.settings, self.actor, self.request.app.state.clock)
                if key is not None:
                    kept = idempotency.lookup(ctx, key, request_hash)
                    if kept is not None:
                        return _replay(kept)
                result = fn(ctx)
                body = result.model_dump_json()
                where = location(result) if location is not None else None
                if key is not None:
                    idempotency.remember(
                        ctx, key, request_hash, idempotency.StoredResponse(status_code, body, where)
                    )
        except IntegrityError:
            # A concurrent request with the same key won the race: answer with what it kept.
            if key is None:
                raise
            with session_scope(self.factory) as session:
                kept = idempotency.lookup(Ctx(session, self.settings, self.actor), key, request_hash)
            if kept is None:
                raise
            return _replay(kept)
        return _response(status_code, body, where)


def _response(status_code: int, body: str, location: str | None) -> Response:
    headers = {"Location": location} if location else None
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _replay(kept: idempotency.StoredResponse) -> Response:
    response = _response(kept.status_code, kept.body, kept.location)
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_unit(request: Request) -> Unit:
    """The caller's unit of work, once its signature verifies (401 otherwise, before anything else)."""
    # Read from app.state directly rather than through sub-dependencies: this runs on every request.
    factory: sessionmaker[Session] = request.app.state.sessions
    settings: Settings = request.app.state.settings
    body = await request.body()
    verifier: RequestVerifier = request.app.state.verifier
    # Verified on the event loop: an Ed25519 check, a cached key and one small insert take less
    # than the two GIL hand-offs a trip through the thread pool costs (measured in bench/api.py).
    actor = verifier.verify(
        method=request.method, url=str(request.url), headers=dict(request.headers), body=body
    )
    return Unit(request, factory, settings, body, actor)


UnitDep = Annotated[Unit, Depends(get_unit)]
