"""The audit trail over HTTP: checkpoints, entries, proofs, proof bundles, trail exports, risk signals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import JSONResponse, Response

from exchange_api.audit._log import AuditLog
from exchange_api.audit._schemas import (
    CheckpointPage,
    CheckpointPublic,
    ConsistencyProof,
    EntryPublic,
    InclusionProof,
    RiskPage,
    TrailPage,
)
from exchange_api.audit._service import (
    bundle,
    checkpoints,
    consistency,
    entry,
    inclusion,
    latest_checkpoint,
    risks,
    trail,
    trail_items,
)
from exchange_api.audit._trail import TrailQuery, trail_csv
from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import UnitDep

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


def get_audit_log(request: Request) -> AuditLog:
    """The app's audit log (built on first use; it caches the Merkle tree's upper levels)."""
    log: AuditLog | None = getattr(request.app.state, "audit_log", None)
    if log is None:
        log = AuditLog(request.app.state.sessions)
        request.app.state.audit_log = log
    return log


LogDep = Annotated[AuditLog, Depends(get_audit_log)]
Index = Annotated[int, Path(ge=0, le=2**62, description="The entry's position in the log.")]
Size = Annotated[int | None, Query(ge=0, le=2**62, description="Tree size (default: the newest checkpoint).")]
Since = Annotated[dt.datetime | None, Query(description="From this time (inclusive, RFC 3339).")]
Until = Annotated[dt.datetime | None, Query(description="Up to this time (exclusive, RFC 3339).")]
Ref = Annotated[str | None, Query(max_length=160)]


@router.get("/checkpoints/latest", response_model=CheckpointPublic, summary="The newest signed checkpoint")
def latest(unit: UnitDep) -> CheckpointPublic:
    """The newest checkpoint: the signed note with operator and witness signatures, and its anchor."""
    return unit.read(latest_checkpoint)


@router.get("/checkpoints", response_model=CheckpointPage, summary="Signed checkpoints")
def list_checkpoints(
    unit: UnitDep,
    after: Annotated[int, Query(ge=-1, le=2**62, description="Only sizes above this.")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CheckpointPage:
    """Checkpoints in size order, with their anchoring status."""
    return unit.read(lambda ctx: checkpoints(ctx, after, limit))


@router.get("/entries/{index}", response_model=EntryPublic, summary="One entry and its record")
def get_entry(index: Index, unit: UnitDep) -> EntryPublic:
    """The entry's canonical JSON, leaf hash and full record (the caller must be concerned, or oversee)."""
    return unit.read(lambda ctx: entry(ctx, index))


@router.get("/proofs/inclusion", response_model=InclusionProof, summary="Inclusion proof")
def inclusion_proof(
    unit: UnitDep, log: LogDep, index: Annotated[int, Query(ge=0, le=2**62)], size: Size = None
) -> InclusionProof:
    """The RFC 9162 inclusion proof of an entry in the tree of a given size."""
    return unit.read(lambda ctx: inclusion(ctx, log, index, size))


@router.get("/proofs/consistency", response_model=ConsistencyProof, summary="Consistency proof")
def consistency_proof(
    unit: UnitDep,
    log: LogDep,
    first: Annotated[int, Query(ge=0, le=2**62)],
    second: Size = None,
) -> ConsistencyProof:
    """The RFC 9162 consistency proof that the tree of ``second`` entries extends that of ``first``."""
    return unit.read(lambda ctx: consistency(ctx, log, first, second))


@router.get("/bundles/{index}", summary="Proof bundle of one entry", response_model=dict[str, Any])
def get_bundle(
    index: Index,
    unit: UnitDep,
    log: LogDep,
    record: Annotated[bool, Query(description="Include the full record.")] = True,
) -> JSONResponse:
    """Entry, inclusion proof, cosigned checkpoint and anchor; check it with `tdex audit verify`."""
    return JSONResponse(unit.read(lambda ctx: bundle(ctx, log, index, record)))


@router.get(
    "/trail",
    response_model=TrailPage,
    summary="Trail query (JSON or CSV)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def get_trail(
    unit: UnitDep,
    org: Ref = None,
    resource: Ref = None,
    grant: Ref = None,
    application: Ref = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    since: Since = None,
    until: Until = None,
    after: Annotated[int, Query(ge=-1, le=2**62, description="Continue after this index.")] = -1,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
) -> Response:
    """Entries by organisation, resource, grant, application, kind and time, in log order."""
    query = TrailQuery(org, resource, grant, application, kind, since, until, after, limit)
    if format == "csv":
        items = unit.read(lambda ctx: trail_items(ctx, query))
        return Response(trail_csv(items), media_type="text/csv; charset=utf-8")
    return JSONResponse(unit.read(lambda ctx: trail(ctx, query)).model_dump(mode="json"))


@router.get("/risks", response_model=RiskPage, summary="Risk signals (ADMIN, AUDITOR)")
def get_risks(unit: UnitDep, since: Since = None, until: Until = None) -> RiskPage:
    """Unusual query rates, small-group refusals, budgets nearly exhausted, actions outside working hours."""
    return unit.read(lambda ctx: risks(ctx, since, until))
