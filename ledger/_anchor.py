"""Typed facade of the AuditAnchor contract: audit-log checkpoints whose tree size only grows."""

from __future__ import annotations

from dataclasses import dataclass

from ledger._facade import Facade, record
from ledger._signing import Signer
from ledger._types import Receipt, TxRequest

__all__ = ["AnchorOutcome", "AuditAnchor", "Checkpoint"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """An anchored checkpoint of log ``log_id``: its sequence number, tree size and root."""

    log_id: bytes
    sequence: int
    tree_size: int
    root_hash: bytes
    anchored_at: int
    block_number: int


@dataclass(frozen=True, slots=True)
class AnchorOutcome:
    """A checkpoint anchored: its sequence number within the log, and the receipt."""

    log_id: bytes
    sequence: int
    tree_size: int
    root_hash: bytes
    receipt: Receipt


class AuditAnchor(Facade):
    """Checkpoints of the off-chain audit logs, anchored by LOG_OPERATOR members."""

    CONTRACT = "AuditAnchor"

    def anchor(self, signer: Signer, log_id: bytes, tree_size: int, root_hash: bytes) -> AnchorOutcome:
        """Anchor (``tree_size``, ``root_hash``) for ``log_id``; the tree size must grow."""
        receipt = self.transact(signer, "anchor", log_id, tree_size, root_hash)
        event = receipt.event("CheckpointAnchored")
        return AnchorOutcome(log_id, event["sequence"], tree_size, root_hash, receipt)

    def prepare_anchor(
        self, log_id: bytes, tree_size: int, root_hash: bytes, *, gas: int | None = None
    ) -> TxRequest:
        """An ``anchor`` transaction for ``Chain.send_many`` (pipelined anchoring)."""
        return self.prepare("anchor", log_id, tree_size, root_hash, gas=gas)

    def latest(self, log_id: bytes) -> Checkpoint:
        """The latest checkpoint of ``log_id``; AuditAnchorNoCheckpoint when there is none."""
        values = self.call("latest", log_id)
        return record(Checkpoint, values["checkpoint"], log_id=log_id, sequence=values["sequence"])

    def checkpoint_at(self, log_id: bytes, sequence: int) -> Checkpoint:
        """Checkpoint ``sequence`` of ``log_id``; AuditAnchorUnknownCheckpoint when there is none."""
        return record(
            Checkpoint, self.call("checkpointAt", log_id, sequence), log_id=log_id, sequence=sequence
        )

    def checkpoint_count(self, log_id: bytes) -> int:
        """Number of checkpoints anchored for ``log_id``."""
        return int(self.call("checkpointCount", log_id))
