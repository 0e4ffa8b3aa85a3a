"""The job runner: takes submitted jobs through authorisation to the department nodes and back.

Each step is its own short transaction; the calls to nodes happen between them, outside any
transaction. Before every step (and before every federated phase) the runner rereads the job and
its grants: a job cancelled, past its deadline, or whose grant was revoked or expired meanwhile
stops there. Nodes check the same grants on chain themselves and refuse on their own.

What leaves a job: aggregates stay sealed by the node to the requester; encrypted sums are added
here without any key; a federated model is sealed to the requester's key and only the envelope is
kept, next to the model's accuracy per round (sums over each round's participants, see
docs/sandbox.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from exchange_api.models_jobs import Job, JobPart, SandboxNode
from exchange_api.services import jobs
from exchange_api.services.context import SYSTEM, Ctx, utcnow
from keys import public_encryption_key_from_multibase
from sandbox import add_ciphertexts, load_public_context
from sandbox.errors import SandboxError
from sandbox.node import (
    FederatedSpec,
    HttpFederatedCoordinator,
    HttpNodeHandle,
    JobResult,
    JobSpec,
    NodeClient,
    seal_model,
)

__all__ = ["ClientFactory", "JobRunner", "JobStopped"]

log = logging.getLogger("tdex.jobs")
ClientFactory = Callable[[str, str], NodeClient]


class JobStopped(Exception):
    """Raised inside the runner when a job must stop (cancelled, expired, grant no longer usable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _default_client(url: str, node: str) -> NodeClient:
    return NodeClient(url, name=node)


class JobRunner:
    """Runs jobs one at a time; `run_pending` for tests and tools, `start` for a background thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        client_factory: ClientFactory = _default_client,
        interval_s: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._client = client_factory
        self._interval = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ scheduling

    def start(self) -> None:
        """Run pending jobs in a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="tdex-job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread after its current job."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        """Look for work now (a job was submitted)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:
                log.exception("job runner pass failed")
            self._wake.wait(self._interval)
            self._wake.clear()

    def run_pending(self) -> int:
        """Run every job that is not finished, oldest first; returns how many were looked at."""
        with self._lock, session_scope(self._sessions) as session:
            ids = list(
                session.scalars(
                    select(Job.id)
                    .where(Job.state.in_(("submitted", "authorised")))
                    .order_by(Job.submitted_at)
                )
            )
        for job_id in ids:
            with self._lock:
                self.run_job(job_id)
        return len(ids)

    # ------------------------------------------------------------------ one job

    @contextmanager
    def _unit(self) -> Iterator[Ctx]:
        with session_scope(self._sessions) as session:
            yield Ctx(session, self._settings, SYSTEM, self._clock)

    def _move(
        self, job_id: str, to: str, reason: str | None = None, result: dict[str, Any] | None = None
    ) -> bool:
        with self._unit() as ctx:
            return jobs.move(ctx, job_id, to, reason, result)

    def _check(self, job_id: str) -> None:
        with self._unit() as ctx:
            why = jobs.stop_reason(ctx.session, job_id, ctx.now())
        if why is not None:
            raise JobStopped(why)

    def run_job(self, job_id: str) -> None:
        """Authorise, run and finish one job (a no-op for a job already past `authorised`)."""
        with self._unit() as ctx:
            job = ctx.session.get(Job, job_id)
            if job is None or job.state not in ("submitted", "authorised"):
                return
            state, kind, deadline, plan = job.state, job.kind, job.deadline, dict(job.plan or {})
            parts = [
                (p.position, p.provider_org_id, dict(p.signed_job))
                for p in ctx.session.scalars(
                    select(JobPart).where(JobPart.job_id == job_id).order_by(JobPart.position)
                )
            ]
            nodes = {n.org_id: n for n in ctx.session.scalars(select(SandboxNode))}
            why = jobs.stop_reason(ctx.session, job_id, ctx.now())
        if deadline <= self._clock():
            self._move(job_id, "expired", "the deadline passed before the job ran")
            return
        if why is not None:
            self._move(job_id, "failed", f"not authorised: {why}")
            return
        missing = [org for _, org, _ in parts if org not in nodes]
        if missing:
            self._move(job_id, "failed", f"no node registered for provider {missing[0]}")
            return
        if state == "submitted" and not self._move(job_id, "authorised"):
            return
        if not self._move(job_id, "running"):
            return
        clients = {org: self._client(nodes[org].url, nodes[org].node) for _, org, _ in parts}
        try:
            if kind == "federated":
                result = self._federated(job_id, parts, clients, plan)
            else:
                result = self._one_shot(job_id, kind, parts, clients)
        except JobStopped as stopped:
            reason = stopped.reason
            self._move(job_id, "expired" if reason == "expired" else "failed", f"stopped: {reason}")
            return
        except SandboxError as error:
            self._move(job_id, "failed", f"{error.code}: {error}")
            return
        finally:
            for client in clients.values():
                client.close()
        self._move(job_id, "completed", "completed", result)

    def _one_shot(
        self,
        job_id: str,
        kind: str,
        parts: list[tuple[int, str, dict[str, Any]]],
        clients: dict[str, NodeClient],
    ) -> dict[str, Any]:
        answers: list[JobResult] = []
        for position, org, signed in parts:
            self._check(job_id)
            try:
                answer = clients[org].run_job(signed)
            except SandboxError as error:
                with self._unit() as ctx:
                    jobs.record_part(ctx, job_id, position, error_code=error.code)
                raise
            with self._unit() as ctx:
                jobs.record_part(ctx, job_id, position, receipt=answer.receipt)
            answers.append(answer)
        self._check(job_id)
        if kind == "aggregate":
            sealed = {
                str(a.receipt["payload"]["job_id"]): base64.b64encode(a.sealed_output or b"").decode()
                for a in answers
            }
            return {"sealed": sealed}
        cts = [a.ciphertexts for a in answers]
        if any(c is None for c in cts):
            raise JobStopped("a node did not return ciphertexts")
        blobs = [list(c.blobs) for c in cts if c is not None]
        first = cts[0]
        assert first is not None
        if kind == "he_sum" and len(blobs) > 1:
            context = self._context(parts, clients, first.context_digest)
            blobs = [add_ciphertexts(load_public_context(context), blobs)]
        return {
            "ciphertexts": [base64.b64encode(b).decode() for b in blobs[0]],
            "values": first.values,
            "context_digest": first.context_digest,
        }

    @staticmethod
    def _context(
        parts: list[tuple[int, str, dict[str, Any]]], clients: dict[str, NodeClient], digest: str
    ) -> bytes:
        # The public context the nodes used, fetched from the first node's blob store by its digest.
        org = parts[0][1]
        data = clients[org].request("GET", f"/blobs/{digest}").content
        return bytes(data)

    def _federated(
        self,
        job_id: str,
        parts: list[tuple[int, str, dict[str, Any]]],
        clients: dict[str, NodeClient],
        plan: dict[str, Any],
    ) -> dict[str, Any]:
        specs = {org: JobSpec.from_dict(signed["payload"]) for _, org, signed in parts}
        fed: FederatedSpec | None = next(iter(specs.values())).federated
        assert fed is not None
        handles = []
        for _, org, signed in parts:
            self._check(job_id)
            session = clients[org].open_session(signed)
            handles.append(HttpNodeHandle(specs[org].node, clients[org], session["session"]))

        def check_each_phase(_round: int, _phase: str, _node: str) -> bool:
            self._check(job_id)  # raises JobStopped: cancelled, expired or a grant revoked
            return False

        update = next(iter(specs.values())).template
        coordinator = HttpFederatedCoordinator(
            handles, moments_template=fed.moments_template, update_template=update, dropout=check_each_phase
        )
        outcome = "failed"
        try:
            model = coordinator.train(fed.plan)
            outcome = "completed"
        finally:
            # Every node still answering closes its session and records its use, whatever happened.
            receipts = coordinator.finish_sessions(outcome)
            by_node = {specs[org].node: position for position, org, _ in parts}
            for node, receipt in receipts.items():
                with self._unit() as ctx:
                    jobs.record_part(ctx, job_id, by_node[node], receipt=receipt)
        recipient = public_encryption_key_from_multibase(str(plan["seal_to"]))
        envelope = seal_model(model, recipient, job_id)
        return {
            "sealed": {"model": base64.b64encode(envelope).decode()},
            "rounds": [r.to_dict() for r in model.rounds],
        }
