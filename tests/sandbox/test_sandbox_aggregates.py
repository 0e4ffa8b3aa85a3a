"""Private aggregates: k-suppression, DP noise, the budget, and the differencing attack."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import sandbox as sb
from sandbox.errors import BudgetExceeded, GroupTooSmall, InvalidParameters, RowsRequested

POLICY = sb.ResourcePolicy(min_group_size=10)


def _ask(
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    allowed: frozenset[str],
    data: sb.Table,
    name: str,
    params: dict[str, Any],
    accountant: sb.BudgetAccountant | None = None,
) -> sb.RunResult:
    acc = accountant or sb.BudgetAccountant("g", 100.0)
    return runner.run(
        sb.RunRequest(acc.grant_id, registry.digest_of(name), params, allowed), data, POLICY, acc
    )


def test_aggregates_are_close_to_the_truth(
    runner: sb.Runner, registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """With a generous ε, count, sum, mean and a group-by land near the exact values."""
    income = people.numeric("income")
    east = people.select([sb.Condition("district", "eq", "east")])
    count = _ask(runner, registry, allowed, people, "agg.count", {"epsilon": 5.0}).output["count"]
    total = _ask(runner, registry, allowed, people, "agg.sum", {"item": "income", "epsilon": 5.0}).output[
        "sum"
    ]
    mean = _ask(runner, registry, allowed, people, "agg.mean", {"item": "income", "epsilon": 5.0}).output[
        "mean"
    ]
    east_mean = _ask(
        runner,
        registry,
        allowed,
        people,
        "agg.mean",
        {"item": "income", "epsilon": 5.0, "where": [{"item": "district", "op": "eq", "value": "east"}]},
    ).output["mean"]
    assert abs(count - len(people)) <= 5
    assert abs(total - income.sum()) <= 500
    assert abs(mean - income.mean()) <= 2
    assert abs(east_mean - income[east].mean()) <= 5


def test_histogram_and_group_by_suppress_small_groups(
    runner: sb.Runner, registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """Cells below k come back as None and are listed; the others carry noisy values."""
    result = _ask(
        runner,
        registry,
        allowed,
        people,
        "agg.group_by",
        {"by": ["district"], "metric": "count", "epsilon": 1.0},
    )
    assert result.output["district=tiny"] == {"count": None}
    assert result.suppressed == ("district=tiny#count",)
    assert result.output["district=east"]["count"] > 50
    hist = _ask(
        runner, registry, allowed, people, "agg.histogram", {"item": "income", "bins": 4, "epsilon": 1.0}
    )
    assert set(hist.output["counts"]) == {"[0,25)", "[25,50)", "[50,75)", "[75,100]"}
    assert hist.output["counts"]["[0,25)"] is not None
    two = _ask(
        runner,
        registry,
        allowed,
        people,
        "agg.group_by",
        {"by": ["district", "employed"], "metric": "mean", "item": "income", "epsilon": 1.0},
    )
    assert two.output["district=tiny|employed=true"] == {"mean": None}
    assert 10 <= two.output["district=east|employed=true"]["mean"] <= 90


def test_query_for_a_group_below_k_is_refused_and_still_charged(
    runner: sb.Runner, registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """Selecting fewer than k records (one person, the tiny district) is GroupTooSmall; ε stays spent."""
    acc = sb.BudgetAccountant("g", 1.0)
    for where in (
        [{"item": "person", "op": "eq", "value": "p0"}],
        [{"item": "district", "op": "eq", "value": "tiny"}],
    ):
        with pytest.raises(GroupTooSmall) as exc:
            _ask(
                runner,
                registry,
                allowed,
                people,
                "agg.sum",
                {"item": "income", "epsilon": 0.1, "where": where},
                acc,
            )
        assert exc.value.code == "sandbox.group_too_small"
        assert "3" not in str(exc.value) and exc.value.minimum == 10
    assert acc.epsilon_spent == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("agg.group_by", {"by": ["person"], "metric": "count", "epsilon": 0.1}),
        ("agg.group_by", {"by": ["district", "person"], "metric": "sum", "item": "income", "epsilon": 0.1}),
        ("agg.histogram", {"item": "person", "epsilon": 0.1}),
    ],
)
def test_request_for_rows_is_refused(
    runner: sb.Runner,
    registry: sb.TemplateRegistry,
    allowed: frozenset[str],
    people: sb.Table,
    name: str,
    params: dict[str, Any],
) -> None:
    """Grouping or binning by an identifier would release one cell per record: RowsRequested."""
    with pytest.raises(RowsRequested) as exc:
        _ask(runner, registry, allowed, people, name, params)
    assert exc.value.code == "sandbox.rows_requested"


def test_sums_of_identifiers_and_categories_are_refused(
    runner: sb.Runner, registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """Only numeric items with declared bounds can be summed."""
    for item in ("person", "district"):
        with pytest.raises(InvalidParameters):
            _ask(runner, registry, allowed, people, "agg.sum", {"item": item, "epsilon": 0.1})


def test_query_over_budget_is_refused_before_it_runs(people: sb.Table) -> None:
    """The eleventh 0.1-ε query of a 1.0 grant is refused: nothing is computed and nothing is charged."""
    computed: list[int] = []
    count = sb.default_registry().get(sb.default_registry().digest_of("agg.count"))

    def spy(ctx: sb.ComputeContext) -> sb.Measurement:
        computed.append(1)
        out: sb.Measurement = count.compute(ctx)
        return out

    template = sb.Template(
        "spy.count", "1", count.params, count.output, spy, count.cost, finalize=count.finalize
    )
    registry = sb.TemplateRegistry([template])
    runner = sb.Runner(registry, rng=sb.SeededRandomSource(2))
    acc = sb.BudgetAccountant("g", 1.0)
    request = sb.RunRequest("g", template.digest, {"epsilon": 0.1}, frozenset({template.digest}))
    for _ in range(10):  # exactly the budget: 0.1 is charged exactly, so the tenth fits
        runner.run(request, people, POLICY, acc)
    ledger = acc.ledger
    with pytest.raises(BudgetExceeded) as exc:
        runner.run(request, people, POLICY, acc)
    assert exc.value.code == "sandbox.budget_exceeded"
    assert exc.value.remaining == 0
    assert acc.ledger == ledger and len(computed) == 10


def test_differencing_attack_is_bounded_by_dp_and_exhausts_the_budget(
    registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """Sum over all minus sum over all-but-p0 guesses p0's income no better than ε-DP allows, not for long."""
    eps_q = 0.5
    others = [{"item": "person", "op": "ne", "value": "p0"}]
    # Two neighbouring worlds: p0 earns the top of the clamp (100) or nothing (0).
    incomes = {w: people.numeric("income").copy() for w in (0, 1)}
    incomes[0][0] = 0.0
    worlds = {
        w: sb.Table.from_columns(
            people.schema,
            {
                "person": people.column("person").tolist(),
                "district": [people.schema["district"].categories[c] for c in people.column("district")],
                "employed": people.column("employed").tolist(),
                "income": incomes[w],
            },
        )
        for w in (0, 1)
    }
    runner = sb.Runner(registry, rng=sb.SeededRandomSource(11))
    trials, correct = 600, 0
    for trial in range(trials):
        world = trial % 2
        acc = sb.BudgetAccountant(f"g{trial}", 2 * eps_q)
        a = _ask(
            runner, registry, allowed, worlds[world], "agg.sum", {"item": "income", "epsilon": eps_q}, acc
        )
        b = _ask(
            runner,
            registry,
            allowed,
            worlds[world],
            "agg.sum",
            {"item": "income", "epsilon": eps_q, "where": others},
            acc,
        )
        guess = 1 if a.output["sum"] - b.output["sum"] > 50 else 0
        correct += guess == world
        if trial == 0:
            # The grant is spent: asking again, to average the noise away, is refused.
            with pytest.raises(BudgetExceeded):
                _ask(
                    runner,
                    registry,
                    allowed,
                    worlds[world],
                    "agg.sum",
                    {"item": "income", "epsilon": eps_q},
                    acc,
                )
    # Without noise the difference is exactly p0's income; with ε-DP no test beats e^ε / (1 + e^ε).
    bound = math.exp(eps_q) / (1 + math.exp(eps_q))
    rate = correct / trials
    assert rate <= bound + 4 * math.sqrt(bound * (1 - bound) / trials)
    assert incomes[1][0] - incomes[0][0] == 100


def test_noise_is_snapped_to_a_power_of_two_grid(
    runner: sb.Runner, registry: sb.TemplateRegistry, allowed: frozenset[str], people: sb.Table
) -> None:
    """Released sums are multiples of Λ·sensitivity (snapping), so low-order float bits carry nothing."""
    lam, _ = sb._dp.snapping_scale(0.5, POLICY.max_rows)
    grid = 2.0 ** math.ceil(math.log2(lam)) * 100.0
    for _ in range(20):
        s = _ask(runner, registry, allowed, people, "agg.sum", {"item": "income", "epsilon": 0.5}).output[
            "sum"
        ]
        assert s / grid == round(s / grid)


def test_accountant_round_trips_and_refuses_tampered_state() -> None:
    """The budget serialises and reloads; an overspent or foreign ledger is StateInvalid."""
    acc = sb.BudgetAccountant("grant-7", 1.0, delta=1e-6)
    acc.charge(sb.PrivacyCost(0.3), "q1")
    acc.charge(sb.PrivacyCost(rho=0.001), "fl round 1")
    state = acc.to_dict()
    again = sb.BudgetAccountant.from_dict(state)
    assert again.to_dict() == state and again.epsilon_spent == pytest.approx(acc.epsilon_spent)
    forged = {**state, "ledger": [*state["ledger"], {"label": "x", "epsilon": 0.9, "rho": 0.0}]}
    for bad in (forged, {**state, "kind": "other"}, {**state, "ledger": [{"label": "x"}]}):
        with pytest.raises(sb.errors.StateInvalid) as exc:
            sb.BudgetAccountant.from_dict(bad)
        assert exc.value.code == "sandbox.state_invalid"


def test_gaussian_rounds_compose_in_zcdp() -> None:
    """Gaussian rounds cost far less than their summed per-round ε, and are refused past the budget."""
    acc = sb.BudgetAccountant("g", 2.0, delta=1e-6)
    rho = 1 / (2 * 8.0**2)
    n = 0
    with pytest.raises(BudgetExceeded):
        while True:
            acc.charge(sb.PrivacyCost(rho=rho), "round")
            n += 1
    per_round = sb.zcdp_to_approx_dp(rho, 1e-6)
    assert n > 2 * (2.0 / per_round)
    assert acc.epsilon_spent <= 2.0


def test_snapping_bounds_are_checked() -> None:
    """Snapping needs a positive ε and sensitivity."""
    rng = sb.SeededRandomSource(1)
    with pytest.raises(InvalidParameters):
        sb.snapping_laplace(1.0, sensitivity=1.0, epsilon=0.0, bound=10, rng=rng)
    with pytest.raises(InvalidParameters):
        sb.snapping_laplace(1.0, sensitivity=0.0, epsilon=1.0, bound=10, rng=rng)
    values = np.array(
        [sb.snapping_laplace(0.0, sensitivity=1.0, epsilon=1.0, bound=1e6, rng=rng) for _ in range(4000)]
    )
    # Laplace(λ≈1) snapped to multiples of 2: mean |X| is about λ.
    assert 0.8 < np.abs(values).mean() < 1.6
    assert np.all(values % 2 == 0)
