"""The store's audit log as a service: its Merkle tree, proofs, checkpoints and proof bundles."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.audit._models import AuditCheckpointRow
from exchange_api.audit._store import SqlLeafHashSource, read_entry
from exchange_api.audit.bundle import AnchorInfo, ProofBundle
from exchange_api.audit.errors import CheckpointNotFound, InvalidRange, NotCheckpointed
from tlog import MerkleTree

__all__ = ["AuditLog", "CheckpointView"]


@dataclass(frozen=True)
class CheckpointView:
    """A stored checkpoint as callers see it."""

    size: int
    root: bytes
    note: str
    status: str
    log_key: str
    witness_keys: tuple[str, ...]
    anchor: AnchorInfo | None

    @classmethod
    def of(cls, row: AuditCheckpointRow) -> CheckpointView:
        """The view of a stored row."""
        anchor = None
        if row.status == "anchored" and row.tx_hash is not None:
            anchor = AnchorInfo(
                chain_id=int(row.chain_id or 0),
                contract=str(row.contract),
                log_id=str(row.log_id),
                sequence=int(row.sequence or 0),
                tx_hash=row.tx_hash,
                block_number=int(row.block_number or 0),
            )
        keys = row.vkeys or {}
        return cls(
            size=row.size,
            root=bytes(row.root),
            note=row.note,
            status=row.status,
            log_key=str(keys.get("log", "")),
            witness_keys=tuple(keys.get("witnesses", ())),
            anchor=anchor,
        )


class AuditLog:
    """Proofs and bundles over the store's log; one per process (it caches the tree's upper levels).

    The tree is built on first use and extended with committed entries before each answer.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._source = SqlLeafHashSource(sessions)
        self._tree: MerkleTree | None = None
        self._lock = threading.Lock()

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory of the store."""
        return self._sessions

    def tree(self) -> MerkleTree:
        """The tree, synced with every committed entry."""
        with self._lock:
            if self._tree is None:
                self._tree = MerkleTree(self._source)
                return self._tree
        self._tree.sync()
        return self._tree

    def size(self) -> int:
        """How many entries are committed."""
        return self.tree().size

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` entries (default: all committed)."""
        tree = self.tree()
        self._check_size(size, tree.size)
        return tree.root(size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        tree = self.tree()
        self._check_size(size, tree.size)
        if not 0 <= index < size:
            raise InvalidRange(f"entry {index} is not in a tree of {size} entries", index=index, size=size)
        return tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from ``size1`` to ``size2`` entries."""
        tree = self.tree()
        self._check_size(size2, tree.size)
        end = tree.size if size2 is None else size2
        if not 0 <= size1 <= end:
            raise InvalidRange(f"sizes {size1} and {end} are out of order", size1=size1, size2=end)
        return tree.consistency_proof(size1, end)

    @staticmethod
    def _check_size(size: int | None, limit: int) -> None:
        if size is not None and not 0 <= size <= limit:
            raise InvalidRange(f"tree size {size} is not in [0, {limit}]", size=size, limit=limit)

    # ------------------------------------------------------------------ checkpoints and bundles

    @staticmethod
    def checkpoints(session: Session, *, after: int = -1, limit: int = 100) -> list[CheckpointView]:
        """Stored checkpoints with size above ``after``, smallest first."""
        stmt = (
            select(AuditCheckpointRow)
            .where(AuditCheckpointRow.size > after)
            .order_by(AuditCheckpointRow.size)
            .limit(limit)
        )
        return [CheckpointView.of(row) for row in session.scalars(stmt)]

    @staticmethod
    def latest(session: Session) -> CheckpointView:
        """The largest checkpoint (CheckpointNotFound before the first)."""
        row = session.scalar(select(AuditCheckpointRow).order_by(AuditCheckpointRow.size.desc()).limit(1))
        if row is None:
            raise CheckpointNotFound("no checkpoint has been signed yet")
        return CheckpointView.of(row)

    @staticmethod
    def covering(session: Session, index: int) -> CheckpointView:
        """The checkpoint bundles for ``index`` use: the newest anchored one covering it, else the newest."""
        base = select(AuditCheckpointRow).where(AuditCheckpointRow.size > index)
        row = session.scalar(
            base.where(AuditCheckpointRow.status == "anchored")
            .order_by(AuditCheckpointRow.size.desc())
            .limit(1)
        )
        if row is None:
            row = session.scalar(base.order_by(AuditCheckpointRow.size.desc()).limit(1))
        if row is None:
            raise NotCheckpointed(f"entry {index} is not covered by a signed checkpoint yet", index=index)
        return CheckpointView.of(row)

    def bundle(self, session: Session, index: int, *, include_record: bool = True) -> ProofBundle:
        """The proof bundle of entry ``index`` against the checkpoint chosen by :meth:`covering`."""
        stored = read_entry(session, index)
        checkpoint = self.covering(session, index)
        proof = self.inclusion_proof(index, checkpoint.size)
        return ProofBundle(
            index=index,
            entry=stored.entry_text,
            leaf_hash=stored.leaf_hash.hex(),
            inclusion_proof=tuple(p.hex() for p in proof),
            checkpoint=checkpoint.note,
            log_key=checkpoint.log_key,
            witness_keys=checkpoint.witness_keys,
            anchor=checkpoint.anchor,
            record=dict(stored.record) if include_record else None,
        )
