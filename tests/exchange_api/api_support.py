"""Helpers of the exchange suite (a uniquely named module: each test folder has its own conftest)."""

from __future__ import annotations

import datetime as dt
import secrets
import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its test client; `httpx` (pinned) still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from exchange_api.app import create_app
from exchange_api.chain import FakeChain
from exchange_api.client import ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.outbox import Relay
from keys import SigningKey

PG_HOST, PG_PORT = "127.0.0.1", 5432
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def pg_reachable() -> bool:
    """Whether a PostgreSQL server listens on 127.0.0.1:5432."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def pg_user() -> str:
    """The PostgreSQL user that may connect (postgres or root)."""
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="test", connect_timeout=2):
                return user
        except psycopg.Error:
            continue
    raise RuntimeError("PostgreSQL answers on 127.0.0.1:5432 but neither user postgres nor root may connect")


def make_uscc(seed: int) -> str:
    """A valid USCC (both check characters right) derived from `seed`."""
    body = f"{seed:08d}"[-8:]
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    value = 11 - sum(int(c, 36) * w for c, w in zip(body, weights, strict=True)) % 11
    org_check = "X" if value == 10 else "0" if value == 11 else str(value)
    first17 = "91" + "440300" + body + org_check
    total = sum(USCC_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_CHARSET[(31 - total % 31) % 31]


class Clock:
    """A test clock: real time plus an offset the test can advance."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def timestamp(self) -> float:
        """Unix seconds on this clock (what clients sign with)."""
        return self().timestamp()

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self.offset += dt.timedelta(**delta)


@dataclass
class Member:
    """A member organisation in a test: its id, key and signed client."""

    name: str
    role: str
    uscc: str
    key: SigningKey
    client: ExchangeClient
    org_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """An app on a fresh store with a fake chain, a relay, a clock and admitted members."""

    app: FastAPI
    http: TestClient
    chain: FakeChain
    relay: Relay
    clock: Clock
    settings: Settings
    members: dict[str, Member]

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    def client_for(self, key: SigningKey) -> ExchangeClient:
        """A signed client for any key (e.g. one the exchange does not know)."""
        return ExchangeClient("http://testserver", key, http=self.http, clock=self.clock.timestamp)


ROLES = {
    "bureau": "ADMIN",
    "dept_a": "DEPARTMENT",
    "dept_b": "DEPARTMENT",
    "bank": "ENTERPRISE",
    "logistics": "ENTERPRISE",
    "auditor": "AUDITOR",
}


def build_world(
    database_url: str,
    *,
    writer: Any = None,
    accounts: dict[str, str] | None = None,
    on_admitted: Any = None,
    **overrides: Any,
) -> Iterator[World]:
    """Start the app on `database_url` and admit one member per role.

    With a `writer` (e.g. a `LedgerWriter`), `accounts` gives each member's chain address and
    `on_admitted(name, org_id)` learns the exchange's id of each member as it is created.
    """
    clock = Clock()
    bureau_key = SigningKey.generate()
    settings = Settings(
        mode="test",
        database_url=database_url,
        bureau_name="市大数据局",
        bureau_uscc=make_uscc(1),
        bureau_public_key=bureau_key.verify_key.did,
        relay_interval_s=0.01,
        **overrides,
    )
    chain = FakeChain()
    app = create_app(settings, writer=writer if writer is not None else chain, clock=clock, run_relay=False)
    with TestClient(app, base_url="http://testserver") as http:
        relay: Relay = app.state.relay
        members: dict[str, Member] = {}
        for seed, (name, role) in enumerate(ROLES.items(), start=1):
            key = bureau_key if name == "bureau" else SigningKey.generate()
            client = ExchangeClient("http://testserver", key, http=http, clock=clock.timestamp)
            members[name] = Member(name, role, make_uscc(seed), key, client)
        bureau = members["bureau"]
        bureau.org_id = bureau.client.me()["id"]
        if on_admitted is not None:
            on_admitted("bureau", bureau.org_id)
        for name, member in members.items():
            if name == "bureau":
                continue
            org = bureau.client.admit(
                {
                    "name": name,
                    "uscc": member.uscc,
                    "role": member.role,
                    "public_keys": [member.key.verify_key.did],
                    "chain_account": (accounts or {}).get(name) or "0x" + secrets.token_hex(20),
                }
            )
            member.org_id = org["id"]
            if on_admitted is not None:
                on_admitted(name, org["id"])
        yield World(app, http, chain, relay, clock, settings, members)


def entry(code: str = "301001/000001", **changes: Any) -> dict[str, Any]:
    """A valid catalogue entry with `changes` applied."""
    classification_code = code.split("/")[0] + "000000"
    base: dict[str, Any] = {
        "code": code,
        "classification": {
            "category": classification_code[0],
            "item": classification_code[1:3],
            "catalog": classification_code[3:6],
        },
        "name": "企业登记基础信息",
        "summary": "本市市场主体登记注册的基础信息，包括名称、统一社会信用代码、法定代表人和注册资本。",
        "format": "database",
        "items": [
            {"name": "企业名称", "data_type": "string"},
            {"name": "统一社会信用代码", "data_type": "string"},
            {"name": "注册资本", "data_type": "decimal"},
            {"name": "成立日期", "data_type": "date"},
        ],
        "share_type": "conditional",
        "share_conditions": "仅用于信用评估，不得向第三方提供",
        "share_methods": ["interface"],
        "open_type": "not_open",
        "update_cycle": "daily",
        "release_date": "2024-01-15",
        "data_grade": "general",
        "related_codes": [],
    }
    base.update(changes)
    return base


TEMPLATE = "0x" + "ab" * 32
TEMPLATE_2 = "0x" + "cd" * 32


def application(code: str = "301001/000001", **changes: Any) -> dict[str, Any]:
    """A valid application for `code` with `changes` applied."""
    base: dict[str, Any] = {
        "resource_code": code,
        "purpose": "小微企业信用贷款风险评估（信易贷）",
        "requested_items": ["企业名称", "注册资本"],
        "computation_kinds": ["aggregate"],
        "templates": [TEMPLATE],
        "duration_days": 90,
    }
    base.update(changes)
    return base
