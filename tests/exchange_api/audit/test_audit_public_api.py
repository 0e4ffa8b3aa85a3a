"""The public surface of exchange_api.audit: a fixed list of resolvable names; errors with stable codes."""

from __future__ import annotations

import exchange_api.audit as audit
from exchange_api.audit import errors
from exchange_api.errors import ExchangeError

EXPECTED = {
    "AnchorInfo", "AnchorLookup", "AnchorPolicy", "AnchorReceipt", "AnchorTarget", "AnchoredHead", "Anchorer",
    "AuditEntry", "AuditLog", "BundleReport", "CachedInclusionVerifier", "ChainAnchorLookup", "ChainMonitor",
    "CheckpointRef", "CheckpointView", "DEFAULT_ORIGIN", "EntryKind", "KINDS", "LedgerAnchorTarget",
    "LocalWitness", "LogOperator", "MonitorAlarm", "MonitorReport", "NewEntry", "ProofBundle", "RiskRules",
    "RiskSignal", "SqlLeafHashSource", "TAMPER_KINDS", "TickResult", "TrailCheckReport", "TrailItem",
    "TrailQuery", "TrustedKeys", "WitnessClient", "anchored_checkpoints", "append_entries", "append_event",
    "check_store", "export_bundle", "format_vkey", "log_id_for", "parse_vkey", "query_trail", "record_sha256",
    "risk_signals", "sign_and_cosign", "tamper_entry", "trail_csv", "trail_json", "verify_bundle",
    "verify_bundle_file", "verify_trail",
    # remote witnesses (c2sp.org/tlog-witness)
    "RemoteWitness", "parse_witnesses", "WitnessServer", "create_witness_app", "serve_witness",
}  # fmt: skip


def test_public_names_are_locked() -> None:
    """__all__ is exactly the documented surface and every name resolves."""
    assert set(audit.__all__) == EXPECTED
    for name in audit.__all__:
        assert getattr(audit, name) is not None


def test_errors_have_stable_codes() -> None:
    """Every audit error derives from the exchange root and has its own audit.* code."""
    classes = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    raised = [c for c in classes if issubclass(c, Exception)]
    codes = [c.code for c in raised]
    assert all(issubclass(c, ExchangeError) for c in raised)
    assert all(code.startswith("audit.") for code in codes)
    assert len(set(codes)) == len(codes)
