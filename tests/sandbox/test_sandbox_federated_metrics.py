"""Per-round evaluation in federated training: summed by secure aggregation, equal to central evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import sandbox as sb
from sandbox.errors import InvalidParameters, StateInvalid
from sandbox.node import model_from_dict, model_to_dict

Agreement = Callable[[list[str]], sb.Agree]
FEATURES = tuple(f"f{j}" for j in range(30))
# A node's summed log-loss is rounded to 2^-24 by the fixed-point encoding; allow one unit per node.
LOSS_TOLERANCE = 3 * 2.0**-24


class Spy:
    """A node handle that records what the coordinator sends the node and what it gets back."""

    def __init__(self, node: sb.FederatedNode) -> None:
        self.node = node
        self.node_id = node.node_id
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.received: list[Any] = []

    def share_keys(self, config: sb.RoundConfig) -> sb.ShareKeys:
        out = self.node.share_keys(config)
        self.received.append(out)
        return out

    def masked_input(
        self, delivery: sb.SharesDelivery, template: str, params: Mapping[str, Any]
    ) -> sb.MaskedInput:
        self.sent.append((delivery.round_id, dict(params)))
        out = self.node.masked_input(delivery, template, params)
        self.received.append(out)
        return out

    def plain_input(self, round_id: str, template: str, params: Mapping[str, Any]) -> sb.PlainInput:
        raise AssertionError("the metrics travel only through secure aggregation")

    def unmask(self, request: sb.UnmaskRequest) -> sb.UnmaskResponse:
        out = self.node.unmask(request)
        self.received.append(out)
        return out


@pytest.fixture(scope="module")
def split() -> dict[str, Any]:
    ds = load_breast_cancer()
    rng = np.random.default_rng(4)
    parts = np.array_split(rng.permutation(len(ds.target))[:450], 3)
    items = tuple(
        sb.Item(f"f{j}", "float", lower=0.0, upper=float(np.ceil(ds.data[:, j].max() * 2))) for j in range(30)
    )
    schema = sb.Schema((*items, sb.Item("malignant", "int", lower=0, upper=1)))
    tables = []
    for idx in parts:
        cols: dict[str, Any] = {f"f{j}": ds.data[idx, j] for j in range(30)}
        cols["malignant"] = ds.target[idx]
        tables.append(sb.Table.from_columns(schema, cols))
    return {"x": ds.data, "y": ds.target.astype(float), "parts": parts, "tables": tables}


def _federation(
    tables: list[sb.Table], agreement: Agreement, dropout: Any = None
) -> tuple[sb.FederatedCoordinator, dict[str, Spy]]:
    registry = sb.default_registry()
    allowed = frozenset(t.digest for t in registry)
    ids = [f"dept-{i}" for i in range(len(tables))]
    agree = agreement(ids)
    spies = {
        i: Spy(
            sb.FederatedNode(
                i,
                t,
                sb.Runner(registry),
                sb.BudgetAccountant(i, 10.0),
                allowed_templates=allowed,
                agree=agree,
            )
        )
        for i, t in zip(ids, tables, strict=True)
    }
    coordinator = sb.FederatedCoordinator(
        list(spies.values()),
        moments_template=registry.digest_of("fl.moments"),
        update_template=registry.digest_of("fl.local_update"),
        dropout=dropout,
    )
    return coordinator, spies


def _plan(rounds: int = 5) -> sb.TrainingPlan:
    return sb.TrainingPlan("logistic", FEATURES, "malignant", rounds=rounds, local_epochs=3, l2=0.002)


def _evaluated_weights(spy: Spy) -> dict[int, np.ndarray]:
    """The global model each round evaluated, by the round it is the result of (from what the nodes got)."""
    out: dict[int, np.ndarray] = {}
    for round_id, params in spy.sent:
        index = int(round_id.rsplit("/", 1)[1])
        if params.get("evaluate") in ("with_update", "only"):
            out[index - 1] = np.asarray(params["weights"])
    return out


def _central(
    model: sb.FederatedModel, weights: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    """Accuracy and mean log-loss of `weights` on the pooled rows, computed in one place."""
    z = ((x - model.mean) / model.scale) @ weights[:-1] + weights[-1]
    loss = np.minimum(np.logaddexp(0.0, z) - y * z, -np.log(1e-12))
    return float(np.mean((z > 0) == (y == 1))), float(loss.mean())


def test_round_accuracy_equals_central_accuracy_on_the_union(
    split: dict[str, Any], agreement: Agreement
) -> None:
    """Each round's accuracy and loss are those of that round's global model on all the nodes' records."""
    coordinator, spies = _federation(split["tables"], agreement)
    model = coordinator.train(_plan())
    assert [(r.round, r.participants) for r in model.rounds] == [(n, 3) for n in range(1, 6)]
    union = np.concatenate(split["parts"])
    x, y = split["x"][union], split["y"][union]
    evaluated = _evaluated_weights(spies["dept-0"])
    assert sorted(evaluated) == [1, 2, 3, 4, 5]
    for metrics in model.rounds:
        accuracy, loss = _central(model, evaluated[metrics.round], x, y)
        assert metrics.accuracy == pytest.approx(accuracy, abs=1e-12)
        assert metrics.loss == pytest.approx(loss, abs=LOSS_TOLERANCE)
    final = np.append(model.weights, model.bias)
    assert np.allclose(evaluated[5], final)
    assert model.rounds[-1].accuracy == pytest.approx(float(np.mean(model.predict(x) == y)), abs=1e-12)


def test_the_coordinator_receives_only_masked_vectors(split: dict[str, Any], agreement: Agreement) -> None:
    """What a node hands the coordinator is masked: its own counts cannot be read from it."""
    coordinator, spies = _federation(split["tables"], agreement)
    model = coordinator.train(_plan(3))
    fp = sb.FixedPoint(24)
    d = len(FEATURES)
    for k, spy in enumerate(spies.values()):
        assert all(isinstance(m, sb.ShareKeys | sb.MaskedInput | sb.UnmaskResponse) for m in spy.received)
        masked = [m for m in spy.received if isinstance(m, sb.MaskedInput)]
        idx = split["parts"][k]
        for (round_id, params), sent in zip(spy.sent, masked, strict=True):
            assert sent.round_id == round_id and sent.masked.dtype == np.uint64
            if params.get("evaluate") == "no" or "weights" not in params:
                continue
            w = np.asarray(params["weights"])
            z = ((split["x"][idx] - model.mean) / model.scale) @ w[:-1] + w[-1]
            own = np.array([np.sum((z > 0) == (split["y"][idx] == 1)), len(idx)], dtype=float)
            counts = sent.masked[d + 2 : d + 4] if params["evaluate"] == "with_update" else sent.masked[:2]
            # Neither the encoded counts nor anything near them: the masks cover every entry.
            assert not np.any(fp.decode(counts) == own)
            assert np.all(np.abs(fp.decode(counts) - own) > 1e6)
    # The metrics the coordinator ends with are the sums: one figure per round, not per node.
    assert all(r.participants == 3 for r in model.rounds)


@pytest.mark.parametrize(
    ("round_index", "phase", "participants"),
    [(3, "masked_input", 2), (3, "share_keys", 2), (4, "unmask", 3), (6, "masked_input", 2)],
)
def test_dropout_recovery_keeps_the_metric_right(
    split: dict[str, Any], agreement: Agreement, round_index: int, phase: str, participants: int
) -> None:
    """dept-1 drops in one phase of the round carrying a metric; the metric covers exactly the survivors."""

    def dropout(r: int, p: str, node: str) -> bool:
        return (r, p, node) == (round_index, phase, "dept-1")

    coordinator, spies = _federation(split["tables"], agreement, dropout)
    model = coordinator.train(_plan())
    metrics = {r.round: r for r in model.rounds}
    # Round index i carries the evaluation of round i - 1's model (index 6 is the final evaluation).
    affected = metrics[round_index - 1]
    assert affected.participants == participants
    assert all(r.participants == 3 for r in model.rounds if r is not affected)
    nodes = [0, 2] if participants == 2 else [0, 1, 2]
    rows = np.concatenate([split["parts"][k] for k in nodes])
    weights = _evaluated_weights(spies["dept-0"])[affected.round]
    accuracy, loss = _central(model, weights, split["x"][rows], split["y"][rows])
    assert affected.accuracy == pytest.approx(accuracy, abs=1e-12)
    assert affected.loss == pytest.approx(loss, abs=LOSS_TOLERANCE)


def test_dp_and_linear_training_release_no_metrics(split: dict[str, Any], agreement: Agreement) -> None:
    """Counts carry no noise: a DP run records no per-round metrics, and a node refuses to evaluate one."""
    coordinator, spies = _federation(split["tables"], agreement)
    plan = sb.TrainingPlan(**{**_plan(2).__dict__, "dp_clip": 0.5, "dp_noise_multiplier": 1.0})
    model = coordinator.train(plan)
    assert model.rounds == ()
    assert all(p["evaluate"] == "no" for _, p in spies["dept-0"].sent if "weights" in p)
    params = {**spies["dept-0"].sent[-1][1], "evaluate": "only"}
    registry = sb.default_registry()
    digest = registry.digest_of("fl.local_update")
    request = sb.RunRequest("dept-0", digest, params, frozenset({digest}))
    with pytest.raises(InvalidParameters) as exc:
        sb.Runner(registry).run(
            request, split["tables"][0], sb.ResourcePolicy(), sb.BudgetAccountant("g", 10.0), sink=lambda v: v
        )
    assert exc.value.code == "sandbox.invalid_parameters"


def test_round_metrics_round_trip_with_the_model(split: dict[str, Any], agreement: Agreement) -> None:
    """The rounds survive model_to_dict / model_from_dict; a malformed entry is StateInvalid."""
    coordinator, _ = _federation(split["tables"], agreement)
    model = coordinator.train(_plan(2))
    raw = model_to_dict(model)
    assert raw["rounds"] == [r.to_dict() for r in model.rounds]
    assert model_from_dict(raw).rounds == model.rounds
    with pytest.raises(StateInvalid):
        sb.RoundMetrics.from_dict({"round": 1})
