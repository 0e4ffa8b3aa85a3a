"""Dataset ingestion: a catalogue entry's items plus the provider's sandbox policy make the schema; CSV or
Parquet files are read against it, and the first value that does not fit is reported by line and column.

The catalogue entry is the exchange's canonical version record (``kind: tdex.catalog.entry``): its
items give names and data types (信息项). What the catalogue does not say and the sandbox needs —
clamping bounds of numbers, the public category list of a closed domain, which item identifies a
subject, the minimum group size k — is the provider's node policy (``tdex.sandbox.resource_policy``).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keys import canonical_json, sha256
from sandbox._table import Item, ItemType, Schema, Table
from sandbox._templates import ResourcePolicy
from sandbox.errors import DatasetMalformed, InvalidParameters
from sandbox.node.errors import CatalogueEntryInvalid, DatasetRowRejected

__all__ = [
    "CatalogueBinding",
    "DatasetPolicy",
    "ItemPolicy",
    "entry_binding",
    "entry_for_schema",
    "policy_for_schema",
    "read_csv",
    "read_dataset",
    "read_parquet",
    "schema_for",
    "write_source",
]

ENTRY_KIND = "tdex.catalog.entry"
SCHEMA_KIND = "tdex.catalog.schema"
POLICY_KIND = "tdex.sandbox.resource_policy"
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _hash(obj: Any) -> str:
    # The exchange's rule for anchored hashes: 0x-hex SHA-256 of the RFC 8785 bytes.
    return "0x" + sha256(canonical_json(obj)).hex()


@dataclass(frozen=True)
class ItemPolicy:
    """What the provider declares about one item beyond the catalogue: bounds, categories, identifier."""

    lower: float | None = None
    upper: float | None = None
    categories: tuple[str, ...] = ()
    identifier: bool = False


@dataclass(frozen=True)
class DatasetPolicy:
    """The provider's sandbox policy for a resource: k and the per-item declarations."""

    min_group_size: int = 10
    items: Mapping[str, ItemPolicy] | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> DatasetPolicy:
        """Read a ``tdex.sandbox.resource_policy`` object."""
        if not isinstance(raw, Mapping) or raw.get("kind") != POLICY_KIND or raw.get("version") != 1:
            raise CatalogueEntryInvalid(f"the policy must be a {POLICY_KIND} version 1 object")
        k = raw.get("min_group_size", 10)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise CatalogueEntryInvalid("min_group_size must be a positive integer")
        items: dict[str, ItemPolicy] = {}
        for name, spec in (raw.get("items") or {}).items():
            if not isinstance(spec, Mapping) or set(spec) - {"lower", "upper", "categories", "identifier"}:
                raise CatalogueEntryInvalid(f"policy of item {name!r} has unknown fields")
            cats = spec.get("categories") or ()
            if not isinstance(cats, list | tuple) or not all(isinstance(c, str) for c in cats):
                raise CatalogueEntryInvalid(f"categories of {name!r} must be a list of strings")
            items[str(name)] = ItemPolicy(
                None if spec.get("lower") is None else float(spec["lower"]),
                None if spec.get("upper") is None else float(spec["upper"]),
                tuple(cats),
                bool(spec.get("identifier", False)),
            )
        return cls(k, items)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        items: dict[str, Any] = {}
        for name, p in sorted((self.items or {}).items()):
            entry: dict[str, Any] = {"identifier": p.identifier}
            if p.lower is not None:
                entry["lower"], entry["upper"] = p.lower, p.upper
            if p.categories:
                entry["categories"] = list(p.categories)
            items[name] = entry
        return {"kind": POLICY_KIND, "version": 1, "min_group_size": self.min_group_size, "items": items}

    def resource_policy(self) -> ResourcePolicy:
        """The runner's release rules."""
        return ResourcePolicy(min_group_size=self.min_group_size)


@dataclass(frozen=True)
class CatalogueBinding:
    """The catalogue version a dataset is bound to, by the hashes the chain anchors."""

    code: str
    resource_version: int
    metadata_hash: str
    schema_hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "code": self.code,
            "resource_version": self.resource_version,
            "metadata_hash": self.metadata_hash,
            "schema_hash": self.schema_hash,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CatalogueBinding:
        """Inverse of `to_dict`."""
        return cls(
            str(raw["code"]), int(raw["resource_version"]), str(raw["metadata_hash"]), str(raw["schema_hash"])
        )


def _entry_items(entry: Any) -> list[Mapping[str, Any]]:
    if not isinstance(entry, Mapping) or entry.get("kind") != ENTRY_KIND:
        raise CatalogueEntryInvalid(f"not a {ENTRY_KIND} record")
    items = entry.get("items")
    if not isinstance(items, list) or not items:
        raise CatalogueEntryInvalid("the entry lists no items")
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise CatalogueEntryInvalid("every item needs a name and a data_type")
    return items


def entry_binding(entry: Any) -> CatalogueBinding:
    """The code, version, metadata hash and schema hash of a catalogue entry (the exchange's hashing rule)."""
    items = _entry_items(entry)
    code, version = entry.get("code"), entry.get("resource_version")
    if not isinstance(code, str) or isinstance(version, bool) or not isinstance(version, int):
        raise CatalogueEntryInvalid("the entry needs its code and resource_version")
    schema_hash = _hash({"kind": SCHEMA_KIND, "version": 1, "items": list(items)})
    return CatalogueBinding(code, version, _hash(dict(entry)), schema_hash)


_TYPE_MAP: dict[str, ItemType] = {
    "integer": "int",
    "decimal": "float",
    "boolean": "bool",
    "string": "string",
    "text": "string",
    "date": "string",
    "datetime": "string",
}


def schema_for(entry: Any, policy: DatasetPolicy) -> tuple[Schema, dict[str, str]]:
    """The sandbox schema of an entry under a policy, and each item's catalogue data type."""
    items = _entry_items(entry)
    declared = dict(policy.items or {})
    out: list[Item] = []
    types: dict[str, str] = {}
    for raw in items:
        name, data_type = str(raw["name"]), raw.get("data_type")
        if data_type not in _TYPE_MAP:
            raise CatalogueEntryInvalid(f"item {name!r} has data type {data_type!r}, which no template reads")
        spec = declared.pop(name, ItemPolicy())
        kind = _TYPE_MAP[data_type]
        if spec.categories:
            if kind != "string" or data_type in ("date", "datetime"):
                raise CatalogueEntryInvalid(f"only string items can have categories ({name!r})")
            kind = "category"
        try:
            out.append(Item(name, kind, spec.lower, spec.upper, spec.categories, spec.identifier))
        except DatasetMalformed as exc:
            raise CatalogueEntryInvalid(str(exc)) from None
        types[name] = str(data_type)
    if declared:
        raise CatalogueEntryInvalid(f"the policy names items the entry does not list: {sorted(declared)}")
    return Schema(tuple(out)), types


def _convert(value: str, item: Item, data_type: str) -> Any:
    """One CSV cell as the item's Python value; ValueError says why it does not fit."""
    if value == "":
        raise ValueError("empty value (the sandbox holds no missing values)")
    if item.type == "int":
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if item.type == "float":
        number = float(value)  # raises ValueError with the value in it
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    if item.type == "bool":
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if item.type == "category" and value not in item.categories:
        raise ValueError(f"{value!r} is not one of the declared categories")
    if data_type == "date" and not _DATE.match(value):
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date")
    if data_type == "datetime":
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return value


def _check_header(header: Sequence[str], schema: Schema) -> None:
    for number, name in enumerate(header, start=1):
        if name not in schema:
            raise DatasetRowRejected(name, number, 1, "column is not an item of the catalogue entry")
    missing = [n for n in schema.names if n not in header]
    if missing:
        raise DatasetMalformed(missing[0], "column missing from the file")
    if len(set(header)) != len(header):
        raise DatasetMalformed(",".join(header), "duplicate column names")


def read_csv(path: str | os.PathLike[str], schema: Schema, types: Mapping[str, str]) -> Table:
    """Read a UTF-8 CSV file with a header row; `DatasetRowRejected` names the first bad line and column."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetMalformed(schema.names[0], "the file is empty") from None
        _check_header(header, schema)
        items = [schema[h] for h in header]
        columns: list[list[Any]] = [[] for _ in header]
        line = reader.line_num
        try:
            for row in reader:
                start = line + 1
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise DatasetRowRejected(
                        header[min(len(row), len(header)) - 1] if row else header[0],
                        min(len(row), len(header)),
                        start,
                        f"the line has {len(row)} fields, the header {len(header)}",
                    )
                for c, (value, item) in enumerate(zip(row, items, strict=True)):
                    try:
                        columns[c].append(_convert(value, item, types[item.name]))
                    except ValueError as exc:
                        raise DatasetRowRejected(item.name, c + 1, start, str(exc)) from None
        except csv.Error as exc:
            raise DatasetRowRejected(header[0], 1, reader.line_num, f"CSV syntax: {exc}") from None
    return Table.from_columns(schema, {h: col for h, col in zip(header, columns, strict=True)})


def read_parquet(path: str | os.PathLike[str], schema: Schema, types: Mapping[str, str]) -> Table:
    """Read a Parquet file; a bad value is named by its 1-based record number (Parquet has no lines)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DatasetMalformed(schema.names[0], f"not a readable Parquet file: {exc}") from None
    header = table.column_names
    _check_header(header, schema)
    columns: dict[str, Any] = {}
    for c, name in enumerate(header):
        item = schema[name]
        col = table.column(name)
        nulls = np.flatnonzero(np.asarray(col.is_null().to_numpy(zero_copy_only=False)))
        if nulls.size:
            raise DatasetRowRejected(name, c + 1, int(nulls[0]) + 1, "missing value")
        arrow_type = col.type
        numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
        numeric = numeric or pa.types.is_decimal(arrow_type)
        if item.type == "bool" and pa.types.is_boolean(arrow_type):
            columns[name] = col.to_pylist()
        elif item.type in ("int", "float") and numeric:
            values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
            bad = ~np.isfinite(values)
            if item.type == "int":
                bad |= values != np.round(values)
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                raise DatasetRowRejected(name, c + 1, r + 1, f"{values[r]!r} is not a finite {item.type}")
            columns[name] = values.astype(np.int64) if item.type == "int" else values
        elif item.type in ("string", "category") and (
            pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
        ):
            values = col.to_pylist()
            for r, v in enumerate(values):
                try:
                    _convert(v, item, types[name])
                except ValueError as exc:
                    raise DatasetRowRejected(name, c + 1, r + 1, str(exc)) from None
            columns[name] = values
        else:
            raise DatasetRowRejected(
                name, c + 1, 1, f"Parquet type {arrow_type} does not fit a {item.type} item"
            )
    try:
        return Table.from_columns(schema, columns)
    except InvalidParameters as exc:
        raise DatasetMalformed(schema.names[0], str(exc)) from None


def read_dataset(path: str | os.PathLike[str], schema: Schema, types: Mapping[str, str]) -> Table:
    """Read a ``.csv`` or ``.parquet`` file by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return read_csv(path, schema, types)
    if suffix in (".parquet", ".pq"):
        return read_parquet(path, schema, types)
    raise DatasetMalformed(str(path), "only .csv and .parquet files are ingested")


_CATALOGUE_TYPE = {
    "int": "integer",
    "float": "decimal",
    "bool": "boolean",
    "string": "string",
    "category": "string",
}


def policy_for_schema(schema: Schema, min_group_size: int = 10) -> DatasetPolicy:
    """The node policy that declares a sandbox schema's bounds, categories and identifiers."""
    return DatasetPolicy(
        min_group_size,
        {
            i.name: ItemPolicy(i.lower, i.upper, i.categories, i.identifier)
            for i in schema.items
            if i.lower is not None or i.categories or i.identifier
        },
    )


def entry_for_schema(
    code: str, name: str, schema: Schema, provider: Mapping[str, str], *, resource_version: int = 1
) -> dict[str, Any]:
    """A catalogue entry record (the exchange's ``tdex.catalog.entry`` shape) listing a schema's items.

    For demos and tests that register synthetic resources; a real node reads the entry the
    exchange published.
    """
    return {
        "kind": ENTRY_KIND,
        "version": 1,
        "code": code,
        "resource_version": resource_version,
        "provider": dict(provider),
        "name": name,
        "items": [
            {"name": i.name, "data_type": _CATALOGUE_TYPE[i.type], "description": None} for i in schema.items
        ],
    }


def write_source(table: Table, path: str | os.PathLike[str]) -> None:
    """Write a table as a CSV or Parquet source file (to ingest synthetic data in demos and tests)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {}
    for item in table.schema.items:
        col = table.column(item.name)
        if item.type == "category":
            columns[item.name] = [item.categories[int(c)] for c in col]
        else:
            columns[item.name] = col.tolist()
    if Path(path).suffix.lower() == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.schema.names)
            writer.writerows(zip(*columns.values(), strict=True))
        return
    pq.write_table(pa.table(columns), path)
