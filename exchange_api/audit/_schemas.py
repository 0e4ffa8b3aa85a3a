"""HTTP shapes of the audit endpoints (pydantic at the edge; hashes as lowercase hex)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AnchorPublic(BaseModel):
    """Where a checkpoint is anchored."""

    chain_id: int
    contract: str
    log_id: str
    sequence: int
    tx_hash: str
    block_number: int


class CheckpointPublic(BaseModel):
    """A signed checkpoint: size, root, the signed note, anchoring status and the signers' keys."""

    size: int
    root: str
    note: str = Field(description="The C2SP signed note: checkpoint text, blank line, signature lines.")
    status: str = Field(description="pending, anchored or superseded.")
    log_key: str
    witness_keys: list[str]
    anchor: AnchorPublic | None


class CheckpointPage(BaseModel):
    """Checkpoints in size order."""

    items: list[CheckpointPublic]


class EntryPublic(BaseModel):
    """One entry: its exact canonical JSON, leaf hash and full record."""

    index: int
    entry: str = Field(description="The entry's RFC 8785 JSON, exactly the bytes the leaf hash covers.")
    leaf_hash: str
    record: dict[str, Any]


class InclusionProof(BaseModel):
    """An RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries with ``root``."""

    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    """An RFC 9162 consistency proof from ``first`` to ``second`` entries."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class TrailPage(BaseModel):
    """Trail entries in log order; ``next_after`` continues the listing."""

    entries: list[dict[str, Any]]
    next_after: int | None


class RiskPage(BaseModel):
    """Risk signals with the entries that raised them."""

    signals: list[dict[str, Any]]
