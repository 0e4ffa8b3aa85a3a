"""Sandbox jobs: submit, read, cancel, fetch the sealed result; departments announce their nodes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Path
from starlette.responses import Response

from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.deps import Cursor, IdempotencyKey, Limit, UnitDep
from exchange_api.schemas.jobs import (
    JobCancel,
    JobCreate,
    JobPage,
    JobPublic,
    JobResult,
    NodePublic,
    NodeRegistration,
)
from exchange_api.services import jobs
from exchange_api.services.job_runner import JobRunner

router = APIRouter(tags=["jobs"], responses=PROBLEM_RESPONSES)

JobId = Annotated[str, Path(max_length=64)]


def runner_of(app: FastAPI) -> JobRunner:
    """The app's job runner, built on first use; it runs in a background thread unless the app's
    state says ``jobs_autostart = False`` (tests drive it with `run_pending`)."""
    state = app.state
    runner: JobRunner | None = getattr(state, "job_runner", None)
    if runner is None:
        factory = getattr(state, "node_client_factory", None)
        kwargs = {"client_factory": factory} if factory is not None else {}
        runner = JobRunner(state.sessions, state.settings, clock=state.clock, **kwargs)
        state.job_runner = runner
        if getattr(state, "jobs_autostart", True):
            runner.start()
    return runner


@router.post("/jobs", status_code=201, response_model=JobPublic, summary="Submit a sandbox job")
def submit(data: JobCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Check each part's signed node job and grant; the job is `submitted` and runs in the background."""
    response = unit.write(key, lambda ctx: jobs.submit(ctx, data), 201, location=lambda j: f"/jobs/{j.id}")
    runner_of(unit.request.app).wake()  # only once a job was accepted
    return response


@router.get("/jobs", response_model=JobPage, summary="List jobs")
def list_(unit: UnitDep, cursor: Cursor = None, limit: Limit = 20) -> Response:
    """The caller's jobs as requester or provider, newest first."""
    return unit.page(lambda ctx: jobs.list_jobs(ctx, cursor=cursor, limit=limit), JobPage)


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="One job")
def get(job_id: JobId, unit: UnitDep) -> JobPublic:
    """A job with the time of each state, its reason, and the nodes' signed receipts."""
    return unit.read(lambda ctx: jobs.get_job(ctx, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobPublic, summary="Cancel (requester)")
def cancel(job_id: JobId, data: JobCancel, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Cancel before the job ends; a running job stops at its next step."""
    return unit.write(key, lambda ctx: jobs.cancel(ctx, job_id, data.reason))


@router.get("/jobs/{job_id}/result", response_model=JobResult, summary="The sealed result (requester)")
def result(job_id: JobId, unit: UnitDep) -> JobResult:
    """Envelopes sealed to the requester, or ciphertexts under its HE key."""
    return unit.read(lambda ctx: jobs.job_result(ctx, job_id))


@router.put("/sandbox/nodes/me", response_model=NodePublic, summary="Announce this department's node")
def register_node(data: NodeRegistration, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Where the exchange reaches the calling department's node, and the node's name."""
    return unit.write(key, lambda ctx: jobs.register_node(ctx, data))


@router.get("/sandbox/nodes", response_model=list[NodePublic], summary="Department nodes")
def nodes(unit: UnitDep) -> list[NodePublic]:
    """Every announced node endpoint."""
    return unit.read(jobs.list_nodes)
