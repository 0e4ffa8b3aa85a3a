"""双随机 inspection sampling: reproducible from the seed, grade-weighted, order-independent."""

from __future__ import annotations

import random

import pytest

from credentials import DEFAULT_RATES_PERMILLE, draw_inspection_sample
from credentials.errors import SamplingError

POPULATION = [(f"91110000{i:09d}X", "ABCD"[i % 4]) for i in range(4000)]
INSPECTORS = [f"inspector-{i:02d}" for i in range(12)]
SEED = "0x5e11d3b2c1a0f9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100"


def test_same_seed_same_plan_in_any_order() -> None:
    """The same seed and population give the same plan and digest, whatever the input order."""
    shuffled = POPULATION[:]
    random.Random(1).shuffle(shuffled)
    a = draw_inspection_sample(POPULATION, SEED, inspectors=INSPECTORS)
    b = draw_inspection_sample(shuffled, SEED, inspectors=reversed(INSPECTORS))
    assert a == b and a.digest == b.digest
    assert draw_inspection_sample(POPULATION, SEED + "0").digest != a.digest


def test_rates_follow_the_grades() -> None:
    """Worse grades are drawn more often, near their per-mille rates (1,000 subjects each)."""
    plan = draw_inspection_sample(POPULATION, SEED)
    drawn = {g: sum(1 for _, grade, _ in plan.selected if grade == g) for g in "ABCD"}
    for grade, count in drawn.items():
        expected = DEFAULT_RATES_PERMILLE[grade]  # per 1,000 subjects of that grade
        assert abs(count - expected) < 4 * (expected**0.5) + 3, (grade, count)
    assert drawn["A"] < drawn["B"] < drawn["C"] < drawn["D"]


def test_two_distinct_inspectors_per_subject() -> None:
    """Each drawn subject gets two different inspectors from the pool."""
    plan = draw_inspection_sample(POPULATION, SEED, inspectors=INSPECTORS)
    assert all(len(set(i)) == 2 and set(i) <= set(INSPECTORS) for _, _, i in plan.selected)
    assert plan.to_json()["kind"] == "tdex.inspection-sample"


def test_certain_and_impossible_rates() -> None:
    """A rate of 1000‰ draws everyone of that grade, 0‰ nobody."""
    plan = draw_inspection_sample(POPULATION, SEED, rates_permille={"A": 0, "B": 0, "C": 0, "D": 1000})
    assert {g for _, g, _ in plan.selected} == {"D"} and len(plan.selected) == 1000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": ""},
        {"rates_permille": {"A": 1001, "B": 1, "C": 1, "D": 1}},
        {"rates_permille": {"A": 1}},
        {"inspectors": ["only-one"]},
    ],
)
def test_bad_inputs_are_refused(kwargs: dict[str, object]) -> None:
    """An empty seed, a rate out of range, a grade without a rate or too few inspectors are refused."""
    args: dict[str, object] = {"seed": SEED, **kwargs}
    with pytest.raises(SamplingError) as info:
        draw_inspection_sample(POPULATION, **args)  # type: ignore[arg-type]
    assert info.value.code == "credentials.credit.sampling"
    with pytest.raises(SamplingError):
        draw_inspection_sample([("x", "A"), ("x", "B")], SEED)
