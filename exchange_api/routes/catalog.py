"""The catalogue: entries, versions, withdrawal, search and the DCAT export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import JSONResponse, Response

from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import Cursor, IdempotencyKey, Limit, UnitDep
from exchange_api.schemas.catalog import (
    DataGrade,
    ResourceCreate,
    ResourcePage,
    ResourcePublic,
    ResourceVersionCreate,
    ResourceWithdraw,
    ShareType,
    UpdateCycle,
    VersionPublic,
)
from exchange_api.services import catalog, dcat

router = APIRouter(tags=["catalogue"], responses=PROBLEM_RESPONSES)

Code = Annotated[str, Path(description="信息资源代码 (分类码/顺序码)", max_length=64)]


class JSONLDResponse(JSONResponse):
    """A JSON-LD document."""

    media_type = "application/ld+json"


@router.get(
    "/catalog.jsonld",
    summary="The catalogue as DCAT 3 JSON-LD with ODRL offers",
    response_class=JSONLDResponse,
    responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}}},
)
def export(
    unit: UnitDep, cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=1000)] = 500
) -> Response:
    """A page of the catalogue as a `dcat:Catalog`; the next page is in the `Link` header."""
    return unit.jsonld(lambda ctx: dcat.export(ctx, cursor, limit))


@router.post(
    "/catalog/resources",
    status_code=201,
    response_model=ResourcePublic,
    summary="Register an entry (DEPARTMENT)",
)
def register(data: ResourceCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Register a data resource as version 1; its metadata hash is anchored on chain."""
    return unit.write(
        key, lambda ctx: catalog.register(ctx, data), 201, lambda r: f"/catalog/resources/{r.code}"
    )


@router.get("/catalog/resources", response_model=ResourcePage, summary="Search the catalogue")
def search(
    unit: UnitDep,
    q: Annotated[str | None, Query(max_length=200, description="Full-text query (Chinese or words)")] = None,
    provider: Annotated[str | None, Query(max_length=40, description="Provider organisation id")] = None,
    share_type: ShareType | None = None,
    data_grade: DataGrade | None = None,
    classification: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{1,18}$")] = None,
    update_cycle: UpdateCycle | None = None,
    status: Annotated[str, Query(pattern="^(active|withdrawn|any)$")] = "active",
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response:
    """Entries matching every term of `q` and every filter, newest first, with cursor pagination."""
    filters = catalog.SearchFilters(
        provider=provider,
        share_type=share_type.value if share_type else None,
        data_grade=data_grade.value if data_grade else None,
        classification=classification,
        update_cycle=update_cycle.value if update_cycle else None,
        status=None if status == "any" else status,
    )
    return unit.page(lambda ctx: catalog.search(ctx, q, filters, cursor, limit), ResourcePage)


@router.get(
    "/catalog/resources/{code:path}/versions/{number}",
    summary="The canonical metadata record of one version",
    response_model=dict[str, Any],
)
def version(code: Code, number: Annotated[int, Path(ge=1, le=1_000_000)], unit: UnitDep) -> dict[str, Any]:
    """The record whose canonical JSON hash is the version's `metadata_hash`."""
    return unit.read(lambda ctx: catalog.get_version(ctx, code, number))


@router.post(
    "/catalog/resources/{code:path}/versions",
    status_code=201,
    response_model=ResourcePublic,
    summary="Publish a new version (provider)",
)
def publish(code: Code, data: ResourceVersionCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Publish the next version; the old ones stay, and the new one names the previous hash."""
    return unit.write(key, lambda ctx: catalog.publish_version(ctx, code, data), 201)


@router.get("/catalog/resources/{code:path}/versions", response_model=list[VersionPublic], summary="Versions")
def versions(code: Code, unit: UnitDep) -> list[VersionPublic]:
    """Every version of an entry, oldest first, with hashes and anchors."""
    return unit.read(lambda ctx: catalog.list_versions(ctx, code))


@router.post(
    "/catalog/resources/{code:path}/withdraw",
    response_model=ResourcePublic,
    summary="Withdraw an entry (provider)",
)
def withdraw(code: Code, data: ResourceWithdraw, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Withdraw an entry with a reason; it stays with its history and waiting applications are cancelled."""
    return unit.write(key, lambda ctx: catalog.withdraw(ctx, code, data.reason))


@router.get("/catalog/resources/{code:path}", response_model=ResourcePublic, summary="One entry")
async def get(code: Code, unit: UnitDep) -> Response:
    """The current state of an entry."""
    return unit.show(lambda ctx: catalog.get_resource(ctx, code))
