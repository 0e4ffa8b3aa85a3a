"""Property-based fuzzing of the whole OpenAPI surface with schemathesis, with signed requests."""

from __future__ import annotations

import itertools
import json
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from api_support import World, build_world, entry
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange_api.app import create_app
from exchange_api.core.config import Settings
from keys import sign_request

_SPEC_DIR = Path(tempfile.mkdtemp(prefix="tdex-openapi-"))
# The OpenAPI document of the app as served; the fuzzed app itself runs in the `fuzz_world` fixture.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(mode="test", database_url=f"sqlite:///{_SPEC_DIR}/spec.db")).openapi()
)
_SIGNERS = ("bureau", "dept_a", "bank", "auditor", "dept_b", "logistics")
_turn = itertools.count()


@pytest.fixture(scope="module")
def fuzz_world() -> Iterator[World]:
    """One exchange on SQLite with a few entries, shared by every fuzzed request."""
    with tempfile.TemporaryDirectory() as tmp:
        for world in build_world(f"sqlite:///{tmp}/fuzz.db"):
            world["dept_a"].client.register(entry())
            world["dept_b"].client.register(
                entry("201002/000001", share_type="unconditional", share_conditions=None)
            )
            yield world


def _not_a_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=True,
)
@pytest.mark.slow
def test_openapi_surface(case: schemathesis.Case, fuzz_world: World) -> None:
    """No input makes a 5xx, and every response matches the OpenAPI document (status, type, body)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    url = str(httpx.URL(kwargs["url"], params=kwargs.get("params") or {}))
    body = b""
    headers = {k: v for k, v in kwargs["headers"].items() if k.lower() not in {"connection"}}
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
    elif kwargs.get("content") is not None:
        body = kwargs["content"] if isinstance(kwargs["content"], bytes) else str(kwargs["content"]).encode()
    member = fuzz_world[_SIGNERS[next(_turn) % len(_SIGNERS)]]
    headers.update(
        sign_request(
            case.method, url, body, member.key, member.key.key_id, created=int(fuzz_world.clock.timestamp())
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        response = fuzz_world.http.request(case.method, url, content=body, headers=headers)
    _not_a_server_error(response)
    case.validate_response(
        response,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
