"""A small immutable column store: a schema of typed items and one numpy array per item."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sandbox._canonical import canonical_json
from sandbox.errors import DatasetMalformed, InvalidParameters

ItemType = Literal["int", "float", "bool", "category", "string"]
_NUMERIC: frozenset[str] = frozenset({"int", "float", "bool"})
_OPS: frozenset[str] = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in"})


@dataclass(frozen=True)
class Item:
    """One column of a dataset (信息项).

    Parameters
    ----------
    name : column name.
    type : ``int``, ``float``, ``bool``, ``category`` (closed domain) or ``string``.
    lower, upper : public clamping bounds of a numeric item; sums and means clamp to them, so they
        fix the query's sensitivity. They are declared by the provider, never read from the data.
    categories : the public domain of a ``category`` item; group keys come from here, not the data.
    identifier : the item identifies a subject (a USCC, an ID number): never a group key.
    """

    name: str
    type: ItemType
    lower: float | None = None
    upper: float | None = None
    categories: tuple[str, ...] = ()
    identifier: bool = False

    def __post_init__(self) -> None:
        if self.type not in ("int", "float", "bool", "category", "string"):
            raise DatasetMalformed(self.name, f"unknown item type {self.type!r}")
        if self.type == "category" and not self.categories:
            raise DatasetMalformed(self.name, "a category item needs its public list of categories")
        if (self.lower is None) != (self.upper is None):
            raise DatasetMalformed(self.name, "give both clamping bounds or neither")
        if self.lower is not None and self.upper is not None:
            if not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower <= self.upper):
                raise DatasetMalformed(self.name, "clamping bounds must be finite with lower <= upper")
            if self.type not in ("int", "float"):
                raise DatasetMalformed(self.name, "only int and float items take clamping bounds")

    @property
    def numeric(self) -> bool:
        """Whether sums and means apply to the item."""
        return self.type in ("int", "float")

    def bounds(self) -> tuple[float, float]:
        """The clamping bounds; a bool item is bounded by 0 and 1."""
        if self.type == "bool":
            return 0.0, 1.0
        if self.lower is None or self.upper is None:
            raise InvalidParameters(self.name, "the item has no declared clamping bounds")
        return float(self.lower), float(self.upper)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, used in digests."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "identifier": self.identifier}
        if self.lower is not None:
            out["lower"] = self.lower
            out["upper"] = self.upper
        if self.categories:
            out["categories"] = list(self.categories)
        return out


@dataclass(frozen=True)
class Schema:
    """The ordered items of a dataset."""

    items: tuple[Item, ...]
    _by_name: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [i.name for i in self.items]
        if len(set(names)) != len(names):
            raise DatasetMalformed(",".join(names), "item names must be unique")
        object.__setattr__(self, "_by_name", {i.name: i for i in self.items})

    def __getitem__(self, name: str) -> Item:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidParameters(name, "no such item in the dataset") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Item names in order."""
        return tuple(i.name for i in self.items)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, used in digests."""
        return {"kind": "tdex.sandbox.schema", "version": 1, "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Condition:
    """A filter ``item op value``; ops are eq, ne, lt, le, gt, ge and in."""

    item: str
    op: str
    value: Any

    @classmethod
    def parse(cls, raw: Any) -> Condition:
        """Read ``{"item", "op", "value"}`` or a 3-sequence."""
        if isinstance(raw, Mapping):
            try:
                return cls(str(raw["item"]), str(raw["op"]), raw["value"])
            except KeyError as exc:
                raise InvalidParameters("where", f"condition lacks {exc.args[0]!r}") from None
        if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 3:
            return cls(str(raw[0]), str(raw[1]), raw[2])
        raise InvalidParameters("where", "a condition is {item, op, value}")


class Table:
    """An immutable dataset held as one read-only numpy array per item.

    Category items are stored as integer codes into ``Item.categories``; string items as object
    arrays. Build one with `Table.from_columns` (which validates) or `Table.from_rows`.
    """

    __slots__ = ("_clamped", "_columns", "_digest", "_n", "schema")

    def __init__(self, schema: Schema, columns: Mapping[str, np.ndarray], n_rows: int) -> None:
        self.schema = schema
        self._columns = dict(columns)
        self._n = n_rows
        self._digest: str | None = None
        self._clamped: dict[str, npt.NDArray[np.float64]] = {}

    @classmethod
    def from_columns(cls, schema: Schema, columns: Mapping[str, Iterable[Any]]) -> Table:
        """Validate and store columns; raise `DatasetMalformed` naming the item and row that do not fit."""
        missing = [n for n in schema.names if n not in columns]
        if missing:
            raise DatasetMalformed(missing[0], "column missing")
        extra = [n for n in columns if n not in schema]
        if extra:
            raise DatasetMalformed(extra[0], "column not in the schema")
        out: dict[str, np.ndarray] = {}
        length: int | None = None
        for item in schema.items:
            arr = _convert(item, columns[item.name])
            if length is None:
                length = len(arr)
            elif len(arr) != length:
                raise DatasetMalformed(item.name, f"has {len(arr)} values, expected {length}")
            arr.setflags(write=False)
            out[item.name] = arr
        return cls(schema, out, length or 0)

    @classmethod
    def from_rows(cls, schema: Schema, rows: Iterable[Sequence[Any]]) -> Table:
        """Validate row tuples (in schema order); a row of the wrong width names its index."""
        cols: list[list[Any]] = [[] for _ in schema.items]
        for r, row in enumerate(rows):
            if len(row) != len(schema.items):
                raise DatasetMalformed(schema.items[0].name, f"row has {len(row)} fields", row=r)
            for c, v in enumerate(row):
                cols[c].append(v)
        return cls.from_columns(schema, {i.name: cols[k] for k, i in enumerate(schema.items)})

    def __len__(self) -> int:
        return self._n

    def column(self, name: str) -> np.ndarray:
        """The read-only array of an item (category codes for category items)."""
        self.schema[name]
        return self._columns[name]

    def numeric(self, name: str, *, clamp: bool = True) -> npt.NDArray[np.float64]:
        """An int, float or bool item as float64 (read-only), clamped to its declared bounds."""
        item = self.schema[name]
        if item.type not in _NUMERIC:
            raise InvalidParameters(name, f"item of type {item.type} is not numeric")
        if not clamp:
            return self._columns[name].astype(np.float64)
        cached = self._clamped.get(name)
        if cached is None:
            lo, hi = item.bounds()
            cached = np.clip(self._columns[name].astype(np.float64), lo, hi)
            cached.setflags(write=False)
            self._clamped[name] = cached
        return cached

    def select(self, conditions: Sequence[Condition]) -> npt.NDArray[np.bool_]:
        """Boolean mask of the rows meeting every condition."""
        mask = np.ones(self._n, dtype=bool)
        for cond in conditions:
            mask &= self._evaluate(cond)
        return mask

    def _evaluate(self, cond: Condition) -> npt.NDArray[np.bool_]:
        item = self.schema[cond.item]
        if cond.op not in _OPS:
            raise InvalidParameters("where", f"unknown operator {cond.op!r}")
        col = self._columns[cond.item]
        if item.type in ("category", "string"):
            if cond.op not in ("eq", "ne", "in"):
                raise InvalidParameters(
                    "where", f"{cond.op!r} does not apply to {item.type} item {item.name!r}"
                )
            values = list(cond.value) if cond.op == "in" else [cond.value]
            if item.type == "category":
                try:
                    codes = [item.categories.index(str(v)) for v in values]
                except ValueError:
                    raise InvalidParameters("where", f"value not a category of {item.name!r}") from None
                hit = np.isin(col, np.asarray(codes, dtype=col.dtype))
            else:
                hit = np.isin(col, np.asarray([str(v) for v in values], dtype=object))
            return ~hit if cond.op == "ne" else hit
        try:
            if cond.op == "in":
                return np.isin(col, np.asarray([float(v) for v in cond.value]))
            ref = float(cond.value)
        except (TypeError, ValueError):
            raise InvalidParameters("where", f"value for {item.name!r} must be a number") from None
        ops = {
            "eq": np.equal,
            "ne": np.not_equal,
            "lt": np.less,
            "le": np.less_equal,
            "gt": np.greater,
            "ge": np.greater_equal,
        }
        result: npt.NDArray[np.bool_] = ops[cond.op](col, ref)
        return result

    def digest(self) -> str:
        """``sha256:<hex>`` over the schema's canonical JSON and every column's bytes, in order."""
        if self._digest is None:
            h = hashlib.sha256(canonical_json(self.schema.to_dict()))
            h.update(self._n.to_bytes(8, "big"))
            for item in self.schema.items:
                col = self._columns[item.name]
                if col.dtype == object:
                    for s in col:
                        b = str(s).encode()
                        h.update(len(b).to_bytes(4, "big") + b)
                else:
                    h.update(np.ascontiguousarray(col).astype(col.dtype.newbyteorder("<")).tobytes())
            self._digest = "sha256:" + h.hexdigest()
        return self._digest


def _convert(item: Item, raw: Iterable[Any]) -> np.ndarray:
    values = raw if isinstance(raw, np.ndarray) else list(raw)
    if item.type == "float":
        arr = _as_array(item, values, np.float64)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise DatasetMalformed(item.name, "not a finite number", row=int(bad[0]))
        return arr
    if item.type == "int":
        arr = _as_array(item, values, np.float64)
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)) | (np.abs(arr) > 2**53))
        if bad.size:
            raise DatasetMalformed(item.name, "not an integer", row=int(bad[0]))
        return arr.astype(np.int64)
    if item.type == "bool":
        out = np.empty(len(values), dtype=bool)
        for r, v in enumerate(values):
            if isinstance(v, bool | np.bool_) or v in (0, 1):
                out[r] = bool(v)
            else:
                raise DatasetMalformed(item.name, "not a boolean", row=r)
        return out
    if item.type == "category":
        index = {c: k for k, c in enumerate(item.categories)}
        codes = np.empty(len(values), dtype=np.int32)
        for r, v in enumerate(values):
            code = index.get(v) if isinstance(v, str) else None
            if code is None:
                raise DatasetMalformed(item.name, f"{v!r} is not one of the declared categories", row=r)
            codes[r] = code
        return codes
    strings = np.empty(len(values), dtype=object)
    for r, v in enumerate(values):
        if not isinstance(v, str) or not v:
            raise DatasetMalformed(item.name, "not a non-empty string", row=r)
        strings[r] = v
    return strings


def _as_array(item: Item, values: Any, dtype: type) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        return values.astype(dtype)
    # A list is checked value by value: numpy would silently parse "12" or True as numbers.
    for r, v in enumerate(values):
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
            raise DatasetMalformed(item.name, f"{v!r} is not a number", row=r)
    return np.asarray(values, dtype=dtype)
