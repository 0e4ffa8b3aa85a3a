"""A node's datasets at rest: each version encrypted under a fresh data key wrapped for the department's
key (`keys.encrypt_object`), listed in an index that binds it to a catalogue version by content hash.

Layout under the node's data folder::

    datasets/index.json             every dataset record (canonical JSON, written atomically)
    datasets/<64 hex>.tdxe          one encrypted Arrow IPC stream per version (named by its digest)

The AEAD's associated data is ``tdex.sandbox.dataset|<code>|<dataset digest>``, so a file cannot be
swapped for another resource's or another version's; after decryption the table's digest is
recomputed and compared with the record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keys import EncryptionKey, PublicEncryptionKey, canonical_json, decrypt_object, encrypt_object
from keys.errors import DecryptionFailed
from sandbox._table import Item, Schema, Table
from sandbox.errors import StateInvalid
from sandbox.node._ingest import CatalogueBinding, DatasetPolicy, entry_binding, read_dataset, schema_for
from sandbox.node.errors import DatasetUnknown

__all__ = ["DatasetRecord", "DatasetStore", "ingest", "schema_from_dict", "write_atomic"]

RECORD_KIND = "tdex.sandbox.dataset"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a synced temporary file and a rename (never a torn file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def schema_from_dict(raw: Mapping[str, Any]) -> Schema:
    """Inverse of `Schema.to_dict`."""
    if raw.get("kind") != "tdex.sandbox.schema" or raw.get("version") != 1:
        raise StateInvalid("tdex.sandbox.schema", "wrong kind or version")
    return Schema(
        tuple(
            Item(
                i["name"],
                i["type"],
                i.get("lower"),
                i.get("upper"),
                tuple(i.get("categories", ())),
                bool(i.get("identifier", False)),
            )
            for i in raw["items"]
        )
    )


@dataclass(frozen=True)
class DatasetRecord:
    """One dataset version: its content digest, the catalogue version it is bound to, schema and policy."""

    resource_code: str
    dataset_digest: str
    source_sha256: str
    source_format: str
    rows: int
    catalogue: CatalogueBinding
    schema: Schema
    policy: DatasetPolicy
    ingested_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (kind ``tdex.sandbox.dataset``, version 1); no rows, only what describes them."""
        return {
            "kind": RECORD_KIND,
            "version": 1,
            "resource_code": self.resource_code,
            "dataset_digest": self.dataset_digest,
            "source_sha256": self.source_sha256,
            "source_format": self.source_format,
            "rows": self.rows,
            "catalogue": self.catalogue.to_dict(),
            "schema": self.schema.to_dict(),
            "policy": self.policy.to_dict(),
            "ingested_at": self.ingested_at,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DatasetRecord:
        """Inverse of `to_dict`."""
        if raw.get("kind") != RECORD_KIND or raw.get("version") != 1:
            raise StateInvalid(RECORD_KIND, "wrong kind or version")
        try:
            return cls(
                str(raw["resource_code"]),
                str(raw["dataset_digest"]),
                str(raw["source_sha256"]),
                str(raw["source_format"]),
                int(raw["rows"]),
                CatalogueBinding.from_dict(raw["catalogue"]),
                schema_from_dict(raw["schema"]),
                DatasetPolicy.from_dict(raw["policy"]),
                str(raw["ingested_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateInvalid(RECORD_KIND, f"malformed record: {exc}") from None


def _aad(code: str, digest: str) -> bytes:
    return f"tdex.sandbox.dataset|{code}|{digest}".encode()


def _to_ipc(table: Table) -> bytes:
    import pyarrow as pa

    arrays = []
    for item in table.schema.items:
        col = table.column(item.name)
        arrays.append(pa.array(col.tolist() if col.dtype == object else col))
    batch = pa.record_batch(arrays, names=list(table.schema.names))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def _from_ipc(data: bytes, schema: Schema) -> Table:
    import pyarrow as pa

    arrow = pa.ipc.open_stream(data).read_all()
    columns: dict[str, np.ndarray] = {}
    for item in schema.items:
        col = arrow.column(item.name)
        if item.type == "string":
            arr = np.asarray(col.to_pylist(), dtype=object)
        else:
            arr = np.asarray(col.to_numpy(zero_copy_only=False))
        arr.setflags(write=False)
        columns[item.name] = arr
    # Already validated at ingestion and authenticated by the AEAD; the caller rechecks the digest.
    return Table(schema, columns, arrow.num_rows)


class DatasetStore:
    """The encrypted datasets of one department node."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root) / "datasets"
        self._lock = threading.Lock()
        self._cache: dict[str, Table] = {}

    def _index_path(self) -> Path:
        return self.root / "index.json"

    def records(self) -> list[DatasetRecord]:
        """Every dataset version, oldest first."""
        path = self._index_path()
        if not path.exists():
            return []
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise StateInvalid("tdex.sandbox.dataset_index", str(exc)) from None
        return [DatasetRecord.from_dict(r) for r in raw.get("datasets", [])]

    def add(
        self,
        table: Table,
        *,
        holder: PublicEncryptionKey,
        catalogue: CatalogueBinding,
        policy: DatasetPolicy,
        source: bytes,
        source_format: str,
        now: dt.datetime | None = None,
    ) -> DatasetRecord:
        """Encrypt `table` for `holder` and list it; adding the same content again returns the record."""
        digest = table.digest()
        record = DatasetRecord(
            resource_code=catalogue.code,
            dataset_digest=digest,
            source_sha256=hashlib.sha256(source).hexdigest(),
            source_format=source_format,
            rows=len(table),
            catalogue=catalogue,
            schema=table.schema,
            policy=policy,
            ingested_at=(now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        with self._lock:
            existing = self.records()
            for r in existing:
                if r.dataset_digest == digest and r.catalogue == catalogue:
                    return r
            blob = encrypt_object(holder, _to_ipc(table), _aad(catalogue.code, digest))
            write_atomic(self._file(digest), bytes(blob))
            index = {
                "kind": "tdex.sandbox.dataset_index",
                "version": 1,
                "datasets": [r.to_dict() for r in (*existing, record)],
            }
            write_atomic(self._index_path(), canonical_json(index))
        return record

    def _file(self, digest: str) -> Path:
        return self.root / (digest.split(":", 1)[1] + ".tdxe")

    def find(self, resource_code: str, dataset_digest: str | None = None) -> DatasetRecord:
        """The latest version of `resource_code`, or the one with `dataset_digest`."""
        matches = [r for r in self.records() if r.resource_code == resource_code]
        if dataset_digest is not None:
            matches = [r for r in matches if r.dataset_digest == dataset_digest]
        if not matches:
            raise DatasetUnknown(resource_code + (f"@{dataset_digest}" if dataset_digest else ""))
        return matches[-1]

    def codes(self) -> Iterable[str]:
        """The resource codes this node holds data for."""
        return sorted({r.resource_code for r in self.records()})

    def load(self, record: DatasetRecord, keys: EncryptionKey | Iterable[EncryptionKey]) -> Table:
        """Decrypt a dataset version (cached in memory afterwards) and check its digest."""
        cached = self._cache.get(record.dataset_digest)
        if cached is not None:
            return cached
        try:
            blob = self._file(record.dataset_digest).read_bytes()
        except FileNotFoundError:
            raise DatasetUnknown(record.dataset_digest) from None
        try:
            data = decrypt_object(keys, blob, _aad(record.resource_code, record.dataset_digest))
        except DecryptionFailed:
            raise StateInvalid(RECORD_KIND, f"{record.dataset_digest} does not decrypt") from None
        table = _from_ipc(data, record.schema)
        if table.digest() != record.dataset_digest:
            raise StateInvalid(RECORD_KIND, f"{record.dataset_digest} does not match its content")
        self._cache[record.dataset_digest] = table
        return table


def ingest(
    store: DatasetStore,
    path: str | os.PathLike[str],
    entry: Mapping[str, Any],
    policy: DatasetPolicy,
    holder: PublicEncryptionKey,
    *,
    now: dt.datetime | None = None,
) -> DatasetRecord:
    """Read a CSV or Parquet file against a catalogue entry and a policy, and store it encrypted."""
    binding = entry_binding(entry)
    schema, types = schema_for(entry, policy)
    table = read_dataset(path, schema, types)
    source = Path(path).read_bytes()
    fmt = "csv" if Path(path).suffix.lower() == ".csv" else "parquet"
    return store.add(
        table, holder=holder, catalogue=binding, policy=policy, source=source, source_format=fmt, now=now
    )
