"""Fixtures of the exchange suite: a store on SQLite and PostgreSQL, an app, signed member clients."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from api_support import PG_HOST, PG_PORT, World, build_world, pg_reachable, pg_user
from sqlalchemy import text

from exchange_api.core.db import make_engine


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not pg_reachable():
        reason = "PostgreSQL is not reachable on 127.0.0.1:5432: the API suite runs on SQLite only"
        print(f"\n[exchange_api] {reason}")
        pytest.skip(reason)
    user = pg_user()
    name = f"tdex_test_{secrets.token_hex(4)}"
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # the name is ours, not user input
    try:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or a new schema in the session's PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/exchange.db"
        return
    base = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(6)}"
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """A running exchange with one member per role on a fresh store."""
    yield from build_world(database_url)


@pytest.fixture
def sqlite_world(tmp_path: Any) -> Iterator[World]:
    """Like `world`, on SQLite only (for tests about the chain or the relay, not the store)."""
    yield from build_world(f"sqlite:///{tmp_path}/exchange.db")
