"""The keys benchmark runs and reports every figure the issue asks for."""

from __future__ import annotations

from bench import keys as keys_bench


def test_benchmark_reports_wrapper_raw_and_ratio_figures() -> None:
    """A very short run returns name, peer and each figure with its raw counterpart and ratio."""
    result = keys_bench.run(duration_s=0.03)
    assert result["name"] == "keys" and result["peer"]
    figures = result["figures"]
    for name in ("ed25519_sign_per_s", "ed25519_verify_per_s", "sm2_sign_per_s", "aead_mb_per_s"):
        assert figures[name] > 0 and figures[f"raw_{name}"] > 0
    for ratio in ("ed25519_sign_vs_raw", "ed25519_verify_vs_raw", "sm2_sign_vs_raw", "aead_vs_raw"):
        assert figures[ratio] > 0
