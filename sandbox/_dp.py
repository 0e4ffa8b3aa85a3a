"""Differential-privacy noise: a CSPRNG byte source, the snapping Laplace mechanism and Gaussian noise.

Floating-point Laplace noise (``x + b·ln U`` on doubles) leaks the input through the set of
reachable outputs (Mironov, CCS 2012). We use Mironov's *snapping mechanism*: clamp the value to a
public bound B, add ``λ·S·ln U*`` where U* is uniform over all doubles in (0, 1) (not only multiples
of 2^-53), round the result to the nearest multiple of Λ, the smallest power of two ≥ λ, and clamp
again. It is (1/λ + 2^-49·B/λ)-DP for sensitivity 1 when λ < B < 2^46·λ, so λ is set to
(1 + 2^-49·B)/ε. Queries are scaled to sensitivity 1 before the mechanism and scaled back after,
which is post-processing. The remaining gap is that `math.log` is the platform's libm, accurate to
within an ulp but not proven correctly rounded as the theorem assumes.

Noise bytes come from the operating system's CSPRNG (`os.urandom`), not from a statistical PRNG
whose state could be reconstructed from released outputs; tests inject a deterministic SHAKE-256
stream instead.
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sandbox.errors import InvalidParameters

__all__ = [
    "RandomSource",
    "SeededRandomSource",
    "SystemRandomSource",
    "gaussian_noise",
    "snapping_laplace",
    "snapping_scale",
    "zcdp_to_approx_dp",
]

_MIRONOV_SLACK = 2.0**-49
_MAX_B_OVER_LAMBDA = 2.0**46


class RandomSource(Protocol):
    """Anything that hands out uniformly random bytes."""

    def random_bytes(self, n: int) -> bytes:
        """`n` uniformly random bytes."""
        ...


class SystemRandomSource:
    """The operating system's CSPRNG; the default everywhere noise is released."""

    def random_bytes(self, n: int) -> bytes:
        """`n` bytes from `os.urandom`."""
        return os.urandom(n)


class SeededRandomSource:
    """A deterministic stream (SHAKE-256 of seed and counter) for tests only: never for released noise."""

    def __init__(self, seed: int | bytes) -> None:
        self._seed = seed if isinstance(seed, bytes) else seed.to_bytes(32, "big", signed=False)
        self._counter = 0
        self._buffer = b""

    def random_bytes(self, n: int) -> bytes:
        """The next `n` bytes of the stream."""
        while len(self._buffer) < n:
            block = hashlib.shake_256(self._seed + self._counter.to_bytes(8, "big")).digest(4096)
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def _uniform_open01(rng: RandomSource) -> float:
    """A double uniform over (0, 1) at full precision, each with the measure that rounds down to it."""
    # The binade [2^-g, 2^-g+1) has probability 2^-g: g is one plus the number of leading zero bits
    # of an unbounded random bit string; within the binade the 52-bit mantissa is uniform.
    g = 1
    while True:
        word = int.from_bytes(rng.random_bytes(8), "big")
        if word:
            g += 64 - word.bit_length()
            break
        g += 64
        if g > 1074:  # below the smallest subnormal: probability 2^-1074, never in practice
            return math.ldexp(1.0, -1074)
    mantissa = int.from_bytes(rng.random_bytes(7), "big") >> 4  # 52 bits
    return math.ldexp(float((1 << 52) | mantissa), -52 - g)


def snapping_scale(epsilon: float, bound: float) -> tuple[float, float]:
    """(λ, B) of the snapping mechanism for sensitivity 1, privacy `epsilon` and public bound `bound`."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InvalidParameters("epsilon", "must be a positive finite number")
    # B must exceed λ for the theorem to apply; widening a public bound costs nothing in privacy.
    b = max(float(bound), 4.0 / epsilon)
    lam = (1.0 + _MIRONOV_SLACK * b) / epsilon
    if b >= _MAX_B_OVER_LAMBDA * lam:
        raise InvalidParameters("epsilon", "the value bound is too large for this noise scale")
    return lam, b


def snapping_laplace(
    value: float, *, sensitivity: float, epsilon: float, bound: float, rng: RandomSource
) -> float:
    """Release `value` with ε-DP through the snapping mechanism.

    Parameters
    ----------
    value : the exact query answer.
    sensitivity : how much one record can change `value` (from the declared clamping bounds).
    epsilon : the privacy cost of this release.
    bound : a public bound on ``|value|`` (from the resource's declared maximum size).
    rng : the byte source; `SystemRandomSource` outside tests.
    """
    if not (math.isfinite(sensitivity) and sensitivity > 0):
        raise InvalidParameters("sensitivity", "must be a positive finite number")
    lam, b = snapping_scale(epsilon, bound / sensitivity)
    x = min(max(value / sensitivity, -b), b)
    u = _uniform_open01(rng)
    sign = 1.0 if rng.random_bytes(1)[0] & 1 else -1.0
    noisy = x + sign * lam * math.log(u)
    snap = 2.0 ** math.ceil(math.log2(lam))
    # Division and multiplication by a power of two are exact, so this rounds to the grid exactly.
    snapped = round(noisy / snap) * snap
    return min(max(snapped, -b), b) * sensitivity


def gaussian_noise(std: float, size: int, rng: RandomSource) -> npt.NDArray[np.float64]:
    """`size` independent N(0, std²) samples by Box–Muller from CSPRNG uniforms.

    Used for federated updates (vectors of model size); it does not defend against floating-point
    attacks the way snapping does for Laplace, which matters less here because the noised update is
    masked and only the sum of several nodes' updates is ever decrypted.
    """
    if size == 0:
        return np.zeros(0)
    pairs = (size + 1) // 2
    words = np.frombuffer(rng.random_bytes(16 * pairs), dtype="<u8")
    u = ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    u1, u2 = u[:pairs], u[pairs:]
    radius = np.sqrt(-2.0 * np.log(u1))
    z = np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])
    out: npt.NDArray[np.float64] = std * z[:size]
    return out


def zcdp_to_approx_dp(rho: float, delta: float) -> float:
    """ε such that ρ-zCDP implies (ε, δ)-DP (Bun & Steinke 2016, Prop. 1.3)."""
    if rho <= 0:
        return 0.0
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))
