"""Operations endpoints: liveness, readiness, Prometheus metrics, request ids and JSON access logs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from api_support import World, build_world, entry
from sqlalchemy import text

from exchange_api.core.config import Settings
from exchange_api.logs import ACCESS_LOGGER, JsonFormatter
from exchange_api.metrics import Gauge, Registry
from exchange_api.routes.ops import NodeHealth, node_names

CLOSED = "http://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture
def chainless_world(tmp_path: object) -> Iterator[World]:
    """A world whose settings name a chain nobody answers on."""
    yield from build_world(f"sqlite:///{tmp_path}/exchange.db", chain_url=CLOSED)


def test_healthz_is_unsigned_and_alive(world: World) -> None:
    """/healthz answers 200 without a signature and carries a request id."""
    reply = world.http.get("/healthz")
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}
    assert len(reply.headers["X-Request-Id"]) == 32


def test_request_id_echoed_when_plain(world: World) -> None:
    """A plain caller-given X-Request-Id is kept; an unsafe one is replaced."""
    assert (
        world.http.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    )
    replaced = world.http.get("/healthz", headers={"X-Request-Id": "a b;<x>"}).headers["X-Request-Id"]
    assert replaced != "a b;<x>" and len(replaced) == 32


def test_readyz_ready(world: World) -> None:
    """With the store up and at the migrations' head (no chain configured) /readyz is 200."""
    reply = world.http.get("/readyz")
    assert reply.status_code == 200, reply.json()
    body = reply.json()
    assert body["failing"] == [] and set(body["checks"]) == {"database", "migrations"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]


def test_readyz_migrations_behind(world: World) -> None:
    """A store not at the head of the migrations is not ready, and says so."""
    with world.app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    reply = world.http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["failing"] == ["migrations"]


def test_readyz_chain_unreachable(chainless_world: World) -> None:
    """A configured chain that does not answer makes /readyz 503 naming the chain."""
    reply = chainless_world.http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["failing"] == ["chain"]
    assert reply.json()["checks"]["chain"]["error"] == "ConnectError"


def test_metrics_exposition(world: World) -> None:
    """/metrics counts requests by route template and shows the outbox and anchoring gauges."""
    world["dept_a"].client.register(entry())
    world.http.get("/healthz")
    before = world.http.get("/metrics").text
    depth = int(re.search(r"^tdex_outbox_depth (\d+)$", before, re.M).group(1))  # type: ignore[union-attr]
    assert depth >= 1  # the admissions and the registration wait for the chain
    assert f'tdex_outbox_rows{{status="pending"}} {depth}' in before
    assert 'tdex_http_requests_total{method="GET",route="/healthz",status="200"} 1' in before
    assert 'route="/catalog/resources",status="201"' in before
    assert (
        'tdex_http_request_duration_seconds_bucket{method="POST",route="/catalog/resources",le="+Inf"} 1'
        in before
    )
    world.relay.drain()
    after = world.http.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "tdex_outbox_depth 0" in after.text
    assert "tdex_outbox_oldest_waiting_age_seconds 0" in after.text
    assert "# TYPE tdex_anchoring_lag_seconds gauge" in after.text
    assert 'tdex_outbox_rows{status="anchored"}' in after.text


def test_metrics_node_health(world: World) -> None:
    """A department node that does not answer shows as tdex_node_up 0."""
    world.app.state.node_health = NodeHealth({"node-amr": CLOSED})
    assert 'tdex_node_up{node="node-amr"} 0' in world.http.get("/metrics").text


def test_node_urls_from_settings() -> None:
    """TDEX_NODE_URLS is read by Settings, and each node is named by its host."""
    env = {"TDEX_NODE_URLS": "http://node-amr:9000/, http://node-hrss:9000"}
    settings = Settings.from_env(env)
    assert settings.node_urls == ("http://node-amr:9000", "http://node-hrss:9000")
    assert node_names(settings.node_urls) == {
        "node-amr": "http://node-amr:9000",
        "node-hrss": "http://node-hrss:9000",
    }


def test_registry_render_escapes_and_histograms() -> None:
    """The exposition escapes label values and accumulates buckets."""
    registry = Registry(buckets=(0.1, 1.0))
    registry.observe_request("GET", '/a"b', 200, 0.5)
    out = registry.render([Gauge("g", "a gauge", [({"k": "v"}, 1.5)])])
    assert 'route="/a\\"b"' in out
    assert 'tdex_http_request_duration_seconds_bucket{method="GET",route="/a\\"b",le="0.1"} 0' in out
    assert 'tdex_http_request_duration_seconds_bucket{method="GET",route="/a\\"b",le="1"} 1' in out
    assert 'g{k="v"} 1.5' in out and out.endswith("\n")


def test_access_log_is_json_without_secrets(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Each request logs one JSON line with its request id, and no signature or header."""
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        headers = world["bank"].client.signed_headers("GET", "http://testserver/orgs/me")
        reply = world.http.get("/orgs/me", headers=headers)
    assert reply.status_code == 200
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["request_id"] == reply.headers["X-Request-Id"]
    assert line["route"] == "/orgs/me" and line["level"] == "info"
    assert "Signature" not in json.dumps(line) and "sig1" not in json.dumps(line)


def test_json_formatter_drops_secret_fields() -> None:
    """Fields named like secrets or signatures never reach the log line."""
    record = logging.LogRecord("x", logging.INFO, "", 0, "hello %s", ("world",), None)
    record.secret_key = "s3cret"
    record.signature = "sig"
    record.request_id = "r1"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["request_id"] == "r1"
    assert "secret_key" not in line and "signature" not in line
