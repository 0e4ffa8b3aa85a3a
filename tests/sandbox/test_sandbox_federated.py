"""Federated training: accuracy next to a central model, dropouts recovered, DP charged, bad input refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sandbox as sb
from sandbox.errors import (
    BudgetExceeded,
    DropoutUnrecoverable,
    GroupTooSmall,
    ProtocolViolation,
    StateInvalid,
)

Agreement = Callable[[list[str]], sb.Agree]


def _schema(x: np.ndarray, label: sb.Item) -> sb.Schema:
    items = tuple(
        sb.Item(
            f"f{j}",
            "float",
            lower=float(np.floor(x[:, j].min())) - 1,
            upper=float(np.ceil(x[:, j].max() * 2)),
        )
        for j in range(x.shape[1])
    )
    return sb.Schema((*items, label))


def _tables(x: np.ndarray, y: np.ndarray, parts: list[np.ndarray], schema: sb.Schema) -> list[sb.Table]:
    out = []
    for idx in parts:
        cols: dict[str, Any] = {f"f{j}": x[idx, j] for j in range(x.shape[1])}
        cols[schema.items[-1].name] = y[idx]
        out.append(sb.Table.from_columns(schema, cols))
    return out


def _federation(
    tables: list[sb.Table],
    agreement: Agreement,
    *,
    budget: float = 10.0,
    dropout: Any = None,
    policy: sb.ResourcePolicy | None = None,
) -> tuple[sb.FederatedCoordinator, list[sb.BudgetAccountant]]:
    registry = sb.default_registry()
    allowed = frozenset(t.digest for t in registry)
    ids = [f"dept-{i}" for i in range(len(tables))]
    agree = agreement(ids)
    accountants = [sb.BudgetAccountant(f"grant-{i}", budget) for i in ids]
    nodes = [
        sb.FederatedNode(
            i,
            t,
            sb.Runner(registry),
            acc,
            allowed_templates=allowed,
            agree=agree,
            policy=policy or sb.ResourcePolicy(),
        )
        for k, (i, t, acc) in enumerate(zip(ids, tables, accountants, strict=True))
    ]
    coordinator = sb.FederatedCoordinator(
        nodes,
        moments_template=registry.digest_of("fl.moments"),
        update_template=registry.digest_of("fl.local_update"),
        dropout=dropout,
    )
    return coordinator, accountants


@pytest.fixture(scope="module")
def cancer() -> dict[str, Any]:
    ds = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(
        ds.data, ds.target, test_size=0.3, random_state=0, stratify=ds.target
    )
    schema = _schema(ds.data, sb.Item("malignant", "int", lower=0, upper=1))
    scaler = StandardScaler().fit(x_tr)
    central = LogisticRegression(C=1.0, max_iter=5000).fit(scaler.transform(x_tr), y_tr)
    rng = np.random.default_rng(0)
    return {
        "x_tr": x_tr,
        "y_tr": y_tr,
        "x_te": x_te,
        "y_te": y_te,
        "schema": schema,
        "central": central.score(scaler.transform(x_te), y_te),
        "iid": np.array_split(rng.permutation(len(y_tr)), 3),
        "plan": sb.TrainingPlan(
            "logistic",
            tuple(f"f{j}" for j in range(30)),
            "malignant",
            rounds=30,
            local_epochs=10,
            l2=1 / len(y_tr),
        ),
    }


def test_iid_federated_logistic_regression_matches_central(
    cancer: dict[str, Any], agreement: Agreement
) -> None:
    """Three nodes with a random split train to within one point of the pooled model."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])
    coordinator, _ = _federation(tables, agreement)
    model = coordinator.train(cancer["plan"])
    accuracy = float(np.mean(model.predict(cancer["x_te"]) == cancer["y_te"]))
    assert abs(cancer["central"] - accuracy) <= 0.01
    pooled = cancer["x_tr"]
    assert np.allclose(model.mean, pooled.mean(axis=0), rtol=1e-4)
    assert np.allclose(model.scale, pooled.std(axis=0), rtol=1e-3)


@pytest.mark.parametrize(
    ("round_index", "phase"), [(0, "share_keys"), (3, "masked_input"), (5, "unmask"), (7, "masked_input")]
)
def test_a_node_dropping_out_mid_round_is_recovered(
    cancer: dict[str, Any], agreement: Agreement, round_index: int, phase: str
) -> None:
    """dept-1 vanishes in one phase of one round; the round completes from Shamir shares, training goes on."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])

    def dropout(r: int, p: str, node: str) -> bool:
        return (r, p, node) == (round_index, phase, "dept-1")

    coordinator, _ = _federation(tables, agreement, dropout=dropout)
    plan = sb.TrainingPlan(**{**cancer["plan"].__dict__, "rounds": 8})
    model = coordinator.train(plan)
    accuracy = float(np.mean(model.predict(cancer["x_te"]) == cancer["y_te"]))
    assert accuracy > 0.9
    if round_index > 0:
        expected = ("dept-0", "dept-2") if phase != "unmask" else ("dept-0", "dept-1", "dept-2")
        assert model.survivors[round_index - 1] == expected


def test_two_of_three_nodes_dropping_is_unrecoverable(cancer: dict[str, Any], agreement: Agreement) -> None:
    """With t = 2 of 3, losing two nodes stops the round with DropoutUnrecoverable."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])
    coordinator, _ = _federation(tables, agreement, dropout=lambda r, p, n: r == 1 and n != "dept-0")
    with pytest.raises(DropoutUnrecoverable) as exc:
        coordinator.train(cancer["plan"])
    assert exc.value.code == "sandbox.dropout_unrecoverable"


def test_dp_training_charges_each_round_and_stops_at_the_budget(
    cancer: dict[str, Any], agreement: Agreement
) -> None:
    """Clipped, noised updates cost ρ per round on each node's grant; the round past the budget is refused."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])
    coordinator, accountants = _federation(tables, agreement, budget=20.0)
    plan = sb.TrainingPlan(
        **{**cancer["plan"].__dict__, "rounds": 5, "dp_clip": 0.5, "dp_noise_multiplier": 1.0}
    )
    model = coordinator.train(plan)
    assert float(np.mean(model.predict(cancer["x_te"]) == cancer["y_te"])) > 0.6
    assert all(len(a.ledger) == 6 for a in accountants)  # moments round is free, five DP rounds
    assert all(a.ledger[-1].rho == pytest.approx(1 / 2) for a in accountants)
    assert all(a.epsilon_spent <= 20.0 for a in accountants)
    long_plan = sb.TrainingPlan(**{**plan.__dict__, "rounds": 100})
    with pytest.raises(BudgetExceeded):
        coordinator.train(long_plan)


def test_federated_linear_regression_matches_least_squares(agreement: Agreement) -> None:
    """On the diabetes data split over three nodes, FedAvg linear regression fits about as well as OLS."""
    ds = load_diabetes()
    x, y = ds.data, ds.target
    schema = _schema(x, sb.Item("target", "float", lower=0.0, upper=400.0))
    parts = np.array_split(np.random.default_rng(1).permutation(len(y)), 3)
    coordinator, _ = _federation(_tables(x, y, parts, schema), agreement)
    plan = sb.TrainingPlan(
        "linear", tuple(f"f{j}" for j in range(10)), "target", rounds=60, local_epochs=10, learning_rate=0.2
    )
    model = coordinator.train(plan)
    design = np.column_stack([x, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    r2 = 1 - np.sum((model.predict(x) - y) ** 2) / np.sum((y - y.mean()) ** 2)
    r2_ols = 1 - np.sum((design @ coef - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 > r2_ols - 0.02


def test_a_node_with_fewer_than_k_records_refuses(cancer: dict[str, Any], agreement: Agreement) -> None:
    """A node holding fewer than k records will not contribute its sums."""
    parts = [cancer["iid"][0], cancer["iid"][1], cancer["iid"][2][:5]]
    tables = _tables(cancer["x_tr"], cancer["y_tr"], parts, cancer["schema"])
    coordinator, _ = _federation(tables, agreement, policy=sb.ResourcePolicy(min_group_size=10))
    with pytest.raises(GroupTooSmall):
        coordinator.train(cancer["plan"])


def test_nodes_refuse_plain_rounds_unless_configured(cancer: dict[str, Any], agreement: Agreement) -> None:
    """A node only sends clear vectors when its operator allowed it (benchmarks); by default it refuses."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])
    coordinator, _ = _federation(tables, agreement)
    with pytest.raises(ProtocolViolation):
        coordinator.train(sb.TrainingPlan(**{**cancer["plan"].__dict__, "secure": False}))


def test_labels_must_fit_the_model(cancer: dict[str, Any], agreement: Agreement) -> None:
    """Logistic regression on a non-binary label, or on an identifier, is an invalid parameter."""
    tables = _tables(cancer["x_tr"], cancer["y_tr"], cancer["iid"], cancer["schema"])
    coordinator, _ = _federation(tables, agreement)
    with pytest.raises(sb.errors.InvalidParameters):
        coordinator.train(sb.TrainingPlan(**{**cancer["plan"].__dict__, "label": "f0"}))


def test_training_plan_round_trips() -> None:
    """A plan survives to_dict / from_dict; a foreign record is StateInvalid."""
    plan = sb.TrainingPlan("linear", ("a", "b"), "y", rounds=3, dp_clip=1.0, dp_noise_multiplier=1.5)
    assert sb.TrainingPlan.from_dict(plan.to_dict()) == plan
    with pytest.raises(StateInvalid):
        sb.TrainingPlan.from_dict({**plan.to_dict(), "version": 9})
