"""The auditor's tasks in one call each (used by the CLI and the demo).

- :func:`verify_trail`: recompute the whole trail and compare it with every anchored and stored
  checkpoint;
- :func:`export_bundle`: the proof bundle of one entry, optionally written to a file;
- :func:`verify_bundle_file`: verify a bundle offline (and on chain, given an endpoint);
- :func:`exchange_api.audit.tamper_entry` (in ``_tamper``): alter the store to show the check.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange_api.audit._check import CheckpointRef, TrailCheckReport, check_store
from exchange_api.audit._log import AuditLog
from exchange_api.audit._monitor import anchored_checkpoints, as_refs
from exchange_api.audit._store import log_origin
from exchange_api.audit.bundle import (
    AnchorLookup,
    BundleReport,
    ChainAnchorLookup,
    ProofBundle,
    TrustedKeys,
    log_id_for,
    verify_bundle,
)

if TYPE_CHECKING:
    import ledger

__all__ = ["export_bundle", "verify_bundle_file", "verify_trail"]


def verify_trail(
    engine: Engine,
    *,
    anchor: ledger.AuditAnchor | None = None,
    trusted: TrustedKeys | None = None,
    check_records: bool = True,
) -> TrailCheckReport:
    """Recompute the trail in ``engine``'s store; compare with the chain's anchors (given ``anchor``)."""
    heads: list[CheckpointRef] = []
    if anchor is not None:
        with Session(engine) as session:
            origin = log_origin(session)
        heads = as_refs(anchored_checkpoints(anchor, log_id_for(origin)))
    return check_store(engine, checkpoints=heads, trusted=trusted, check_records=check_records)


def export_bundle(
    log: AuditLog | sessionmaker[Session] | Engine,
    index: int,
    path: str | os.PathLike[str] | None = None,
    *,
    include_record: bool = True,
) -> ProofBundle:
    """The proof bundle of entry ``index``; written to ``path`` as JSON when given."""
    if not isinstance(log, AuditLog):
        log = AuditLog(log if isinstance(log, sessionmaker) else sessionmaker(log))
    with log.sessions() as session:
        bundle = log.bundle(session, index, include_record=include_record)
    if path is not None:
        Path(path).write_text(bundle.dumps(), encoding="utf-8")
    return bundle


def verify_bundle_file(
    source: str | os.PathLike[str] | ProofBundle,
    *,
    trusted: TrustedKeys | None = None,
    rpc: str | None = None,
    chain: AnchorLookup | None = None,
    contract: str | None = None,
) -> BundleReport:
    """Verify a bundle (a file or an object) offline; with ``rpc`` (or ``chain``) also on chain."""
    bundle = source if isinstance(source, ProofBundle) else ProofBundle.loads(Path(source).read_bytes())
    if rpc is None:
        return verify_bundle(bundle, trusted=trusted, chain=chain, contract=contract)
    lookup = ChainAnchorLookup.connect(rpc)
    try:
        return verify_bundle(bundle, trusted=trusted, chain=lookup, contract=contract)
    finally:
        lookup.close()
