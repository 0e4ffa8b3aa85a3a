"""Operations: `/healthz` (alive), `/readyz` (ready to serve), `/metrics` (Prometheus), request ids.

None of these is signed and none is in the OpenAPI document: they are for the orchestrator and
the monitoring, not for members. `install(app)` adds the routes and the middleware that gives
every request an `X-Request-Id` (the caller's when plain, else a new one), counts it for
`/metrics` and writes one JSON access-log line (never headers, bodies or signatures).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_api.audit._anchoring import Anchorer, AnchoringStatus
from exchange_api.core import db
from exchange_api.core.db import session_scope
from exchange_api.logs import ACCESS_LOGGER, safe_request_id
from exchange_api.metrics import CONTENT_TYPE, Gauge, Registry
from exchange_api.models import OutboxEntry

__all__ = ["install", "node_names", "router"]

router = APIRouter(tags=["operations"], include_in_schema=False)
log = logging.getLogger(ACCESS_LOGGER)
WAITING = ("pending", "signed", "sent")
PROBE_TIMEOUT_S = 2.0
NODE_CACHE_S = 15.0


def node_names(urls: Sequence[str]) -> dict[str, str]:
    """Department node base URLs (`Settings.node_urls`) as node name -> URL; the name is the host."""
    out: dict[str, str] = {}
    for url in (u.strip() for u in urls):
        if url:
            out[httpx.URL(url).host or url] = url.rstrip("/")
    return out


def migration_state(engine: Engine) -> tuple[set[str], set[str]]:
    """The store's current Alembic revisions and the scripts' heads."""
    heads = set(ScriptDirectory(str(db._MIGRATIONS)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def chain_id(url: str, timeout: float = PROBE_TIMEOUT_S) -> int:
    """The chain id a JSON-RPC endpoint answers (raises on any failure)."""
    reply = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
    )
    reply.raise_for_status()
    return int(reply.json()["result"], 16)


class NodeHealth:
    """Department nodes' `/health`, probed at most every `NODE_CACHE_S` seconds."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self._lock = threading.Lock()
        self._at = -NODE_CACHE_S
        self._up: dict[str, bool] = {}

    def up(self) -> dict[str, bool]:
        """Node name -> whether its /health answered 200 lately."""
        with self._lock:
            if self.urls and time.monotonic() - self._at >= NODE_CACHE_S:
                self._up = {name: _node_up(url) for name, url in self.urls.items()}
                self._at = time.monotonic()
            return dict(self._up)


def _node_up(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (no dependency is consulted)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """The store answers, its schema is at the migrations' head, and the chain answers when configured."""
    engine: Engine = request.app.state.engine
    checks: dict[str, dict[str, Any]] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # any driver error means not ready
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if checks["database"]["ok"]:
        current, heads = migration_state(engine)
        checks["migrations"] = {"ok": current == heads, "current": sorted(current), "head": sorted(heads)}
    chain_url = request.app.state.settings.chain_url
    if chain_url:
        try:
            checks["chain"] = {"ok": True, "chain_id": chain_id(chain_url)}
        except Exception as exc:  # unreachable, not JSON-RPC, HTTP error: all mean not ready
            checks["chain"] = {"ok": False, "error": type(exc).__name__}
    anchorer: Anchorer | None = getattr(request.app.state, "anchorer", None)
    if anchorer is not None:
        # Informational: a lagging anchor is alerted on through /metrics; taking the exchange out of
        # rotation would not bring the chain or a witness back, so it never fails readiness.
        checks["anchoring"] = {"ok": True, **anchorer.status().to_json()}
    failing = sorted(name for name, result in checks.items() if not result["ok"])
    body = {"status": "ready" if not failing else "not ready", "failing": failing, "checks": checks}
    return JSONResponse(body, status_code=200 if not failing else 503)


def _store_gauges(sessions: sessionmaker[Session], now: dt.datetime) -> list[Gauge]:
    with session_scope(sessions) as session:
        counts: dict[str, int] = {
            status: n
            for status, n in session.execute(
                select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
            )
        }
        oldest = session.scalar(
            select(func.min(OutboxEntry.created_at)).where(OutboxEntry.status.in_(WAITING))
        )
        last = session.execute(
            select(OutboxEntry.created_at, OutboxEntry.anchored_at)
            .where(OutboxEntry.anchored_at.is_not(None))
            .order_by(OutboxEntry.anchored_at.desc())
            .limit(1)
        ).first()
        jobs: dict[str, int] | None = None
        if inspect(session.connection()).has_table("jobs"):
            jobs = {
                str(s): int(n)
                for s, n in session.execute(text("SELECT state, count(*) FROM jobs GROUP BY state"))
            }

    def age(t: dt.datetime | None) -> float:
        if t is None:
            return 0.0
        return max(0.0, (now - (t if t.tzinfo else t.replace(tzinfo=dt.UTC))).total_seconds())

    statuses = ("pending", "signed", "sent", "anchored", "failed")
    gauges = [
        Gauge(
            "tdex_outbox_rows",
            "Outbox rows by status (pending, signed and sent are waiting for the chain).",
            [({"status": s}, float(counts.get(s, 0))) for s in statuses],
        ),
        Gauge(
            "tdex_outbox_depth",
            "Chain writes waiting (pending + signed + sent).",
            [({}, float(sum(counts.get(s, 0) for s in WAITING)))],
        ),
        Gauge(
            "tdex_outbox_oldest_waiting_age_seconds",
            "Age of the oldest waiting chain write (0: none).",
            [({}, age(oldest))],
        ),
        Gauge(
            "tdex_anchoring_lag_seconds",
            "From commit to anchored, for the most recently anchored write (0: none yet).",
            [({}, age(last[0]) - age(last[1]) if last is not None else 0.0)],
        ),
    ]
    if jobs is not None:
        gauges.append(
            Gauge(
                "tdex_jobs",
                "Jobs by state.",
                [({"state": str(s)}, float(n)) for s, n in sorted(jobs.items())],
            )
        )
    return gauges


def _anchoring_gauges(status: AnchoringStatus) -> list[Gauge]:
    return [
        Gauge(
            "tdex_audit_anchoring_lag_seconds",
            "Age of the oldest audit entry no anchored checkpoint covers yet (0: all anchored).",
            [({}, status.lag_s)],
        ),
        Gauge(
            "tdex_audit_unanchored_entries",
            "Audit entries beyond the largest anchored checkpoint.",
            [({}, float(status.log_size - status.anchored_size))],
        ),
        Gauge(
            "tdex_audit_pending_checkpoints",
            "Signed checkpoints waiting for the chain.",
            [({}, float(status.pending_checkpoints))],
        ),
        Gauge(
            "tdex_audit_anchor_failures",
            "Consecutive failed anchoring passes (0: the last pass worked).",
            [({}, float(status.failures))],
        ),
    ]


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of requests, outbox, anchoring lag, jobs and node health."""
    state = request.app.state
    gauges = _store_gauges(state.sessions, state.clock())
    anchorer: Anchorer | None = getattr(state, "anchorer", None)
    if anchorer is not None:
        gauges += _anchoring_gauges(anchorer.status(state.clock()))
    nodes: NodeHealth = state.node_health
    up = nodes.up()
    if up:
        gauges.append(
            Gauge(
                "tdex_node_up",
                "Department node answered /health (1) or not (0).",
                [({"node": n}, float(v)) for n, v in sorted(up.items())],
            )
        )
    registry: Registry = state.metrics
    return PlainTextResponse(registry.render(gauges), media_type=CONTENT_TYPE)


def install(app: FastAPI, node_urls: dict[str, str] | None = None) -> None:
    """Add the operations routes, the metrics registry and the request-id / access-log middleware."""
    app.state.metrics = Registry()
    urls = node_names(app.state.settings.node_urls) if node_urls is None else node_urls
    app.state.node_health = NodeHealth(urls)
    app.include_router(router)

    app.add_middleware(RequestContext, registry=app.state.metrics)


class RequestContext:
    """Pure ASGI middleware: request id, metrics and one access line per HTTP request.

    Written against ASGI rather than with `@app.middleware("http")`: Starlette's
    `BaseHTTPMiddleware` runs the app in a task group behind memory streams, which cost more per
    request than a signed read itself (measured in bench/api.py).
    """

    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = safe_request_id(given) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode("latin-1")
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.registry.observe_request(method, route, status, elapsed)
            log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
