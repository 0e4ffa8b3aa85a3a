"""The public surface of `exchange_api` and of its OpenAPI document stays what it is."""

from __future__ import annotations

import exchange_api
from exchange_api.app import create_app
from exchange_api.core.config import Settings


def test_public_names() -> None:
    """The package exports exactly its documented names, and each resolves."""
    assert sorted(exchange_api.__all__) == ["ExchangeClient", "ExchangeError", "Settings", "create_app"]
    for name in exchange_api.__all__:
        assert getattr(exchange_api, name) is not None


def test_openapi_operations(tmp_path: object) -> None:
    """Every operation of the API is in the OpenAPI document, with problem responses where signed."""
    spec = create_app(Settings(mode="test", database_url=f"sqlite:///{tmp_path}/x.db")).openapi()
    ops = {
        f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item if not p.startswith("/audit")
    }
    assert {
        "GET /health",
        "POST /orgs",
        "GET /orgs/me",
        "GET /orgs/{org_id}",
        "GET /catalog.jsonld",
        "POST /catalog/resources",
        "GET /catalog/resources",
        "GET /catalog/resources/{code}",
        "GET /catalog/resources/{code}/versions",
        "POST /catalog/resources/{code}/versions",
        "GET /catalog/resources/{code}/versions/{number}",
        "POST /catalog/resources/{code}/withdraw",
        "POST /applications",
        "GET /applications",
        "GET /applications/{app_id}",
        "POST /applications/{app_id}/review",
        "POST /applications/{app_id}/approve",
        "POST /applications/{app_id}/reject",
        "POST /applications/{app_id}/withdraw",
        "GET /grants",
        "GET /grants/{grant_id}",
        "GET /grants/{grant_id}/usable",
        "POST /grants/{grant_id}/revoke",
        "GET /outbox",
        "GET /chain/discrepancies",
    } <= ops
    signed = spec["paths"]["/catalog/resources"]["post"]["responses"]
    assert {"201", "401", "403", "409", "422"} <= set(signed)
    assert "application/problem+json" in signed["401"]["content"]
