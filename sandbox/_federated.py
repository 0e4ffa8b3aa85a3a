"""Federated training of logistic and linear regression (FedAvg) over secure aggregation.

Horizontal partitioning: every node holds the same items for different records. A training run
is one round that securely sums feature moments (so all nodes standardise with the pooled mean and
standard deviation, as a central model would) and then `rounds` FedAvg rounds: each node runs
`local_epochs` gradient-descent epochs from the global model on its own records, and the
coordinator learns only Σ n_i·w_i and Σ n_i, from which it takes the sample-weighted average.

Per-round evaluation (logistic models without DP): from round 2 on, each node also evaluates the
global model it received (the result of the previous round) on its own records and appends its
correct predictions, its example count and its summed log-loss to the same vector, so they are
masked and summed with the update and the coordinator learns only their sums over the round's
participants. One last evaluation-only round (index ``rounds + 1``) scores the final model. The
round's accuracy is Σ correct / Σ examples.

Optional DP (``dp_clip`` and ``dp_noise_multiplier`` z): each node clips its model change to L2
norm C and adds Gaussian noise of standard deviation z·2C/√t, so that the sum of at least t
contributions carries noise z·2C — the sensitivity of the sum to any change of one node's data,
hence to any one record. Each round is charged ρ = 1/(2z²) zCDP to the node's grant. The guarantee
assumes at least t honest nodes add their share of the noise. With DP on, updates are averaged
unweighted (the weights would otherwise raise the sensitivity).

The trained model is returned to the caller; sealing it to the requester's key is the node
service's job.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from sandbox._accountant import BudgetAccountant, PrivacyCost
from sandbox._dp import gaussian_noise
from sandbox._messages import (
    MaskedInput,
    PlainInput,
    RoundConfig,
    ShareKeys,
    SharesDelivery,
    UnmaskRequest,
    UnmaskResponse,
)
from sandbox._runner import Runner, RunRequest
from sandbox._secagg import Agree, SecAggClient, SecAggCoordinator
from sandbox._table import Table
from sandbox._templates import ComputeContext, OutputRule, Param, ResourcePolicy, Template
from sandbox.errors import GroupTooSmall, InvalidParameters, ProtocolViolation, StateInvalid

__all__ = [
    "FEDERATED_TEMPLATES",
    "FederatedCoordinator",
    "FederatedModel",
    "FederatedNode",
    "NodeHandle",
    "RoundMetrics",
    "TrainingPlan",
]

F64 = npt.NDArray[np.float64]
Kind = Literal["logistic", "linear"]
_DEPS = ("sandbox._runner", "sandbox._dp", "sandbox._table", "sandbox._templates", "sandbox._secagg")
_FEATURES = Param("features", "items", max_length=256)
# ``with_update``: append the evaluation of the received global model to the update;
# ``only``: release just the evaluation (the final model's round).
_EVALUATE = Param("evaluate", "choice", required=False, default="no", choices=("no", "with_update", "only"))
# Correct predictions, examples, summed log-loss.
_METRICS = 3
# One example's log-loss is capped at -ln(1e-12), so a node's sum stays far inside the fixed-point
# range whatever weights it is sent.
_MAX_LOG_LOSS = -math.log(1e-12)


def _design(data: Table, features: Sequence[str]) -> F64:
    for name in features:
        item = data.schema[name]
        if item.identifier or not (item.numeric or item.type == "bool"):
            raise InvalidParameters("features", f"{name!r} is not a numeric item")
    return np.column_stack([data.numeric(f) for f in features]) if features else np.zeros((len(data), 0))


def _moments(ctx: ComputeContext) -> F64:
    x = _design(ctx.data, ctx.params["features"])
    # A node with fewer than k records would reveal too much through its share of the sums.
    if len(x) < ctx.policy.min_group_size:
        raise GroupTooSmall(ctx.policy.min_group_size)
    return np.concatenate([x.sum(axis=0), (x * x).sum(axis=0), [float(len(x))]])


def _sigmoid(z: F64) -> F64:
    out: F64 = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1 / (1 + e^-z)
    return out


def _evaluation(x: F64, y: F64, w: F64) -> F64:
    """Correct predictions, examples and summed log-loss of the logistic model `w` on standardised rows."""
    z = x @ w[:-1] + w[-1]
    correct = float(np.count_nonzero((z > 0) == (y == 1)))  # the class `FederatedModel.predict` gives
    # log(1 + e^z) - y·z is the log-loss of a logistic model, without overflow.
    loss = np.minimum(np.logaddexp(0.0, z) - y * z, _MAX_LOG_LOSS)
    return np.array([correct, float(len(y)), float(loss.sum())])


def _local_update(ctx: ComputeContext) -> F64:
    p = ctx.params
    data = ctx.data
    evaluate = p["evaluate"]
    # Counts carry no noise, so they would sit outside a DP run's guarantee: not released then.
    if evaluate != "no" and (p["kind"] != "logistic" or p["dp_clip"] is not None):
        raise InvalidParameters("evaluate", "only a logistic model trained without DP is evaluated")
    if len(data) < ctx.policy.min_group_size:
        raise GroupTooSmall(ctx.policy.min_group_size)
    d = len(p["features"])
    w0 = np.asarray(p["weights"], dtype=np.float64)
    mean, scale = np.asarray(p["mean"]), np.asarray(p["scale"])
    if w0.shape != (d + 1,) or mean.shape != (d,) or scale.shape != (d,) or np.any(scale <= 0):
        raise InvalidParameters("weights", f"need {d + 1} weights and {d} means and positive scales")
    x = (_design(data, p["features"]) - mean) / scale
    label = data.schema[p["label"]]
    if label.identifier or not (label.numeric or label.type == "bool"):
        raise InvalidParameters("label", f"{label.name!r} is not a numeric item")
    y = data.numeric(p["label"])
    if p["kind"] == "logistic" and not np.all((y == 0) | (y == 1)):
        raise InvalidParameters("label", "logistic regression needs a 0/1 label")
    metrics = _evaluation(x, y, w0) if evaluate != "no" else np.zeros(0)
    if evaluate == "only":
        return metrics
    w, b = w0[:d].copy(), float(w0[d])
    n, lr, l2 = len(y), p["learning_rate"], p["l2"]
    for _ in range(p["local_epochs"]):
        z = x @ w + b
        residual = (_sigmoid(z) if p["kind"] == "logistic" else z) - y
        w -= lr * (x.T @ residual / n + l2 * w)
        b -= lr * float(residual.mean())
    local = np.append(w, b)
    if p["dp_clip"] is None:
        return np.concatenate([n * local, [float(n)], metrics])
    clip, z_mult, t = p["dp_clip"], p["dp_noise_multiplier"], p["dp_min_contributors"]
    delta = local - w0
    norm = float(np.linalg.norm(delta))
    if norm > clip:
        delta *= clip / norm
    noise = gaussian_noise(z_mult * 2.0 * clip / math.sqrt(t), d + 1, ctx.rng)
    return np.append(delta + noise, 1.0)


def _update_cost(params: Mapping[str, Any]) -> PrivacyCost:
    if params["dp_clip"] is None:
        return PrivacyCost()
    z = params["dp_noise_multiplier"]
    if z is None or params["dp_min_contributors"] is None:
        raise InvalidParameters(
            "dp_noise_multiplier", "DP needs a noise multiplier and a minimum of contributors"
        )
    return PrivacyCost(rho=1.0 / (2.0 * z * z))


def _update_size(params: Mapping[str, Any]) -> int:
    update = len(params["features"]) + 2
    return {"only": _METRICS, "with_update": update + _METRICS}.get(params.get("evaluate") or "no", update)


FEDERATED_TEMPLATES: tuple[Template, ...] = (
    Template(
        "fl.moments",
        "1",
        (_FEATURES,),
        OutputRule.SECURE_AGGREGATE,
        _moments,
        output_size=lambda p: 2 * len(p["features"]) + 1,
        dependencies=_DEPS,
        description="Per-feature sums and sums of squares and the record count, for pooled standardisation.",
    ),
    Template(
        "fl.local_update",
        "1",
        (
            Param("kind", "choice", choices=("logistic", "linear")),
            _FEATURES,
            Param("label", "item"),
            Param("weights", "vector", max_length=257),
            Param("mean", "vector", max_length=256),
            Param("scale", "vector", max_length=256),
            Param("learning_rate", "number", minimum=1e-6, maximum=10.0),
            Param("local_epochs", "integer", minimum=1, maximum=1000),
            Param("l2", "number", required=False, default=0.0, minimum=0.0, maximum=100.0),
            Param("dp_clip", "number", required=False, minimum=1e-6, maximum=1e6),
            Param("dp_noise_multiplier", "number", required=False, minimum=0.1, maximum=1e3),
            Param("dp_min_contributors", "integer", required=False, minimum=1, maximum=1000),
            _EVALUATE,
        ),
        OutputRule.SECURE_AGGREGATE,
        _local_update,
        _update_cost,
        output_size=_update_size,
        dependencies=_DEPS,
        description=(
            "Local gradient descent from the global model; n·w and n, or a clipped, noised change;"
            " optionally the received model's correct predictions, examples and log-loss."
        ),
    ),
)


@dataclass(frozen=True)
class TrainingPlan:
    """What the requester asked for, as the coordinator runs it."""

    kind: Kind
    features: tuple[str, ...]
    label: str
    rounds: int = 40
    local_epochs: int = 10
    learning_rate: float = 0.5
    l2: float = 0.0
    threshold: int | None = None
    dp_clip: float | None = None
    dp_noise_multiplier: float | None = None
    secure: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": "tdex.sandbox.training_plan",
            "version": 1,
            "model": self.kind,
            "features": list(self.features),
            "label": self.label,
            "rounds": self.rounds,
            "local_epochs": self.local_epochs,
            "learning_rate": self.learning_rate,
            "l2": self.l2,
            "threshold": self.threshold,
            "dp_clip": self.dp_clip,
            "dp_noise_multiplier": self.dp_noise_multiplier,
            "secure": self.secure,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainingPlan:
        """Inverse of `to_dict`."""
        if d.get("kind") != "tdex.sandbox.training_plan" or d.get("version") != 1:
            raise StateInvalid("tdex.sandbox.training_plan", "wrong kind or version")
        try:
            return cls(
                d["model"],
                tuple(d["features"]),
                d["label"],
                int(d["rounds"]),
                int(d["local_epochs"]),
                float(d["learning_rate"]),
                float(d["l2"]),
                d["threshold"],
                d["dp_clip"],
                d["dp_noise_multiplier"],
                bool(d["secure"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateInvalid("tdex.sandbox.training_plan", str(exc)) from None


@dataclass(frozen=True)
class RoundMetrics:
    """The global model after round `round`, evaluated on the records of `participants` nodes.

    Only sums over those nodes are behind it: accuracy is Σ correct / Σ examples, loss the mean
    log-loss Σ loss / Σ examples.
    """

    round: int
    participants: int
    accuracy: float
    loss: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "round": self.round,
            "participants": self.participants,
            "accuracy": self.accuracy,
            "loss": self.loss,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RoundMetrics:
        """Inverse of `to_dict`."""
        try:
            return cls(int(d["round"]), int(d["participants"]), float(d["accuracy"]), float(d["loss"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise StateInvalid("tdex.sandbox.round_metrics", str(exc)) from None

    @classmethod
    def from_sums(cls, round_number: int, sums: F64, participants: int) -> RoundMetrics:
        """From the unmasked sums (correct, examples, log-loss); counts are whole numbers."""
        correct, examples = round(float(sums[0])), round(float(sums[1]))
        if examples <= 0:
            raise ProtocolViolation("an evaluation round summed to no examples")
        return cls(round_number, participants, correct / examples, float(sums[2]) / examples)


@dataclass(frozen=True)
class FederatedModel:
    """The trained model: weights on standardised features, the standardisation, and the history."""

    kind: Kind
    features: tuple[str, ...]
    weights: F64
    bias: float
    mean: F64
    scale: F64
    survivors: tuple[tuple[str, ...], ...] = field(default=())
    rounds: tuple[RoundMetrics, ...] = field(default=())

    def decision(self, x: F64) -> F64:
        """Linear score on raw (unstandardised) feature rows."""
        out: F64 = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias
        return out

    def predict(self, x: F64) -> F64:
        """Class (logistic, threshold 0.5) or value (linear) for raw feature rows."""
        z = self.decision(x)
        return (z > 0).astype(np.float64) if self.kind == "logistic" else z


class NodeHandle(Protocol):
    """What the coordinator needs from a node; `FederatedNode` in process, an HTTP client later."""

    node_id: str

    def share_keys(self, config: RoundConfig) -> ShareKeys:
        """Start a secure-aggregation round."""
        ...

    def masked_input(self, delivery: SharesDelivery, template: str, params: Mapping[str, Any]) -> MaskedInput:
        """Run `template` with `params` and return its vector masked."""
        ...

    def plain_input(self, round_id: str, template: str, params: Mapping[str, Any]) -> PlainInput:
        """Run `template` and return its vector in clear (insecure baseline; a node may refuse)."""
        ...

    def unmask(self, request: UnmaskRequest) -> UnmaskResponse:
        """Reveal the shares the coordinator needs to unmask the sum."""
        ...


class FederatedNode:
    """A department node's side of federated training: runs the templates through its runner."""

    def __init__(
        self,
        node_id: str,
        data: Table,
        runner: Runner,
        accountant: BudgetAccountant,
        *,
        allowed_templates: frozenset[str],
        agree: Agree,
        policy: ResourcePolicy | None = None,
        allow_plain: bool = False,
    ) -> None:
        self.node_id = node_id
        self._data = data
        self._runner = runner
        self._accountant = accountant
        self._allowed = allowed_templates
        self._policy = policy or ResourcePolicy()
        self._client = SecAggClient(node_id, agree)
        self._allow_plain = allow_plain

    def _request(self, template: str, params: Mapping[str, Any]) -> RunRequest:
        return RunRequest(self._accountant.grant_id, template, params, self._allowed)

    def share_keys(self, config: RoundConfig) -> ShareKeys:
        """Start a secure-aggregation round."""
        return self._client.share_keys(config)

    def masked_input(self, delivery: SharesDelivery, template: str, params: Mapping[str, Any]) -> MaskedInput:
        """Run `template` and hand its vector only to the masking client."""
        result = self._runner.run(
            self._request(template, params),
            self._data,
            self._policy,
            self._accountant,
            sink=lambda v: self._client.mask(delivery, v),
        )
        out: MaskedInput = result.output
        return out

    def plain_input(self, round_id: str, template: str, params: Mapping[str, Any]) -> PlainInput:
        """The insecure baseline, only if this node was configured to allow it (benchmarks)."""
        if not self._allow_plain:
            raise ProtocolViolation("this node only takes part in secure aggregation")
        result = self._runner.run(
            self._request(template, params),
            self._data,
            self._policy,
            self._accountant,
            sink=lambda v: PlainInput(round_id, self.node_id, v),
        )
        out: PlainInput = result.output
        return out

    def unmask(self, request: UnmaskRequest) -> UnmaskResponse:
        """Reveal the shares the coordinator needs."""
        return self._client.unmask(request)


DropoutHook = Callable[[int, str, str], bool]


class FederatedCoordinator:
    """Runs a training plan over node handles, in process; it only ever sees sums.

    ``dropout(round_index, phase, node_id)`` lets tests and demos make a node drop in a phase
    (``share_keys``, ``masked_input`` or ``unmask``); round index 0 is the moments round.
    """

    def __init__(
        self,
        nodes: Sequence[NodeHandle],
        *,
        moments_template: str,
        update_template: str,
        dropout: DropoutHook | None = None,
    ) -> None:
        if len({n.node_id for n in nodes}) != len(nodes) or not nodes:
            raise InvalidParameters("nodes", "need distinct node ids")
        self.nodes = {n.node_id: n for n in sorted(nodes, key=lambda n: n.node_id)}
        self._moments_template = moments_template
        self._update_template = update_template
        self._dropout = dropout or (lambda _r, _p, _n: False)
        self.training_id = uuid.uuid4().hex

    def _threshold(self, plan: TrainingPlan) -> int:
        return plan.threshold or len(self.nodes) // 2 + 1

    def aggregate(
        self,
        round_index: int,
        template: str,
        params: Mapping[str, Any],
        dimension: int,
        plan: TrainingPlan,
        frac_bits: int = 24,
    ) -> tuple[F64, tuple[str, ...]]:
        """One aggregation round; returns the sum and the nodes whose vectors are in it."""
        round_id = f"{self.training_id}/{round_index}"
        ids = tuple(self.nodes)
        gone = self._dropout
        if not plan.secure:
            inputs = [
                self.nodes[i].plain_input(round_id, template, params)
                for i in ids
                if not gone(round_index, "masked_input", i)
            ]
            return np.sum([m.vector for m in inputs], axis=0), tuple(m.sender for m in inputs)
        config = RoundConfig(round_id, ids, self._threshold(plan), dimension, frac_bits)
        coordinator = SecAggCoordinator(config)
        shares = [self.nodes[i].share_keys(config) for i in ids if not gone(round_index, "share_keys", i)]
        deliveries = coordinator.collect_shares(shares)
        masked = [
            self.nodes[i].masked_input(deliveries[i], template, params)
            for i in deliveries
            if not gone(round_index, "masked_input", i)
        ]
        request = coordinator.collect_masked(masked)
        answers = [
            self.nodes[i].unmask(request) for i in request.survivors if not gone(round_index, "unmask", i)
        ]
        return coordinator.finish(answers), request.survivors

    def standardisation(self, plan: TrainingPlan) -> tuple[F64, F64]:
        """Pooled mean and standard deviation of the features, from one secure round."""
        d = len(plan.features)
        total, _ = self.aggregate(
            0, self._moments_template, {"features": list(plan.features)}, 2 * d + 1, plan, 16
        )
        n = total[-1]
        mean = total[:d] / n
        var = np.maximum(total[d : 2 * d] / n - mean * mean, 0.0)
        scale = np.where(var > 1e-12, np.sqrt(var), 1.0)
        return mean, scale

    def train(self, plan: TrainingPlan) -> FederatedModel:
        """Run the plan: a moments round, then `plan.rounds` FedAvg rounds (round ids are fresh per run).

        A logistic model without DP is also evaluated after every round (see the module docstring);
        the final model's evaluation is one more round, index ``plan.rounds + 1``.
        """
        self.training_id = uuid.uuid4().hex
        d = len(plan.features)
        mean, scale = self.standardisation(plan)
        w = np.zeros(d + 1)
        dp = plan.dp_clip is not None
        evaluate = plan.kind == "logistic" and not dp
        history = []
        metrics: list[RoundMetrics] = []
        params: dict[str, Any] = {}
        for r in range(1, plan.rounds + 1):
            # Round r evaluates the model of round r - 1, which the nodes receive as `weights`.
            with_metrics = evaluate and r > 1
            params = {
                "kind": plan.kind,
                "features": list(plan.features),
                "label": plan.label,
                "weights": w.tolist(),
                "mean": mean.tolist(),
                "scale": scale.tolist(),
                "learning_rate": plan.learning_rate,
                "local_epochs": plan.local_epochs,
                "l2": plan.l2,
                "dp_clip": plan.dp_clip,
                "dp_noise_multiplier": plan.dp_noise_multiplier,
                "dp_min_contributors": self._threshold(plan) if dp else None,
                "evaluate": "with_update" if with_metrics else "no",
            }
            size = d + 2 + (_METRICS if with_metrics else 0)
            total, survivors = self.aggregate(r, self._update_template, params, size, plan)
            history.append(survivors)
            if with_metrics:
                metrics.append(RoundMetrics.from_sums(r - 1, total[d + 2 :], len(survivors)))
            # Without DP the sum is Σ n_i·w_i and Σ n_i; with DP, Σ (clipped change + noise) and the count.
            w = (w if dp else 0.0) + total[: d + 1] / total[d + 1]
        if evaluate and params:
            final = {**params, "weights": w.tolist(), "evaluate": "only"}
            total, survivors = self.aggregate(plan.rounds + 1, self._update_template, final, _METRICS, plan)
            metrics.append(RoundMetrics.from_sums(plan.rounds, total, len(survivors)))
        return FederatedModel(
            plan.kind, plan.features, w[:d], float(w[d]), mean, scale, tuple(history), tuple(metrics)
        )
