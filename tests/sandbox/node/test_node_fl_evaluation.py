"""A node's training session admits per-round evaluation: one final evaluation-only round, never under DP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from node_support import World, digest, in_process_client, sign_job, split_credit

import sandbox as sb
from sandbox import node as sn
from sandbox.errors import InvalidParameters
from sandbox.node.errors import JobRejected

CODE = "330100-MKT/20001"
FL = ("fl.moments", "fl.local_update")


@pytest.fixture(scope="module")
def credit(world: World, tmp_path_factory: pytest.TempPathFactory) -> sn.NodeClient:
    """The market node holding a credit table (one department is enough for the session's checks)."""
    tables, _ = split_credit(800, 1, seed=5)
    world.resource("market", CODE, tables[0], k=10)
    folder: Path = tmp_path_factory.mktemp("credit-node")
    world.ingest(CODE, folder)
    return in_process_client(world.service("market", folder), "market")


def _coordinator(world: World, client: sn.NodeClient, plan: sb.TrainingPlan) -> sn.HttpFederatedCoordinator:
    grant = world.grant("bank", CODE, FL, uses=5, epsilon=50.0)
    spec = sn.FederatedSpec(("market",), digest("fl.moments"), plan)
    job = sign_job(world, "bank", "market", grant, CODE, "fl.local_update", federated=spec)
    session = client.open_session(job)
    handle = sn.HttpNodeHandle("market", client, session["session"])
    return sn.HttpFederatedCoordinator(
        [handle], moments_template=digest("fl.moments"), update_template=digest("fl.local_update")
    )


def _params(plan: sb.TrainingPlan, evaluate: str) -> dict[str, Any]:
    d = len(plan.features)
    return {
        "kind": plan.kind,
        "features": list(plan.features),
        "label": plan.label,
        "weights": [0.0] * (d + 1),
        "mean": [0.0] * d,
        "scale": [1.0] * d,
        "learning_rate": plan.learning_rate,
        "local_epochs": plan.local_epochs,
        "l2": plan.l2,
        "dp_clip": plan.dp_clip,
        "dp_noise_multiplier": plan.dp_noise_multiplier,
        "dp_min_contributors": 1 if plan.dp_clip is not None else None,
        "evaluate": evaluate,
    }


def test_a_session_trains_with_metrics_and_refuses_a_second_evaluation(
    world: World, credit: sn.NodeClient
) -> None:
    """Every round is evaluated through the session; a second evaluation-only round is JobRejected."""
    plan = sb.TrainingPlan("logistic", sb.CREDIT_FEATURES, "defaulted", rounds=3, local_epochs=2)
    coordinator = _coordinator(world, credit, plan)
    model = coordinator.train(plan)
    assert [(r.round, r.participants) for r in model.rounds] == [(1, 1), (2, 1), (3, 1)]
    assert all(0.0 <= r.accuracy <= 1.0 and r.loss > 0 for r in model.rounds)
    with pytest.raises(JobRejected) as exc:
        coordinator.aggregate(plan.rounds + 2, digest("fl.local_update"), _params(plan, "only"), 3, plan)
    assert exc.value.code == "sandbox.node.job_rejected"
    receipts = coordinator.finish_sessions()
    assert receipts["market"]["payload"]["outcome"] == "completed"


def test_a_dp_session_refuses_to_evaluate(world: World, credit: sn.NodeClient) -> None:
    """Under DP the node releases no un-noised counts: evaluation is an invalid parameter."""
    plan = sb.TrainingPlan(
        "logistic",
        sb.CREDIT_FEATURES,
        "defaulted",
        rounds=2,
        local_epochs=2,
        dp_clip=1.0,
        dp_noise_multiplier=2.0,
    )
    coordinator = _coordinator(world, credit, plan)
    coordinator.standardisation(plan)
    with pytest.raises(InvalidParameters) as exc:
        coordinator.aggregate(1, digest("fl.local_update"), _params(plan, "with_update"), 12, plan)
    assert exc.value.code == "sandbox.invalid_parameters" and "evaluate" in str(exc.value)
    coordinator.finish_sessions("failed")
