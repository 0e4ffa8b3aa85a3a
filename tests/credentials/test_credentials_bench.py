"""The cert benchmark runs end to end and reports every figure the issue asks for."""

from __future__ import annotations

import pytest

from bench import cert as cert_bench


def test_benchmark_reports_issue_verify_status_and_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny run (20 certificates, one pass) returns name, peer and the named figures."""
    monkeypatch.setattr(cert_bench, "COUNT", 20)
    monkeypatch.setattr(cert_bench, "ROUNDS", 1)
    result = cert_bench.run()
    assert result["name"] == "cert" and "Ed25519" in result["peer"]
    figures = result["figures"]
    for name in ("issue_per_s", "verify_per_s", "raw_ed25519_verify_per_s", "status_list_update_s"):
        assert figures[name] > 0
    assert figures["status_flips"] == 20 and figures["certificates"] == 20
