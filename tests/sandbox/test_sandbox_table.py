"""Datasets: schema validation names the bad item and row; digests are content hashes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import sandbox as sb
from sandbox.errors import DatasetMalformed, InvalidParameters

SCHEMA = sb.Schema(
    (
        sb.Item("id", "string", identifier=True),
        sb.Item("district", "category", categories=("a", "b")),
        sb.Item("n", "int", lower=0, upper=10),
        sb.Item("x", "float", lower=-1.0, upper=1.0),
        sb.Item("flag", "bool"),
    )
)
GOOD: dict[str, Any] = {
    "id": ["u1", "u2"],
    "district": ["a", "b"],
    "n": [1, 2],
    "x": [0.5, -2.0],
    "flag": [True, False],
}


def _with(**changes: Any) -> dict[str, Any]:
    cols: dict[str, Any] = dict(GOOD)
    cols.update(changes)
    return cols


def test_valid_columns_load_read_only_and_clamped() -> None:
    """A valid table loads; columns are read-only and numeric reads clamp to the declared bounds."""
    t = sb.Table.from_columns(SCHEMA, GOOD)
    assert len(t) == 2
    assert t.numeric("x").tolist() == [0.5, -1.0]
    with pytest.raises(ValueError):
        t.column("n")[0] = 5


@pytest.mark.parametrize(
    ("columns", "item", "row"),
    [
        (_with(n=[1, "2"]), "n", 1),
        (_with(n=[1, 2.5]), "n", 1),
        (_with(x=[0.1, math.nan]), "x", 1),
        (_with(x=[True, 0.2]), "x", 0),
        (_with(district=["a", "z"]), "district", 1),
        (_with(flag=[True, "yes"]), "flag", 1),
        (_with(id=["u1", ""]), "id", 1),
        (_with(x=[0.1]), "x", None),
    ],
)
def test_malformed_dataset_names_item_and_row(columns: dict[str, Any], item: str, row: int | None) -> None:
    """A value that does not fit its item is refused with the item and row."""
    with pytest.raises(DatasetMalformed) as exc:
        sb.Table.from_columns(SCHEMA, columns)
    assert exc.value.code == "sandbox.dataset_malformed"
    assert (exc.value.item, exc.value.row) == (item, row)


def test_missing_and_extra_columns_are_refused() -> None:
    """Columns must match the schema exactly."""
    cols = dict(GOOD)
    del cols["flag"]
    with pytest.raises(DatasetMalformed) as exc:
        sb.Table.from_columns(SCHEMA, cols)
    assert exc.value.item == "flag"
    with pytest.raises(DatasetMalformed) as exc:
        sb.Table.from_columns(SCHEMA, {**GOOD, "extra": [1, 2]})
    assert exc.value.item == "extra"


def test_rows_of_the_wrong_width_are_refused() -> None:
    """from_rows names the row that has the wrong number of fields."""
    with pytest.raises(DatasetMalformed) as exc:
        sb.Table.from_rows(SCHEMA, [("u1", "a", 1, 0.1, True), ("u2", "a", 1)])
    assert exc.value.row == 1


def test_bad_schemas_are_refused() -> None:
    """A category item without categories, or one-sided bounds, is not a schema."""
    with pytest.raises(DatasetMalformed):
        sb.Item("c", "category")
    with pytest.raises(DatasetMalformed):
        sb.Item("v", "float", lower=0.0)
    with pytest.raises(DatasetMalformed):
        sb.Schema((sb.Item("a", "bool"), sb.Item("a", "bool")))


def test_digest_is_a_content_hash() -> None:
    """Equal content gives equal digests; one changed value changes it."""
    a = sb.Table.from_columns(SCHEMA, GOOD)
    b = sb.Table.from_columns(SCHEMA, {**GOOD, "x": np.array([0.5, -2.0])})
    c = sb.Table.from_columns(SCHEMA, _with(n=[1, 3]))
    assert a.digest() == b.digest() != c.digest()
    assert a.digest().startswith("sha256:")


def test_filters_check_operators_and_values() -> None:
    """Filters select rows; unknown operators, items and categories are parameter errors."""
    t = sb.Table.from_columns(SCHEMA, GOOD)
    assert t.select([sb.Condition("district", "eq", "b")]).tolist() == [False, True]
    assert t.select([sb.Condition("n", "ge", 2)]).tolist() == [False, True]
    assert t.select([sb.Condition("id", "in", ["u1"])]).tolist() == [True, False]
    for cond in (
        sb.Condition("n", "like", 1),
        sb.Condition("nope", "eq", 1),
        sb.Condition("district", "eq", "z"),
        sb.Condition("district", "lt", "a"),
    ):
        with pytest.raises(InvalidParameters) as exc:
            t.select([cond])
        assert exc.value.code == "sandbox.invalid_parameters"
