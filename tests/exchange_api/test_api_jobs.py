"""Sandbox jobs through the exchange: every state with its time and reason, cancellation, revocation mid-job.

The department's node is a stand-in answering over `httpx.MockTransport` as a node would (signed
receipts, problem documents); the node itself is tested in `tests/sandbox/node`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from api_support import World, application, build_world, entry
from sqlalchemy import select

import sandbox as sb
from exchange_api.client import ApiProblem
from exchange_api.models import Event
from exchange_api.routes import jobs as job_routes
from exchange_api.services.job_runner import JobRunner
from sandbox import node as sn
from sandbox.node.errors import GrantExpired

CODE = "301001/000001"
COUNT = sb.default_registry().digest_of("agg.count")
COUNT_HEX = "0x" + COUNT.removeprefix("sha256:")


@dataclass
class FakeNode:
    """Answers `POST /jobs` like dept_a's node: a receipt signed with dept_a's key, a sealed output."""

    world: World
    calls: list[dict[str, Any]] = field(default_factory=list)
    during: Callable[[], None] | None = None
    refuse: Exception | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        job = json.loads(request.content)["job"]
        self.calls.append(job)
        if self.during is not None:
            self.during()
        if isinstance(self.refuse, sb.errors.SandboxError):
            body = sn.problem_body(self.refuse, "/jobs")
            return httpx.Response(body["status"], json=body)
        payload = job["payload"]
        receipt = {
            "kind": "tdex.sandbox.receipt",
            "version": 1,
            "receipt_id": "rcpt_test",
            "job_id": payload["job_id"],
            "grant_id": payload["grant_id"],
            "outcome": "completed",
            "error_code": None,
            "template_digest": payload["template"],
            "output_digest": "sha256:" + "00" * 32,
            "privacy": {"epsilon": 0.1, "rho": 0.0, "budget_spent_micro": 100_000},
            "chain_use": {"budget_left_micro": 1_400_000, "uses_left": 9},
        }
        signed = self.world["dept_a"].key.sign_document(receipt)
        return httpx.Response(
            200, json={"receipt": signed, "sealed_output": base64.b64encode(b"sealed").decode()}
        )


@dataclass
class JobsWorld:
    """The exchange with dept_a's resource granted to the bank, dept_a's node announced, a runner."""

    world: World
    node: FakeNode
    runner: JobRunner
    grant_id: str


@pytest.fixture
def jobs(tmp_path: Any) -> Iterator[JobsWorld]:
    """A usable grant (anchored) of the bank on dept_a's resource, allowing agg.count."""
    for world in build_world(f"sqlite:///{tmp_path}/exchange.db"):
        app = world.app
        if not any(getattr(r, "path", "") == "/jobs" for r in app.routes):
            app.include_router(job_routes.router)  # until the app factory registers the router
        node = FakeNode(world)

        def client(url: str, name: str, node: FakeNode = node) -> sn.NodeClient:
            http = httpx.Client(base_url=url, transport=httpx.MockTransport(node.handle))
            return sn.NodeClient(url, name=name, http=http)

        runner = JobRunner(app.state.sessions, world.settings, clock=world.clock, client_factory=client)
        app.state.job_runner = runner  # driven by the test with run_pending, never started
        world["dept_a"].client.register(entry())
        applied = world["bank"].client.apply(application(templates=[COUNT_HEX]))
        decision = {
            "expires_at": (world.clock() + dt.timedelta(days=30)).isoformat(),
            "max_uses": 10,
            "privacy_budget": "1.5",
        }
        grant_id = world["dept_a"].client.approve(applied["id"], decision)["grant_id"]
        world.relay.drain()
        world["dept_a"].client.call(
            "PUT", "/sandbox/nodes/me", json_body={"node": "dept-a", "url": "http://a.node"}
        )
        yield JobsWorld(world, node, runner, grant_id)


def _signed_job(
    jw: JobsWorld, *, hours: float = 1.0, job_id: str = "node-job-1", **changes: Any
) -> dict[str, Any]:
    payload = sn.job_payload(
        job_id=job_id,
        node="dept-a",
        grant_id=1,  # the chain's id of the bank's first application
        resource_code=CODE,
        template=COUNT,
        params={"epsilon": 0.1},
        not_after=jw.world.clock() + dt.timedelta(hours=hours),
    )
    payload.update(changes)
    return jw.world["bank"].key.sign_document(payload)


def _submit(jw: JobsWorld, *, hours: float = 1.0, **job: Any) -> dict[str, Any]:
    body = {
        "kind": "aggregate",
        "deadline": (jw.world.clock() + dt.timedelta(hours=hours)).isoformat(),
        "parts": [{"grant_id": jw.grant_id, "job": job.pop("signed", None) or _signed_job(jw)}],
    }
    return jw.world["bank"].client.post("/jobs", body)


def _job(jw: JobsWorld, job_id: str, who: str = "bank") -> dict[str, Any]:
    result: dict[str, Any] = jw.world[who].client.call("GET", f"/jobs/{job_id}")
    return result


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


def _events(jw: JobsWorld, job_id: str) -> list[str]:
    with jw.world.app.state.sessions() as session:
        return [
            e.kind
            for e in session.scalars(select(Event).where(Event.subject == f"job:{job_id}").order_by(Event.id))
        ]


def test_a_job_goes_through_every_state_with_times_events_and_a_receipt(jobs: JobsWorld) -> None:
    """Submitted, authorised, running, completed: each time stored, each change an event, the receipt kept."""
    submitted = _submit(jobs)
    assert submitted["state"] == "submitted" and submitted["authorised_at"] is None
    jobs.runner.run_pending()
    done = _job(jobs, submitted["id"])
    assert done["state"] == "completed" and done["reason"] == "completed" and done["has_result"]
    times = [
        dt.datetime.fromisoformat(done[k])
        for k in ("submitted_at", "authorised_at", "started_at", "ended_at")
    ]
    assert times == sorted(times)
    (part,) = done["parts"]
    assert part["state"] == "done" and part["receipt"]["payload"]["job_id"] == "node-job-1"
    assert _events(jobs, submitted["id"]) == [
        "job.submitted", "job.authorised", "job.running", "tdex.sandbox.receipt", "job.completed",
    ]  # fmt: skip
    result = jobs.world["bank"].client.call("GET", f"/jobs/{submitted['id']}/result")
    assert base64.b64decode(result["sealed"]["node-job-1"]) == b"sealed"
    problem = _problem(lambda: jobs.world["dept_a"].client.call("GET", f"/jobs/{submitted['id']}/result"))
    assert (problem.status, problem.code) == (403, "job.not_requester")


def test_a_job_cancelled_before_it_runs_never_reaches_the_node(jobs: JobsWorld) -> None:
    """Cancelling a submitted job stores the reason; the runner leaves it; a second cancel is refused."""
    submitted = _submit(jobs)
    cancelled = jobs.world["bank"].client.post(
        f"/jobs/{submitted['id']}/cancel", {"reason": "wrong district"}
    )
    assert cancelled["state"] == "cancelled" and "wrong district" in cancelled["reason"]
    jobs.runner.run_pending()
    assert jobs.node.calls == [] and _job(jobs, submitted["id"])["state"] == "cancelled"
    again = _problem(
        lambda: jobs.world["bank"].client.post(f"/jobs/{submitted['id']}/cancel", {"reason": "x"})
    )
    assert (again.status, again.code) == (409, "job.already_ended")


def test_a_job_cancelled_while_running_stays_cancelled_without_a_result(jobs: JobsWorld) -> None:
    """The runner finds the cancellation after the node answers: no result is kept, the receipt is."""
    submitted = _submit(jobs)
    job_id = submitted["id"]
    jobs.node.during = lambda: jobs.world["bank"].client.post(
        f"/jobs/{job_id}/cancel", {"reason": "no longer needed"}
    )
    jobs.runner.run_pending()
    job = _job(jobs, job_id)
    assert job["state"] == "cancelled" and not job["has_result"] and job["parts"][0]["receipt"] is not None


def test_a_grant_revoked_while_the_job_runs_stops_it(jobs: JobsWorld) -> None:
    """The provider revokes during the node call; the job fails with the revocation as its reason."""
    submitted = _submit(jobs)
    jobs.node.during = lambda: jobs.world["dept_a"].client.revoke(jobs.grant_id, "purpose exceeded")
    jobs.runner.run_pending()
    job = _job(jobs, submitted["id"])
    assert job["state"] == "failed" and not job["has_result"]
    assert "no longer usable" in job["reason"] and "purpose exceeded" in job["reason"]


def test_a_job_past_its_deadline_expires(jobs: JobsWorld) -> None:
    """A job whose deadline passes before it runs ends expired, with the reason."""
    submitted = _submit(jobs, hours=1)
    jobs.world.clock.advance(hours=2)
    jobs.runner.run_pending()
    job = _job(jobs, submitted["id"])
    assert job["state"] == "expired" and "deadline" in job["reason"] and jobs.node.calls == []


def test_a_node_refusal_fails_the_job_with_the_nodes_code(jobs: JobsWorld) -> None:
    """The node's own chain check refuses; the job fails naming the node's error code."""
    submitted = _submit(jobs)
    jobs.node.refuse = GrantExpired(1, 100, 200)
    jobs.runner.run_pending()
    job = _job(jobs, submitted["id"])
    assert job["state"] == "failed" and job["reason"].startswith("sandbox.node.grant_expired")
    assert job["parts"][0]["error_code"] == "sandbox.node.grant_expired"


def test_only_the_grantee_submits_and_only_a_signed_matching_job(jobs: JobsWorld) -> None:
    """Another organisation's grant is not found; a tampered or mismatched node job is refused."""
    other = _problem(lambda: jobs.world["logistics"].client.post("/jobs", {
        "kind": "aggregate",
        "deadline": (jobs.world.clock() + dt.timedelta(hours=1)).isoformat(),
        "parts": [{"grant_id": jobs.grant_id, "job": jobs.world["logistics"].key.sign_document({"x": 1})}],
    }))  # fmt: skip
    assert (other.status, other.code) == (422, "job.bad_signature")
    tampered = _signed_job(jobs)
    tampered["payload"]["params"]["epsilon"] = 5.0
    bad = _problem(lambda: _submit(jobs, signed=tampered))
    assert (bad.status, bad.code) == (422, "job.bad_signature")
    wrong_grant = _problem(lambda: _submit(jobs, signed=_signed_job(jobs, grant_id=7)))
    assert (wrong_grant.status, wrong_grant.code) == (422, "job.mismatch")


def test_a_provider_without_a_node_fails_the_job(jobs: JobsWorld) -> None:
    """With no node announced for the provider the job fails at once, saying so."""
    with jobs.world.app.state.sessions() as session, session.begin():
        from exchange_api.models_jobs import SandboxNode

        session.query(SandboxNode).delete()
    submitted = _submit(jobs)
    jobs.runner.run_pending()
    job = _job(jobs, submitted["id"])
    assert job["state"] == "failed" and "no node registered" in job["reason"]
