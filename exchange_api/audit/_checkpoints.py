"""Signed checkpoints: the log operator signs, witnesses (auditor organisations) check and cosign.

A witness is reached through :class:`WitnessClient`. :class:`LocalWitness` runs the ``tlog``
witness in-process for one auditor key and keeps its last cosigned checkpoint per log in a JSON
file of its own; in production an auditor runs ``tdex audit witness serve`` on its own premises
(so the exchange operator cannot reset what the witness remembers) and the exchange reaches it
with :class:`~exchange_api.audit.RemoteWitness`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api.audit._models import AuditCheckpointRow
from exchange_api.audit._witness_state import load_witness_state, save_witness_state
from exchange_api.audit.bundle import format_vkey, parse_vkey
from exchange_api.audit.errors import WitnessRefused, WitnessSizeConflict
from keys import Ed25519SigningKey
from tlog import Checkpoint, NoteSigner, SignedNote, TlogError, Witness, sign_checkpoint

__all__ = [
    "LocalWitness",
    "LogOperator",
    "WitnessClient",
    "latest_checkpoint",
    "sign_and_cosign",
]


@dataclass(frozen=True)
class LogOperator:
    """The log operator: the log's origin and the Ed25519 key that signs its checkpoints.

    The note key is named after the origin, as C2SP logs usually do.
    """

    origin: str
    key: Ed25519SigningKey

    @property
    def signer(self) -> NoteSigner:
        """The note signer."""
        return NoteSigner.ed25519(self.origin, self.key.verify_key.public_bytes, self.key)

    @property
    def vkey(self) -> str:
        """The verifier key text auditors pin."""
        return format_vkey(self.origin, self.key.verify_key)


class WitnessClient(Protocol):
    """A witness the operator asks for cosignatures."""

    @property
    def name(self) -> str:
        """The witness's key name."""
        ...

    @property
    def vkey(self) -> str:
        """The witness's verifier key text."""
        ...

    def last_size(self, origin: str) -> int | None:
        """The size of the last checkpoint it cosigned for ``origin`` (None if none)."""
        ...

    def cosign(self, note: SignedNote, proof: Sequence[bytes]) -> SignedNote:
        """Check ``note`` (and the consistency ``proof`` from :meth:`last_size`) and add a cosignature.

        Raises a ``tlog`` error or :class:`WitnessRefused` when the witness refuses, and
        :class:`WitnessSizeConflict` when it last cosigned another size than :meth:`last_size`
        said (after which :meth:`last_size` gives the witness's size).
        """
        ...


class LocalWitness:
    """An in-process witness: one auditor's key, the logs it follows, its state in a JSON file."""

    def __init__(
        self,
        name: str,
        key: Ed25519SigningKey,
        logs: Mapping[str, Sequence[str]],
        state_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._name = name
        self._key = key
        self._path = Path(state_path) if state_path is not None else None
        state = load_witness_state(self._path) if self._path is not None else {}
        signer = NoteSigner.ed25519(name, key.verify_key.public_bytes, key)
        verifiers = {origin: [parse_vkey(v) for v in vkeys] for origin, vkeys in logs.items()}
        self._witness = Witness(signer, verifiers, state)

    @property
    def name(self) -> str:
        return self._name

    @property
    def vkey(self) -> str:
        return format_vkey(self._name, self._key.verify_key)

    def last_size(self, origin: str) -> int | None:
        last = self._witness.last_cosigned(origin)
        return last.size if last is not None else None

    def cosign(self, note: SignedNote, proof: Sequence[bytes]) -> SignedNote:
        cosigned = self._witness.cosign(note, proof)
        if self._path is not None:
            self._save()
        return cosigned

    def _save(self) -> None:
        assert self._path is not None
        save_witness_state(self._path, self._witness.state())


class ProofSource(Protocol):
    """What signing needs from the tree: a root and consistency proofs."""

    def root(self, size: int | None = None) -> bytes: ...

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]: ...


def sign_and_cosign(
    tree: ProofSource,
    size: int,
    operator: LogOperator,
    witnesses: Sequence[WitnessClient],
    *,
    min_witnesses: int = 1,
) -> SignedNote:
    """The checkpoint of the first ``size`` entries, signed by the operator and cosigned by witnesses.

    Every witness is asked; at least ``min_witnesses`` must cosign. A witness that answers it
    last cosigned another size (a remote witness whose state this process has not seen yet, or
    that another process advanced) is asked once more with a proof from that size.

    Raises
    ------
    WitnessRefused
        Fewer than ``min_witnesses`` cosigned; the first refusal is reported (``reason`` is the
        tlog error code, e.g. ``tlog.split_view``).
    """
    checkpoint = Checkpoint(operator.origin, size, tree.root(size))
    note = sign_checkpoint(checkpoint, operator.signer)
    cosigned = 0
    first_refusal: WitnessRefused | None = None
    for witness in witnesses:
        try:
            try:
                note = _ask(witness, tree, note, size)
            except WitnessSizeConflict:
                note = _ask(witness, tree, note, size)  # last_size now has the witness's size
        except TlogError as err:
            if first_refusal is None:
                first_refusal = WitnessRefused(witness.name, err.code, str(err))
            continue
        except WitnessRefused as err:  # a remote witness: refused, unreachable or a bad answer
            if first_refusal is None:
                first_refusal = err
            continue
        cosigned += 1
    if cosigned < min_witnesses:
        if first_refusal is not None:
            raise first_refusal
        raise WitnessRefused("-", "audit.no_witness", f"{cosigned} cosignatures, {min_witnesses} needed")
    return note


def _ask(witness: WitnessClient, tree: ProofSource, note: SignedNote, size: int) -> SignedNote:
    last = witness.last_size(Checkpoint.from_text(note.text).origin)
    # A witness ahead of this tree gets no proof and refuses (the log cannot prove a shrink).
    proof = tree.consistency_proof(last, size) if last is not None and 0 < last <= size else []
    return witness.cosign(note, proof)


def store_checkpoint(
    session: Session,
    note: SignedNote,
    operator: LogOperator,
    witnesses: Sequence[WitnessClient],
    now: dt.datetime,
) -> AuditCheckpointRow:
    """Store a signed checkpoint as ``pending`` anchoring."""
    checkpoint = Checkpoint.from_text(note.text)
    row = AuditCheckpointRow(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root,
        note=note.format(),
        vkeys={"log": operator.vkey, "witnesses": [w.vkey for w in witnesses]},
        created_at=now,
        status="pending",
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row


def latest_checkpoint(session: Session, *, anchored_only: bool = False) -> AuditCheckpointRow | None:
    """The checkpoint of the largest size (only anchored ones when asked)."""
    stmt = select(AuditCheckpointRow).order_by(AuditCheckpointRow.size.desc()).limit(1)
    if anchored_only:
        stmt = stmt.where(AuditCheckpointRow.status == "anchored")
    return session.scalar(stmt)
