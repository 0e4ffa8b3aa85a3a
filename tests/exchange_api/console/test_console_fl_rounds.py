"""The enterprise workspace charts each completed federated job's accuracy per round."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from api_support import World
from console_support import sign_in

from exchange_api.console.workspace import fl_rounds
from exchange_api.models_jobs import Job
from exchange_api.schemas.jobs import JobKind, JobPublic, JobResult, JobState

ROUNDS = [
    {"round": 1, "participants": 3, "accuracy": 0.62, "loss": 0.66},
    {"round": 2, "participants": 2, "accuracy": 0.71, "loss": 0.58},
    {"round": 3, "participants": 3, "accuracy": 0.785, "loss": 0.51},
]


def _store_job(world: World, job_id: str, kind: str, state: str, result: dict[str, Any] | None) -> None:
    at = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
    with world.app.state.sessions() as session, session.begin():
        session.add(
            Job(
                id=job_id,
                requester_org_id=world["bank"].org_id,
                kind=kind,
                state=state,
                deadline=at + dt.timedelta(hours=1),
                plan=None,
                submitted_at=at,
                ended_at=at,
                reason=state,
                result=result,
            )
        )


def _job(job_id: str, kind: JobKind) -> JobPublic:
    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    return JobPublic(
        id=job_id,
        kind=kind,
        state=JobState.COMPLETED,
        requester_org_id="bank",
        deadline=at,
        submitted_at=at,
        authorised_at=at,
        started_at=at,
        ended_at=at,
        reason=None,
        has_result=True,
        parts=[],
    )


def test_fl_rounds_prepares_round_and_accuracy_points_of_federated_jobs_only() -> None:
    """Points are (round, accuracy) in order; other kinds get no chart, a job without rounds an empty one."""
    jobs = [_job("fl1", JobKind.FEDERATED), _job("fl2", JobKind.FEDERATED), _job("agg", JobKind.AGGREGATE)]
    results = {
        "fl1": JobResult(job_id="fl1", kind=JobKind.FEDERATED, rounds=list(reversed(ROUNDS))),
        "fl2": JobResult(job_id="fl2", kind=JobKind.FEDERATED),
        "agg": JobResult(job_id="agg", kind=JobKind.AGGREGATE, sealed={"n": "AAAA"}),
    }
    charts = fl_rounds(jobs, results)
    assert set(charts) == {"fl1", "fl2"}
    assert charts["fl1"].points == [(1.0, 0.62), (2.0, 0.71), (3.0, 0.785)]
    assert charts["fl1"].final is not None and charts["fl1"].final.participants == 3
    assert (charts["fl2"].points, charts["fl2"].final) == ([], None)


def test_a_completed_federated_job_shows_its_accuracy_per_round_as_a_chart(world: World) -> None:
    """The workspace draws one line of accuracy per round for the job, in both languages."""
    _store_job(
        world, "job_fl_done", "federated", "completed", {"sealed": {"model": "AAAA"}, "rounds": ROUNDS}
    )
    _store_job(world, "job_fl_running", "federated", "running", None)
    page = sign_in(world.http, world["bank"].key, "/console/workspace?lang=en")
    charts = re.findall(r'<div data-testid="fl-rounds" data-job-id="([^"]+)">(.*?)</div>', page, flags=re.S)
    assert [job_id for job_id, _ in charts] == ["job_fl_done"]
    chart = charts[0][1]
    assert chart.count("<polyline") == 1 and chart.count("<circle") == 3
    assert "Accuracy per round · job job_fl_done" in chart
    assert "accuracy · 3: 0.785" in chart  # the hover title of the last point
    assert "After round 3: accuracy 78.5 % over 3 participating node(s)." in chart
    assert "Accuracy per round is not shown" not in page
    zh = sign_in(world.http, world["bank"].key, "/console/workspace?lang=zh-CN")
    assert "逐轮准确率 · 任务 job_fl_done" in zh and "第 3 轮后：准确率 78.5 %" in zh
