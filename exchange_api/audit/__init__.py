"""The audit trail: every state change as an entry of an append-only Merkle log, proven and anchored.

The personality over the blind ``tlog`` core (see docs/audit.md):

- entries (``AuditEntry``): canonical JSON with kind, version, index, actor, time, subject, refs
  and the SHA-256 of the full record; ``append_event`` appends one in the caller's transaction;
- the log (``AuditLog``): the Merkle tree over the stored leaf hashes, inclusion and consistency
  proofs, stored checkpoints and proof bundles;
- checkpoints signed by the ``LogOperator`` and cosigned by witnesses (``LocalWitness`` in-process,
  ``RemoteWitness`` over c2sp.org/tlog-witness, configured with ``parse_witnesses``; an auditor
  serves its own with ``WitnessServer`` / ``create_witness_app`` / ``serve_witness``), anchored in
  batches by the ``Anchorer`` through the AuditAnchor contract;
- auditor tools: ``check_store`` / ``verify_trail`` (full recomputation), ``verify_bundle``
  (offline, in the pure module ``exchange_api.audit.bundle``), ``ChainMonitor``, ``query_trail``,
  ``risk_signals``; ``tamper_entry`` alters a store to show the check naming the change.

Names are loaded on first use, so ``import exchange_api.audit.bundle`` (the offline verifier)
pulls in neither SQLAlchemy nor FastAPI. Errors live in :mod:`exchange_api.audit.errors`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exchange_api.audit._anchoring import (
        Anchorer,
        AnchorPolicy,
        AnchorReceipt,
        AnchorTarget,
        LedgerAnchorTarget,
        TickResult,
    )
    from exchange_api.audit._auditor import export_bundle, verify_bundle_file, verify_trail
    from exchange_api.audit._check import CheckpointRef, TrailCheckReport, check_store
    from exchange_api.audit._checkpoints import LocalWitness, LogOperator, WitnessClient, sign_and_cosign
    from exchange_api.audit._entry import AuditEntry, record_sha256
    from exchange_api.audit._hook import append_event
    from exchange_api.audit._inclusion import CachedInclusionVerifier
    from exchange_api.audit._kinds import KINDS, EntryKind
    from exchange_api.audit._log import AuditLog, CheckpointView
    from exchange_api.audit._monitor import (
        AnchoredHead,
        ChainMonitor,
        MonitorAlarm,
        MonitorReport,
        anchored_checkpoints,
    )
    from exchange_api.audit._remote_witness import RemoteWitness, parse_witnesses
    from exchange_api.audit._risk import RiskRules, RiskSignal, risk_signals
    from exchange_api.audit._store import DEFAULT_ORIGIN, NewEntry, SqlLeafHashSource, append_entries
    from exchange_api.audit._tamper import TAMPER_KINDS, tamper_entry
    from exchange_api.audit._trail import TrailItem, TrailQuery, query_trail, trail_csv, trail_json
    from exchange_api.audit._witness_server import WitnessServer, create_witness_app, serve_witness
    from exchange_api.audit.bundle import (
        AnchorInfo,
        AnchorLookup,
        BundleReport,
        ChainAnchorLookup,
        ProofBundle,
        TrustedKeys,
        format_vkey,
        log_id_for,
        parse_vkey,
        verify_bundle,
    )

_WHERE: dict[str, str] = {
    **dict.fromkeys(
        ("AnchorPolicy", "AnchorReceipt", "AnchorTarget", "Anchorer", "LedgerAnchorTarget", "TickResult"),
        "_anchoring",
    ),
    **dict.fromkeys(("export_bundle", "verify_bundle_file", "verify_trail"), "_auditor"),
    **dict.fromkeys(("CheckpointRef", "TrailCheckReport", "check_store"), "_check"),
    **dict.fromkeys(("LocalWitness", "LogOperator", "WitnessClient", "sign_and_cosign"), "_checkpoints"),
    **dict.fromkeys(("AuditEntry", "record_sha256"), "_entry"),
    "append_event": "_hook",
    "CachedInclusionVerifier": "_inclusion",
    **dict.fromkeys(("KINDS", "EntryKind"), "_kinds"),
    **dict.fromkeys(("AuditLog", "CheckpointView"), "_log"),
    **dict.fromkeys(
        ("AnchoredHead", "ChainMonitor", "MonitorAlarm", "MonitorReport", "anchored_checkpoints"), "_monitor"
    ),
    **dict.fromkeys(("RemoteWitness", "parse_witnesses"), "_remote_witness"),
    **dict.fromkeys(("RiskRules", "RiskSignal", "risk_signals"), "_risk"),
    **dict.fromkeys(("DEFAULT_ORIGIN", "NewEntry", "SqlLeafHashSource", "append_entries"), "_store"),
    **dict.fromkeys(("TAMPER_KINDS", "tamper_entry"), "_tamper"),
    **dict.fromkeys(("TrailItem", "TrailQuery", "query_trail", "trail_csv", "trail_json"), "_trail"),
    **dict.fromkeys(("WitnessServer", "create_witness_app", "serve_witness"), "_witness_server"),
    **dict.fromkeys(
        (
            "AnchorInfo",
            "AnchorLookup",
            "BundleReport",
            "ChainAnchorLookup",
            "ProofBundle",
            "TrustedKeys",
            "format_vkey",
            "log_id_for",
            "parse_vkey",
            "verify_bundle",
        ),
        "bundle",
    ),
}

__all__ = [
    "DEFAULT_ORIGIN",
    "KINDS",
    "TAMPER_KINDS",
    "AnchorInfo",
    "AnchorLookup",
    "AnchorPolicy",
    "AnchorReceipt",
    "AnchorTarget",
    "AnchoredHead",
    "Anchorer",
    "AuditEntry",
    "AuditLog",
    "BundleReport",
    "CachedInclusionVerifier",
    "ChainAnchorLookup",
    "ChainMonitor",
    "CheckpointRef",
    "CheckpointView",
    "EntryKind",
    "LedgerAnchorTarget",
    "LocalWitness",
    "LogOperator",
    "MonitorAlarm",
    "MonitorReport",
    "NewEntry",
    "ProofBundle",
    "RemoteWitness",
    "RiskRules",
    "RiskSignal",
    "SqlLeafHashSource",
    "TickResult",
    "TrailCheckReport",
    "TrailItem",
    "TrailQuery",
    "TrustedKeys",
    "WitnessClient",
    "WitnessServer",
    "anchored_checkpoints",
    "append_entries",
    "append_event",
    "check_store",
    "create_witness_app",
    "export_bundle",
    "format_vkey",
    "log_id_for",
    "parse_vkey",
    "parse_witnesses",
    "query_trail",
    "record_sha256",
    "risk_signals",
    "serve_witness",
    "sign_and_cosign",
    "tamper_entry",
    "trail_csv",
    "trail_json",
    "verify_bundle",
    "verify_bundle_file",
    "verify_trail",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
