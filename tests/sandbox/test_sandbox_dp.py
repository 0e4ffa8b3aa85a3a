"""Noise sources: the full-precision uniform, seeded streams, Gaussian noise and zCDP conversion."""

from __future__ import annotations

import math

import numpy as np

import sandbox as sb
from sandbox._dp import _uniform_open01


def test_seeded_source_is_deterministic_and_system_source_is_not() -> None:
    """Test streams repeat for a seed; the OS source does not repeat."""
    assert sb.SeededRandomSource(5).random_bytes(64) == sb.SeededRandomSource(5).random_bytes(64)
    assert sb.SeededRandomSource(5).random_bytes(64) != sb.SeededRandomSource(6).random_bytes(64)
    system = sb.SystemRandomSource()
    assert system.random_bytes(32) != system.random_bytes(32)


def test_uniform_reaches_below_two_to_the_minus_53() -> None:
    """The uniform is in (0, 1) and its binades have probability 2^-g, so tiny values occur."""
    rng = sb.SeededRandomSource(9)
    u = np.array([_uniform_open01(rng) for _ in range(20000)])
    assert np.all((u > 0) & (u < 1))
    assert abs(np.mean(u < 0.5) - 0.5) < 0.02
    assert abs(np.mean(u < 0.25) - 0.25) < 0.02
    # Values not on the 2^-53 grid: a naive (k / 2^53) sampler never produces them.
    assert np.any((u * 2.0**53) % 1 != 0)


def test_gaussian_noise_has_the_requested_scale() -> None:
    """Box–Muller samples have mean 0 and the requested standard deviation."""
    z = sb.gaussian_noise(3.0, 20001, sb.SeededRandomSource(1))
    assert z.shape == (20001,)
    assert abs(z.mean()) < 0.1 and abs(z.std() - 3.0) < 0.1


def test_zcdp_conversion() -> None:
    """ρ-zCDP gives ε = ρ + 2·sqrt(ρ·ln(1/δ))."""
    assert sb.zcdp_to_approx_dp(0.0, 1e-6) == 0.0
    assert math.isclose(sb.zcdp_to_approx_dp(0.5, 1e-5), 0.5 + 2 * math.sqrt(0.5 * math.log(1e5)))
