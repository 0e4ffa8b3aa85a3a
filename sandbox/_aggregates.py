"""Private aggregate templates: count, sum, mean, histogram and group-by with k-suppression and DP noise.

Neighbouring datasets differ by one record (add/remove), one record per subject. Sensitivities
come from the items' declared clamping bounds, never from the data: a count moves by 1, a sum of an
item clamped to [lo, hi] by max(|lo|, |hi|). Group keys come from the items' declared category
lists, so which groups exist is public; groups below the resource's k are suppressed. The k test
uses the true count, as statistical disclosure rules require; that one bit is not covered by the
DP guarantee, and the query that reveals it has already been charged its ε.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sandbox._accountant import PrivacyCost
from sandbox._runner import Measurement, Statistic
from sandbox._table import Item, Table
from sandbox._templates import ComputeContext, OutputRule, Param, Template
from sandbox.errors import InvalidParameters, RowsRequested

__all__ = ["AGGREGATE_TEMPLATES"]

_DEPS = ("sandbox._runner", "sandbox._dp", "sandbox._table", "sandbox._templates")
_EPSILON = Param("epsilon", "number", minimum=1e-3, maximum=10.0)
_WHERE = Param("where", "where", required=False, default=(), max_length=8)
_ITEM = Param("item", "item")
_MAX_GROUPS = 1024


def _cost(params: Mapping[str, Any]) -> PrivacyCost:
    return PrivacyCost(float(params["epsilon"]))


def _numeric_item(data: Table, name: str) -> Item:
    item = data.schema[name]
    if item.identifier or not item.numeric:
        raise InvalidParameters("item", f"{name!r} is not a numeric item with clamping bounds")
    lo, hi = item.bounds()
    if max(abs(lo), abs(hi)) == 0:
        raise InvalidParameters("item", f"{name!r} has zero-width bounds")
    return item


def _sum_stat(
    ctx: ComputeContext, mask: np.ndarray, item: Item, eps: float, key: str, part: str, required: bool
) -> Statistic:
    lo, hi = item.bounds()
    sens = max(abs(lo), abs(hi))
    values = ctx.data.numeric(item.name)[mask]
    return Statistic(
        key, float(values.sum()), int(mask.sum()), sens, eps, ctx.policy.max_rows * sens, part, required
    )


def _count_stat(
    ctx: ComputeContext, mask: np.ndarray, eps: float, key: str, part: str, required: bool
) -> Statistic:
    n = int(mask.sum())
    return Statistic(key, float(n), n, 1.0, eps, float(ctx.policy.max_rows), part, required)


def _count(ctx: ComputeContext) -> Measurement:
    mask = ctx.data.select(ctx.params["where"])
    return Measurement((_count_stat(ctx, mask, ctx.params["epsilon"], "count", "", True),))


def _sum(ctx: ComputeContext) -> Measurement:
    item = _numeric_item(ctx.data, ctx.params["item"])
    mask = ctx.data.select(ctx.params["where"])
    return Measurement((_sum_stat(ctx, mask, item, ctx.params["epsilon"], "sum", "", True),))


def _mean(ctx: ComputeContext) -> Measurement:
    item = _numeric_item(ctx.data, ctx.params["item"])
    mask = ctx.data.select(ctx.params["where"])
    half = ctx.params["epsilon"] / 2
    stats = (
        _sum_stat(ctx, mask, item, half, "sum", "", True),
        _count_stat(ctx, mask, half, "count", "", True),
    )
    return Measurement(stats, {"bounds": item.bounds()})


def _mean_of(noisy_sum: float | None, noisy_count: float | None, bounds: Any) -> float | None:
    if noisy_sum is None or noisy_count is None:
        return None
    lo, hi = bounds
    # Post-processing of two noised values: dividing and clamping costs no privacy.
    return float(min(max(noisy_sum / max(noisy_count, 1.0), lo), hi))


def _finalize_mean(
    noisy: Mapping[str, float | None], params: Mapping[str, Any], public: Mapping[str, Any]
) -> dict[str, Any]:
    return {"mean": _mean_of(noisy["sum"], noisy["count"], public["bounds"])}


def _finalize_scalar(
    noisy: Mapping[str, float | None], params: Mapping[str, Any], public: Mapping[str, Any]
) -> dict[str, Any]:
    return {k: (max(v, 0.0) if k == "count" and v is not None else v) for k, v in noisy.items()}


def _groups(data: Table, names: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """A group index per row and the label of each group, from the items' public domains."""
    index = np.zeros(len(data), dtype=np.int64)
    labels = [""]
    for name in names:
        item = data.schema[name]
        if item.identifier or item.type == "string":
            raise RowsRequested(f"grouping by {name!r} would release one group per record")
        if item.type == "category":
            domain = list(item.categories)
        elif item.type == "bool":
            domain = ["false", "true"]
        else:
            raise InvalidParameters("by", f"{name!r} is numeric; use agg.histogram to bucket it")
        index = index * len(domain) + data.column(name).astype(np.int64)
        labels = [f"{lab}|{name}={d}" if lab else f"{name}={d}" for lab in labels for d in domain]
    if len(labels) > _MAX_GROUPS:
        raise InvalidParameters("by", f"more than {_MAX_GROUPS} groups")
    return index, labels


def _histogram(ctx: ComputeContext) -> Measurement:
    data, params = ctx.data, ctx.params
    item = data.schema[params["item"]]
    mask = data.select(params["where"])
    eps = params["epsilon"]
    if item.numeric:
        lo, hi = item.bounds()
        bins = params["bins"]
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.clip(np.searchsorted(edges, data.numeric(item.name), side="right") - 1, 0, bins - 1)
        labels = [f"[{edges[b]:g},{edges[b + 1]:g}{']' if b == bins - 1 else ')'}" for b in range(bins)]
    else:
        idx, labels = _groups(data, (item.name,))
    counts = np.bincount(idx[mask], minlength=len(labels))
    # Bins are disjoint, so each gets the full ε (parallel composition).
    return Measurement(
        tuple(
            Statistic(lab, float(c), int(c), 1.0, eps, float(ctx.policy.max_rows), lab)
            for lab, c in zip(labels, counts, strict=True)
        )
    )


def _finalize_histogram(
    noisy: Mapping[str, float | None], params: Mapping[str, Any], public: Mapping[str, Any]
) -> dict[str, Any]:
    return {"counts": {k: (None if v is None else max(v, 0.0)) for k, v in noisy.items()}}


def _group_by(ctx: ComputeContext) -> Measurement:
    data, params = ctx.data, ctx.params
    metric = params["metric"]
    index, labels = _groups(data, params["by"])
    mask = data.select(params["where"])
    eps = params["epsilon"]
    item = None
    if metric != "count":
        if not params.get("item"):
            raise InvalidParameters("item", f"metric {metric!r} needs an item")
        item = _numeric_item(data, params["item"])
    counts = np.bincount(index[mask], minlength=len(labels))
    stats: list[Statistic] = []
    if item is not None:
        lo, hi = item.bounds()
        sens = max(abs(lo), abs(hi))
        sums = np.bincount(index[mask], weights=data.numeric(item.name)[mask], minlength=len(labels))
    for g, lab in enumerate(labels):
        n = int(counts[g])
        if metric in ("count", "mean"):
            e = eps if metric == "count" else eps / 2
            stats.append(Statistic(f"{lab}#count", float(n), n, 1.0, e, float(ctx.policy.max_rows), lab))
        if item is not None:
            e = eps if metric == "sum" else eps / 2
            stats.append(Statistic(f"{lab}#sum", float(sums[g]), n, sens, e, ctx.policy.max_rows * sens, lab))
    return Measurement(tuple(stats), {"bounds": item.bounds() if item is not None else None})


def _finalize_group_by(
    noisy: Mapping[str, float | None], params: Mapping[str, Any], public: Mapping[str, Any]
) -> dict[str, Any]:
    metric = params["metric"]
    out: dict[str, Any] = {}
    groups = sorted({k.rsplit("#", 1)[0] for k in noisy})
    for g in groups:
        c, s = noisy.get(f"{g}#count"), noisy.get(f"{g}#sum")
        if metric == "count":
            out[g] = {"count": None if c is None else max(c, 0.0)}
        elif metric == "sum":
            out[g] = {"sum": s}
        else:
            out[g] = {"mean": _mean_of(s, c, public["bounds"])}
    return out


AGGREGATE_TEMPLATES: tuple[Template, ...] = (
    Template(
        "agg.count",
        "1",
        (_EPSILON, _WHERE),
        OutputRule.DP_AGGREGATE,
        _count,
        _cost,
        finalize=_finalize_scalar,
        dependencies=_DEPS,
        description="Noisy number of records meeting the filter.",
    ),
    Template(
        "agg.sum",
        "1",
        (_ITEM, _EPSILON, _WHERE),
        OutputRule.DP_AGGREGATE,
        _sum,
        _cost,
        finalize=_finalize_scalar,
        dependencies=_DEPS,
        description="Noisy sum of a numeric item clamped to its declared bounds.",
    ),
    Template(
        "agg.mean",
        "1",
        (_ITEM, _EPSILON, _WHERE),
        OutputRule.DP_AGGREGATE,
        _mean,
        _cost,
        finalize=_finalize_mean,
        dependencies=_DEPS,
        description="Noisy sum over noisy count (ε split in half), clamped to the item's bounds.",
    ),
    Template(
        "agg.histogram",
        "1",
        (
            _ITEM,
            _EPSILON,
            _WHERE,
            Param("bins", "integer", required=False, default=10, minimum=1, maximum=256),
        ),
        OutputRule.DP_AGGREGATE,
        _histogram,
        _cost,
        finalize=_finalize_histogram,
        dependencies=_DEPS,
        description="Noisy counts per bin (numeric item, equal-width over its bounds) or per category.",
    ),
    Template(
        "agg.group_by",
        "1",
        (
            Param("by", "items", max_length=2),
            Param("metric", "choice", choices=("count", "sum", "mean")),
            Param("item", "item", required=False),
            _EPSILON,
            _WHERE,
        ),
        OutputRule.DP_AGGREGATE,
        _group_by,
        _cost,
        finalize=_finalize_group_by,
        dependencies=_DEPS,
        description="Noisy count, sum or mean per group of up to two category items; small groups dropped.",
    ),
)
