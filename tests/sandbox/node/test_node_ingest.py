"""Datasets enter a node checked against their catalogue entry, encrypted at rest, bound to a version."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from node_support import World, register_table

import sandbox as sb
from keys import EncryptionKey
from sandbox import node as sn
from sandbox.errors import DatasetMalformed, StateInvalid
from sandbox.node.errors import CatalogueEntryInvalid, DatasetRowRejected
from tdex.node_chain import verify_catalogue_binding

SCHEMA = sb.Schema(
    (
        sb.Item("uscc", "string", identifier=True),
        sb.Item("district", "category", categories=("Gulou", "Xuanwu")),
        sb.Item("employees", "int", lower=0, upper=5000),
        sb.Item("capital", "float", lower=0.0, upper=1e6),
        sb.Item("small", "bool"),
    )
)
ENTRY = sn.entry_for_schema(
    "330100-MKT/20001", "登记", SCHEMA, {"name": "market", "uscc": "113301000000000279"}
)
POLICY = sn.policy_for_schema(SCHEMA, 3)
GOOD = [
    "uscc,district,employees,capital,small",
    "91320102AAAAAAAA1X,Gulou,12,100.5,true",
    "91320102AAAAAAAA2X,Xuanwu,7,88,false",
]


def _csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _read(path: Path) -> sb.Table:
    schema, types = sn.schema_for(ENTRY, POLICY)
    return sn.read_dataset(path, schema, types)


def test_a_good_csv_is_read_with_the_entry_types(tmp_path: Path) -> None:
    """Names and types come from the catalogue entry; bounds and categories from the node policy."""
    table = _read(_csv(tmp_path, GOOD))
    assert len(table) == 2 and table.schema["district"].type == "category"
    assert table.numeric("employees").tolist() == [12.0, 7.0]


@pytest.mark.parametrize(
    ("line", "column", "name", "reason"),
    [
        ("91320102AAAAAAAA3X,Gulou,twelve,1,true", 3, "employees", "not an integer"),
        ("91320102AAAAAAAA3X,Pudong,1,1,true", 2, "district", "not one of the declared categories"),
        ("91320102AAAAAAAA3X,Gulou,1,1,maybe", 5, "small", "not a boolean"),
        ("91320102AAAAAAAA3X,Gulou,1,inf,true", 4, "capital", "not a finite number"),
        (",Gulou,1,1,true", 1, "uscc", "empty value"),
    ],
)
def test_a_malformed_row_is_rejected_with_its_line_and_column(
    tmp_path: Path, line: str, column: int, name: str, reason: str
) -> None:
    """The first value that does not fit names the file line (header is line 1) and the column."""
    with pytest.raises(DatasetRowRejected) as caught:
        _read(_csv(tmp_path, [*GOOD, line]))
    error = caught.value
    assert error.code == "sandbox.node.row_rejected"
    assert (error.line, error.column_number, error.column) == (4, column, name)
    assert reason in error.reason and f"line 4, column {column}" in str(error)


def test_a_short_row_and_an_unknown_column_are_rejected(tmp_path: Path) -> None:
    """A line with too few fields, and a header naming an item the entry lacks, are refused."""
    with pytest.raises(DatasetRowRejected) as short:
        _read(_csv(tmp_path, [*GOOD, "91320102AAAAAAAA3X,Gulou,1"]))
    assert short.value.line == 4
    header = GOOD[0].replace("small", "secret")
    with pytest.raises(DatasetRowRejected) as unknown:
        _read(_csv(tmp_path, [header, *GOOD[1:]]))
    assert (unknown.value.line, unknown.value.column) == (1, "secret")


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    """A file without one of the entry's items is refused naming it."""
    lines = [",".join(line.split(",")[:4]) for line in GOOD]
    with pytest.raises(DatasetMalformed) as caught:
        _read(_csv(tmp_path, lines))
    assert caught.value.code == "sandbox.dataset_malformed" and caught.value.item == "small"


def test_parquet_nulls_and_wrong_types_name_the_record(tmp_path: Path) -> None:
    """Parquet has no lines: a missing value or a wrong type is named by its 1-based record number."""
    path = tmp_path / "data.parquet"
    columns = {
        "uscc": ["a1", "a2", "a3"],
        "district": ["Gulou", "Gulou", "Xuanwu"],
        "employees": [1, None, 3],
        "capital": [1.0, 2.0, 3.0],
        "small": [True, False, True],
    }
    pq.write_table(pa.table(columns), path)
    with pytest.raises(DatasetRowRejected) as missing:
        _read(path)
    assert (missing.value.line, missing.value.column) == (2, "employees")
    columns["employees"] = [1, 2, 3]
    columns["capital"] = ["1", "2", "3"]  # type: ignore[list-item]
    pq.write_table(pa.table(columns), path)
    with pytest.raises(DatasetRowRejected) as typed:
        _read(path)
    assert typed.value.column == "capital" and "does not fit" in typed.value.reason


def test_csv_and_parquet_of_the_same_data_are_the_same_version(tmp_path: Path) -> None:
    """The dataset digest is over the validated content, not the file format."""
    table = register_table(200, 3)
    entry = sn.entry_for_schema("330100-MKT/20002", "登记", table.schema, {"name": "m", "uscc": "x"})
    policy = sn.policy_for_schema(table.schema)
    holder = EncryptionKey.generate()
    records = []
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"register.{fmt}"
        sn.write_source(table, path)
        records.append(sn.ingest(sn.DatasetStore(tmp_path / fmt), path, entry, policy, holder.public_key))
    assert records[0].dataset_digest == records[1].dataset_digest == table.digest()
    assert records[0].source_sha256 != records[1].source_sha256
    assert records[0].catalogue == sn.entry_binding(entry)


def test_datasets_are_encrypted_at_rest_and_checked_on_load(tmp_path: Path) -> None:
    """No identifier appears in the stored file; the wrong key or a changed byte cannot load it."""
    table = register_table(200, 4)
    entry = sn.entry_for_schema("330100-MKT/20003", "登记", table.schema, {"name": "m", "uscc": "x"})
    holder = EncryptionKey.generate()
    path = tmp_path / "register.csv"
    sn.write_source(table, path)
    store = sn.DatasetStore(tmp_path / "node")
    record = sn.ingest(store, path, entry, sn.policy_for_schema(table.schema), holder.public_key)
    (stored,) = (tmp_path / "node" / "datasets").glob("*.tdxe")
    blob = stored.read_bytes()
    assert str(table.column("uscc")[0]).encode() not in blob
    assert sn.DatasetStore(tmp_path / "node").load(record, holder).digest() == record.dataset_digest
    with pytest.raises(StateInvalid) as wrong_key:
        sn.DatasetStore(tmp_path / "node").load(record, EncryptionKey.generate())
    assert wrong_key.value.code == "sandbox.state_invalid"
    stored.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(StateInvalid):
        sn.DatasetStore(tmp_path / "node").load(record, holder)


def test_the_entry_must_be_the_one_anchored_on_chain(world: World) -> None:
    """An entry whose items were changed after registration does not match the chain's hashes."""
    res = world.resource("market", "330100-MKT/20004", register_table(50, 5))
    verify_catalogue_binding(world.deployment, res.binding)
    edited = dict(res.entry, items=[*res.entry["items"][:-1]])
    with pytest.raises(CatalogueEntryInvalid) as caught:
        verify_catalogue_binding(world.deployment, sn.entry_binding(edited))
    assert caught.value.code == "sandbox.node.catalogue_entry_invalid" and "metadata hash" in str(
        caught.value
    )
    with pytest.raises(CatalogueEntryInvalid):
        verify_catalogue_binding(world.deployment, sn.entry_binding(dict(res.entry, code="330100-MKT/99999")))


def test_a_policy_naming_unknown_items_or_binary_items_is_refused() -> None:
    """The node policy may only describe the entry's items, and binary items never enter a sandbox."""
    with pytest.raises(CatalogueEntryInvalid):
        sn.schema_for(ENTRY, sn.DatasetPolicy(10, {"nope": sn.ItemPolicy(identifier=True)}))
    binary = dict(ENTRY, items=[{"name": "photo", "data_type": "binary", "description": None}])
    with pytest.raises(CatalogueEntryInvalid) as caught:
        sn.schema_for(binary, sn.DatasetPolicy())
    assert caught.value.code == "sandbox.node.catalogue_entry_invalid"
