"""The runner: the only way a template runs, and the place its output rule is enforced.

Order of checks for a job: template registered → allowed by the grant → parameters valid →
privacy cost charged (refused before running if over budget) → compute under the no-network guard
→ output rule enforced → result with the hashes a receipt needs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox._accountant import BudgetAccountant, PrivacyCost
from sandbox._canonical import digest_of
from sandbox._dp import RandomSource, SystemRandomSource, snapping_laplace
from sandbox._guard import no_network
from sandbox._table import Condition, Table
from sandbox._templates import ComputeContext, OutputRule, ResourcePolicy, Template, TemplateRegistry
from sandbox.errors import GroupTooSmall, OutputRuleViolated, TemplateNotAllowed

__all__ = ["Ciphertexts", "Measurement", "RunRequest", "RunResult", "Runner", "Statistic"]

_MAX_RELEASED_VALUES = 4096


@dataclass(frozen=True)
class Statistic:
    """One exact statistic a ``dp_aggregate`` template measured, before the runner noises it.

    ``count`` is the number of records behind it (for the k check); ``partition`` names the disjoint
    set of records it was computed over: statistics in different partitions compose in parallel,
    those in the same partition add up, and the runner refuses a measurement whose per-partition ε
    exceeds what was charged. ``required`` marks the statistic the query cannot do without: if it
    is below k the whole query is refused with `GroupTooSmall` rather than silently suppressed.
    """

    key: str
    value: float
    count: int
    sensitivity: float
    epsilon: float
    bound: float
    partition: str = ""
    required: bool = False


@dataclass(frozen=True)
class Measurement:
    """The statistics a ``dp_aggregate`` template returns."""

    statistics: tuple[Statistic, ...]
    public: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ciphertexts:
    """What a ``ciphertext`` template returns: serialised CKKS vectors and how many values they carry."""

    blobs: tuple[bytes, ...]
    values: int
    context_digest: str


@dataclass(frozen=True)
class RunRequest:
    """A job as the node sees it after checking the grant on chain.

    ``allowed_templates`` are the digests the grant pins; ``inputs`` are opaque byte inputs (a
    public HE context, encrypted weights) that enter the parameters hash by their SHA-256.
    """

    grant_id: str
    template_digest: str
    params: Mapping[str, Any]
    allowed_templates: frozenset[str]
    inputs: Mapping[str, bytes | tuple[bytes, ...]] = field(default_factory=dict)

    def params_digest(self) -> str:
        """``sha256:`` over the canonical JSON of the parameters and the inputs' hashes.

        A list of more than 16 numbers (model weights) enters as ``{"f64le_sha256": <hex>}``, the
        SHA-256 of its float64 little-endian bytes: RFC 8785 number formatting in pure Python
        costs milliseconds per model-sized vector and would dominate a federated round.
        """
        inputs = {
            k: [hashlib.sha256(b).hexdigest() for b in (v if isinstance(v, tuple) else (v,))]
            for k, v in self.inputs.items()
        }
        return digest_of({"params": _jsonable(self.params, compact_vectors=True), "inputs": inputs})


@dataclass(frozen=True)
class RunResult:
    """What leaves the node, with the hashes a receipt records."""

    grant_id: str
    template_digest: str
    dataset_digest: str
    params_digest: str
    output: Any
    output_digest: str
    epsilon: float
    rho: float
    suppressed: tuple[str, ...] = ()

    def receipt_fields(self) -> dict[str, Any]:
        """The fields a signed receipt carries (signing belongs to the node service)."""
        return {
            "grant_id": self.grant_id,
            "template_digest": self.template_digest,
            "dataset_digest": self.dataset_digest,
            "params_digest": self.params_digest,
            "output_digest": self.output_digest,
            "epsilon": self.epsilon,
            "rho": self.rho,
        }


class Runner:
    """Runs registered templates on a node's data and enforces their output rules."""

    def __init__(self, registry: TemplateRegistry, *, rng: RandomSource | None = None) -> None:
        self.registry = registry
        self._rng = rng or SystemRandomSource()

    def run(
        self,
        request: RunRequest,
        data: Table,
        policy: ResourcePolicy,
        accountant: BudgetAccountant,
        *,
        sink: Callable[[np.ndarray], Any] | None = None,
    ) -> RunResult:
        """Run one job.

        ``sink`` receives the vector of a ``secure_aggregate`` template (it masks it); its return
        value is the output. Raises the typed errors of `sandbox.errors`; nothing is released then.
        """
        template = self.registry.get(request.template_digest)
        if template.digest not in request.allowed_templates:
            raise TemplateNotAllowed(template.digest, request.grant_id)
        params = template.validate_params(request.params)
        cost = template.cost(params)
        params_digest = request.params_digest()
        # Charged before running: a refused query costs nothing, a run that fails later (for
        # example on a group below k) has still consumed budget, so failures cannot be probed free.
        accountant.charge(cost, f"{template.name}@{template.version} {params_digest}")
        ctx = ComputeContext(
            data=data, params=params, inputs=dict(request.inputs), policy=policy, rng=self._rng
        )
        with no_network():
            raw = template.compute(ctx)
        suppressed: tuple[str, ...] = ()
        output: Any
        if template.output is OutputRule.DP_AGGREGATE:
            output, suppressed = self._release_aggregate(template, raw, params, policy, cost)
        elif template.output is OutputRule.SECURE_AGGREGATE:
            output = self._release_vector(template, raw, params, sink)
        else:
            output = self._release_ciphertexts(template, raw, params, request)
        return RunResult(
            grant_id=request.grant_id,
            template_digest=template.digest,
            dataset_digest=data.digest(),
            params_digest=params_digest,
            output=output,
            output_digest=_output_digest(output),
            epsilon=cost.epsilon,
            rho=cost.rho,
            suppressed=suppressed,
        )

    def _release_aggregate(
        self,
        template: Template,
        raw: Any,
        params: Mapping[str, Any],
        policy: ResourcePolicy,
        cost: PrivacyCost,
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        rule = str(template.output)
        if not isinstance(raw, Measurement) or not raw.statistics:
            raise OutputRuleViolated(rule, "a dp_aggregate template must return a non-empty Measurement")
        if len(raw.statistics) > _MAX_RELEASED_VALUES:
            raise OutputRuleViolated(rule, f"more than {_MAX_RELEASED_VALUES} statistics")
        per_partition: dict[str, float] = {}
        for s in raw.statistics:
            if not isinstance(s, Statistic) or not math.isfinite(s.value) or s.epsilon <= 0:
                raise OutputRuleViolated(rule, "every statistic needs a finite value and a positive ε")
            per_partition[s.partition] = per_partition.get(s.partition, 0.0) + s.epsilon
        if max(per_partition.values()) > cost.epsilon * (1 + 1e-9):
            raise OutputRuleViolated(rule, "the statistics spend more ε than was charged")
        k = policy.min_group_size
        for s in raw.statistics:
            if s.required and s.count < k:
                raise GroupTooSmall(k)
        noisy: dict[str, float | None] = {}
        suppressed: list[str] = []
        for s in raw.statistics:
            if s.count < k:
                noisy[s.key] = None
                suppressed.append(s.key)
                continue
            noisy[s.key] = snapping_laplace(
                s.value, sensitivity=s.sensitivity, epsilon=s.epsilon, bound=s.bound, rng=self._rng
            )
        output = template.finalize(noisy, params, raw.public) if template.finalize else dict(noisy)
        _check_aggregate_shape(rule, output)
        return output, tuple(suppressed)

    def _release_vector(
        self,
        template: Template,
        raw: Any,
        params: Mapping[str, Any],
        sink: Callable[[np.ndarray], Any] | None,
    ) -> Any:
        rule = str(template.output)
        if sink is None:
            raise OutputRuleViolated(rule, "the vector may only leave through a secure-aggregation sink")
        expected = template.output_size(params) if template.output_size else None
        if not isinstance(raw, np.ndarray) or raw.ndim != 1 or raw.dtype.kind != "f":
            raise OutputRuleViolated(rule, "must return a 1-D float vector")
        if expected is None or raw.shape[0] != expected:
            raise OutputRuleViolated(rule, f"vector length {raw.shape[0]} is not the declared {expected}")
        if not np.all(np.isfinite(raw)):
            raise OutputRuleViolated(rule, "non-finite values")
        return sink(raw)

    def _release_ciphertexts(
        self, template: Template, raw: Any, params: Mapping[str, Any], request: RunRequest
    ) -> Ciphertexts:
        rule = str(template.output)
        if not isinstance(raw, Ciphertexts):
            raise OutputRuleViolated(rule, "must return Ciphertexts")
        limit = template.output_size(params) if template.output_size else 0
        if raw.values > limit:
            raise OutputRuleViolated(rule, f"{raw.values} values, at most {limit} allowed")
        context = request.inputs.get("context")
        if not isinstance(context, bytes) or raw.context_digest != _sha256(context):
            raise OutputRuleViolated(rule, "ciphertexts are not under the requester's context")
        return raw


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _check_aggregate_shape(rule: str, output: Any) -> None:
    # Only scalars leave: numbers (or None for a suppressed cell) in a map at most two levels deep.
    # A list or array would be the way rows escape, so there is none.
    if not isinstance(output, dict):
        raise OutputRuleViolated(rule, "must be a map")
    count = 0
    for key, value in output.items():
        if not isinstance(key, str):
            raise OutputRuleViolated(rule, "keys must be strings")
        inner = value if isinstance(value, dict) else {"": value}
        for k2, v in inner.items():
            if not isinstance(k2, str) or isinstance(v, dict):
                raise OutputRuleViolated(rule, "at most two levels of string keys")
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise OutputRuleViolated(rule, f"{key!r} is not a number")
            count += 1
    if count > _MAX_RELEASED_VALUES:
        raise OutputRuleViolated(rule, f"more than {_MAX_RELEASED_VALUES} values")


def _jsonable(value: Any, compact_vectors: bool = False) -> Any:
    if isinstance(value, Condition):
        return {"item": value.item, "op": value.op, "value": _jsonable(value.value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, compact_vectors) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if (
            compact_vectors
            and len(value) > 16
            and all(isinstance(v, float | int) and not isinstance(v, bool) for v in value)
        ):
            raw = np.asarray(value, dtype="<f8").tobytes()
            return {"f64le_sha256": hashlib.sha256(raw).hexdigest()}
        return [_jsonable(v, compact_vectors) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _output_digest(output: Any) -> str:
    if isinstance(output, Ciphertexts):
        h = hashlib.sha256()
        for b in output.blobs:
            h.update(hashlib.sha256(b).digest())
        return "sha256:" + h.hexdigest()
    if hasattr(output, "to_dict"):
        return digest_of(output.to_dict())
    return digest_of(_jsonable(output))
