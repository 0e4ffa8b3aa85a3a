"""Sandbox jobs: submission, the state machine, cancellation, receipts and results; node endpoints.

A job moves submitted → authorised → running → completed, or ends failed / cancelled / expired;
every move stores its time and reason and goes through `record_event`. The requester signs one node
job per grant (`tdex.sandbox.job`): the exchange checks the signature and the grant here, and the
node checks them again against the chain — the exchange is not trusted blindly. Running jobs is the
job runner's work (`exchange_api.services.job_runner`), outside any request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from exchange_api.errors import Forbidden, GrantNotUsable, InvalidInput, InvalidTransition, NotFound
from exchange_api.models import Application, Grant, OrgKey, OutboxEntry, Resource
from exchange_api.models_jobs import TERMINAL_STATES, Job, JobPart, SandboxNode
from exchange_api.schemas.applications import GrantStatus
from exchange_api.schemas.jobs import (
    JobCreate,
    JobKind,
    JobPartPublic,
    JobPublic,
    JobResult,
    JobState,
    NodePublic,
    NodeRegistration,
)
from exchange_api.schemas.orgs import Role
from exchange_api.services.context import Ctx, new_id
from exchange_api.services.events import record_event
from exchange_api.services.grants import OVERSEERS, grant_status
from exchange_api.services.orgs import require_role
from exchange_api.services.pagination import decode_cursor, encode_cursor
from keys import verify_key_from_did, verify_signed
from keys.errors import KeysError
from sandbox import default_registry
from sandbox.errors import TemplateUnknown
from sandbox.node import RECEIPT_KIND, JobSpec
from sandbox.node.errors import JobRejected

__all__ = [
    "cancel",
    "chain_grant_id",
    "get_job",
    "job_result",
    "list_jobs",
    "list_nodes",
    "move",
    "record_part",
    "register_node",
    "stop_reason",
    "submit",
]

# Which states each state may move to (terminal states move nowhere).
_NEXT: dict[str, frozenset[str]] = {
    "submitted": frozenset({"authorised", "failed", "cancelled", "expired"}),
    "authorised": frozenset({"running", "failed", "cancelled", "expired"}),
    "running": frozenset({"completed", "failed", "cancelled", "expired"}),
}
# The template a part of each kind runs (the node checks the grant allows it, the exchange that it fits).
_TEMPLATES: dict[JobKind, tuple[str, ...]] = {
    JobKind.AGGREGATE: ("agg.",),
    JobKind.HE_SUM: ("he.encrypted_sum",),
    JobKind.HE_SCORES: ("he.encrypted_scores",),
    JobKind.FEDERATED: ("fl.local_update",),
}
_REGISTRY = default_registry()


# ---------------------------------------------------------------------------------------- nodes


def _node_public(node: SandboxNode) -> NodePublic:
    return NodePublic(org_id=node.org_id, node=node.node, url=node.url, updated_at=node.updated_at)


def register_node(ctx: Ctx, data: NodeRegistration) -> NodePublic:
    """A department announces (or moves) its node; the exchange calls it there."""
    require_role(ctx, Role.DEPARTMENT)
    node = ctx.session.get(SandboxNode, ctx.actor.org_id)
    if node is None:
        node = SandboxNode(org_id=ctx.actor.org_id, node=data.node, url=data.url, updated_at=ctx.now())
        ctx.session.add(node)
    else:
        node.node, node.url, node.updated_at = data.node, data.url, ctx.now()
    record_event(
        ctx,
        "node.registered",
        ctx.actor.org_id,
        f"org:{ctx.actor.org_id}",
        {"node": data.node, "url": data.url},
    )
    ctx.session.flush()
    return _node_public(node)


def list_nodes(ctx: Ctx) -> list[NodePublic]:
    """Every registered node endpoint."""
    nodes = ctx.session.scalars(select(SandboxNode).order_by(SandboxNode.org_id))
    return [_node_public(n) for n in nodes]


# ---------------------------------------------------------------------------------------- views


def _public(session: Session, job: Job) -> JobPublic:
    parts = session.scalars(select(JobPart).where(JobPart.job_id == job.id).order_by(JobPart.position))
    return JobPublic(
        id=job.id,
        kind=JobKind(job.kind),
        state=JobState(job.state),
        requester_org_id=job.requester_org_id,
        deadline=job.deadline,
        submitted_at=job.submitted_at,
        authorised_at=job.authorised_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
        reason=job.reason,
        has_result=job.result is not None,
        parts=[
            JobPartPublic(
                grant_id=p.grant_id,
                provider_org_id=p.provider_org_id,
                chain_grant_id=p.chain_grant_id,
                node_job_id=p.node_job_id,
                template=p.template,
                state=p.state,
                error_code=p.error_code,
                receipt=p.receipt,
            )
            for p in parts
        ],
    )


def _parties(session: Session, job: Job) -> set[str]:
    providers = session.scalars(select(JobPart.provider_org_id).where(JobPart.job_id == job.id))
    return {job.requester_org_id, *providers}


def _visible(ctx: Ctx, job_id: str) -> Job:
    job = ctx.session.get(Job, job_id)
    # A job the caller is no party to does not exist for it: the same 404 as a missing one.
    if job is None or (
        ctx.actor.role not in OVERSEERS and ctx.actor.org_id not in _parties(ctx.session, job)
    ):
        raise NotFound(f"no job {job_id!r}")
    return job


def get_job(ctx: Ctx, job_id: str) -> JobPublic:
    """A job, for its requester, its providers, the bureau and auditors."""
    return _public(ctx.session, _visible(ctx, job_id))


def list_jobs(ctx: Ctx, *, cursor: str | None, limit: int) -> tuple[list[JobPublic], str | None]:
    """The caller's jobs as requester or provider (every job for overseers), newest first."""
    stmt: Select[Job] = select(Job)
    if ctx.actor.role not in OVERSEERS:
        mine = select(JobPart.job_id).where(JobPart.provider_org_id == ctx.actor.org_id)
        stmt = stmt.where((Job.requester_org_id == ctx.actor.org_id) | Job.id.in_(mine))
    after = decode_cursor("job", cursor)
    if after is not None:
        stmt = stmt.where(Job.id < after)
    rows = list(ctx.session.scalars(stmt.order_by(Job.id.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return [_public(ctx.session, j) for j in rows], (
        encode_cursor("job", rows[-1].id) if more and rows else None
    )


def job_result(ctx: Ctx, job_id: str) -> JobResult:
    """What a completed job released, for its requester only (sealed to it or under its HE key)."""
    job = _visible(ctx, job_id)
    if job.requester_org_id != ctx.actor.org_id:
        raise Forbidden("only the requester receives a job's result", code="job.not_requester")
    if job.state != "completed" or job.result is None:
        raise InvalidTransition(f"job {job_id} is {job.state}; it has no result", code="job.no_result")
    return JobResult(job_id=job.id, kind=JobKind(job.kind), **job.result)


# ---------------------------------------------------------------------------------------- submission


def chain_grant_id(session: Session, grant: Grant) -> int | None:
    """The grant's id on chain: the application id the anchored ``applyFor`` returned."""
    app = session.get(Application, grant.application_id)
    entry = session.get(OutboxEntry, app.apply_outbox_id) if app and app.apply_outbox_id else None
    value = (entry.result or {}).get("chain_application_id") if entry is not None else None
    return int(value) if value is not None else None


def _verified_spec(session: Session, org_id: str, document: dict[str, Any], where: str) -> JobSpec:
    keys = session.scalars(
        select(OrgKey.public_key).where(OrgKey.org_id == org_id, OrgKey.status == "current")
    )
    try:
        trusted = [verify_key_from_did(k) for k in keys]
        payload = verify_signed(document, trusted=trusted).payload
        return JobSpec.from_dict(payload)
    except (KeysError, JobRejected) as error:
        raise InvalidInput(
            f"{where}: the signed node job does not verify: {error}", code="job.bad_signature"
        ) from None


def _check_part(ctx: Ctx, position: int, grant_id: str, spec: JobSpec, kind: JobKind) -> tuple[Grant, int]:
    where = f"/parts/{position}"
    grant = ctx.session.get(Grant, grant_id)
    if grant is None or grant.grantee_org_id != ctx.actor.org_id:
        raise NotFound(f"{where}: no grant {grant_id!r} issued to the caller")
    status, why = grant_status(ctx.session, grant, ctx.now())
    if status is not GrantStatus.ACTIVE:
        raise GrantNotUsable(f"{where}: grant {grant_id} is not usable: {why}", status=status.value)
    on_chain = chain_grant_id(ctx.session, grant)
    resource = ctx.session.get(Resource, grant.resource_id)
    assert resource is not None
    problems = []
    if on_chain is None or spec.grant_id != on_chain:
        problems.append(f"names chain grant {spec.grant_id}, the grant is {on_chain}")
    if spec.resource_code != resource.code:
        problems.append(f"names resource {spec.resource_code}, the grant is for {resource.code}")
    # The exchange keeps template digests as the chain's 0x-hex bytes32; a node names them sha256:<hex>.
    if "0x" + spec.template.removeprefix("sha256:") not in {str(t).lower() for t in grant.templates}:
        problems.append("names a template the grant does not allow")
    if spec.deadline() <= ctx.now():
        problems.append("its deadline has passed")
    try:
        name = _REGISTRY.get(spec.template).name
    except TemplateUnknown:
        name = "?"
    if not name.startswith(_TEMPLATES[kind]):
        problems.append(f"runs {name}, which a {kind.value} job does not")
    if problems:
        raise InvalidInput(f"{where}: the node job " + "; ".join(problems), code="job.mismatch")
    return grant, on_chain or 0


def submit(ctx: Ctx, data: JobCreate) -> JobPublic:
    """Accept a job: each part's signature and grant are checked; the job is then `submitted`."""
    require_role(ctx, Role.ENTERPRISE, Role.DEPARTMENT)
    now = ctx.now()
    if data.deadline <= now:
        raise InvalidInput("the deadline has passed", code="job.deadline_passed")
    single = data.kind in (JobKind.AGGREGATE, JobKind.HE_SCORES)
    if single and len(data.parts) != 1:
        raise InvalidInput(f"a {data.kind.value} job has exactly one part", code="job.parts")
    if data.kind is JobKind.FEDERATED and not data.seal_to:
        raise InvalidInput(
            "a federated job needs seal_to, the key its model is sealed to", code="job.seal_to"
        )
    specs = [
        _verified_spec(ctx.session, ctx.actor.org_id, p.job, f"/parts/{i}") for i, p in enumerate(data.parts)
    ]
    if data.kind is JobKind.FEDERATED:
        feds = {repr(s.federated.to_dict()) if s.federated else None for s in specs}
        nodes = sorted(s.node for s in specs)
        first = specs[0].federated
        if None in feds or len(feds) != 1 or first is None or sorted(first.participants) != nodes:
            raise InvalidInput(
                "every part must carry the same plan naming exactly these nodes", code="job.plan"
            )
    job = Job(
        id=new_id("job", now),
        requester_org_id=ctx.actor.org_id,
        kind=data.kind.value,
        state="submitted",
        deadline=data.deadline,
        plan={"seal_to": data.seal_to} if data.seal_to else None,
        submitted_at=now,
    )
    ctx.session.add(job)
    ctx.session.flush()
    for position, (part, spec) in enumerate(zip(data.parts, specs, strict=True)):
        grant, on_chain = _check_part(ctx, position, part.grant_id, spec, data.kind)
        ctx.session.add(
            JobPart(
                job_id=job.id,
                position=position,
                grant_id=grant.id,
                provider_org_id=grant.provider_org_id,
                chain_grant_id=on_chain,
                node_job_id=spec.job_id,
                template=spec.template,
                signed_job=part.job,
                state="pending",
            )
        )
        record = {"job_id": job.id, "grant_id": grant.id, "template": spec.template, "kind": data.kind.value}
        record_event(ctx, "job.submitted", ctx.actor.org_id, f"job:{job.id}", {**record, "part": position})
    ctx.session.flush()
    return _public(ctx.session, job)


# ---------------------------------------------------------------------------------------- the state machine


def move(
    ctx: Ctx, job_id: str, to: str, reason: str | None = None, result: dict[str, Any] | None = None
) -> bool:
    """Move a job to state `to` with its time and reason, recorded; False if it already left its state.

    The runner calls this between steps; a job cancelled meanwhile stays cancelled (the runner's
    move is refused and it stops).
    """
    job = ctx.session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    if to not in _NEXT.get(job.state, frozenset()):
        return False
    now = ctx.now()
    job.state = to
    if to == "authorised":
        job.authorised_at = now
    elif to == "running":
        job.started_at = now
    else:
        job.ended_at = now
        job.reason = reason
        job.result = result
    _event(ctx, job, f"job.{to}", reason)
    ctx.session.flush()
    return True


def _event(ctx: Ctx, job: Job, kind: str, reason: str | None) -> None:
    parts = list(
        ctx.session.scalars(select(JobPart).where(JobPart.job_id == job.id).order_by(JobPart.position))
    )
    record: dict[str, Any] = {
        "job_id": job.id,
        "grant_id": parts[0].grant_id if parts else None,
        "grants": [p.grant_id for p in parts],
        "template": parts[0].template if parts else None,
        "state": job.state,
        "reason": reason,
    }
    record_event(ctx, kind, ctx.actor.org_id, f"job:{job.id}", record)


def cancel(ctx: Ctx, job_id: str, reason: str) -> JobPublic:
    """The requester cancels a job in any state before it ends; a running job stops at its next step."""
    job = _visible(ctx, job_id)
    if job.requester_org_id != ctx.actor.org_id:
        raise Forbidden("only the requester cancels a job", code="job.not_requester")
    if job.state in TERMINAL_STATES:
        raise InvalidTransition(f"job {job_id} is already {job.state}", code="job.already_ended")
    move(ctx, job_id, "cancelled", f"cancelled by the requester: {reason}")
    return _public(ctx.session, job)


def stop_reason(session: Session, job_id: str, now: dt.datetime) -> str | None:
    """Why a running job must stop now (cancelled, past its deadline, a grant no longer usable), or None."""
    job = session.get(Job, job_id)
    if job is None or job.state in TERMINAL_STATES:
        return f"the job is {job.state if job else 'gone'}"
    if job.deadline <= now:
        return "expired"
    for part in session.scalars(select(JobPart).where(JobPart.job_id == job_id)):
        grant = session.get(Grant, part.grant_id)
        assert grant is not None
        status, why = grant_status(session, grant, now)
        if status is not GrantStatus.ACTIVE:
            return f"grant {grant.id} is no longer usable: {why}"
    return None


def record_part(
    ctx: Ctx,
    job_id: str,
    position: int,
    *,
    receipt: dict[str, Any] | None = None,
    error_code: str | None = None,
    provider_keys: Sequence[str] | None = None,
) -> None:
    """Store what a node answered for one part; a receipt is verified against the provider's keys first."""
    part = ctx.session.scalar(select(JobPart).where(JobPart.job_id == job_id, JobPart.position == position))
    if part is None:
        raise NotFound(f"job {job_id} has no part {position}")
    if receipt is not None:
        keys = provider_keys or list(
            ctx.session.scalars(
                select(OrgKey.public_key).where(
                    OrgKey.org_id == part.provider_org_id, OrgKey.status == "current"
                )
            )
        )
        try:
            payload = verify_signed(receipt, trusted=[verify_key_from_did(k) for k in keys]).payload
        except KeysError as error:
            raise InvalidInput(
                f"the node's receipt does not verify: {error}", code="job.bad_receipt"
            ) from None
        if payload.get("job_id") != part.node_job_id or payload.get("grant_id") != part.chain_grant_id:
            raise InvalidInput("the receipt is for another job or grant", code="job.bad_receipt")
        part.receipt = receipt
        # The audit trail keeps the node's own signed receipt (payload and signature), so an auditor
        # re-verifies it from the log alone; its grant_id and job_id are the chain's and the node's.
        record = {
            **payload,
            "signature": receipt.get("signature"),
            "exchange_job_id": job_id,
            "exchange_grant_id": part.grant_id,
        }
        record_event(ctx, RECEIPT_KIND, part.provider_org_id, f"job:{job_id}", record)
    part.state = "failed" if error_code else "done"
    part.error_code = error_code
    ctx.session.flush()
