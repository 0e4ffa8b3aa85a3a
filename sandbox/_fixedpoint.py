"""Fixed-point encoding of float vectors into integers mod 2^k, for masking and summing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sandbox.errors import EncodingOverflow, InvalidParameters

__all__ = ["FixedPoint"]

U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class FixedPoint:
    """Round ``x·2^frac_bits`` to an integer and keep it mod 2^modulus_bits (two's complement).

    Sums of up to `summands` encoded values decode exactly (up to the rounding of each term) as long
    as each value stays below `limit(summands)`; `encode` refuses values that could overflow the sum.
    Arithmetic is on uint64, so wrap-around mod 2^64 is free; smaller moduli are masked.
    """

    frac_bits: int = 24
    modulus_bits: int = 64

    def __post_init__(self) -> None:
        if not (8 <= self.modulus_bits <= 64 and 0 <= self.frac_bits < self.modulus_bits - 2):
            raise InvalidParameters(
                "fixed_point", "need 8 <= modulus_bits <= 64 and frac_bits < modulus_bits - 2"
            )

    @property
    def _mask(self) -> np.uint64:
        return np.uint64((1 << self.modulus_bits) - 1)

    def limit(self, summands: int = 1) -> float:
        """Largest magnitude one value may have so that the sum of `summands` values cannot wrap."""
        headroom = self.modulus_bits - 1 - math.ceil(math.log2(max(summands, 1)))
        return float(2 ** (headroom - self.frac_bits))

    def encode(self, values: npt.ArrayLike, summands: int = 1) -> U64:
        """Encode floats; raise `EncodingOverflow` if any is non-finite or beyond `limit(summands)`."""
        scaled = np.asarray(values, dtype=np.float64) * float(2**self.frac_bits)
        lim = self.limit(summands)
        # NaN fails the comparison, so one test covers non-finite values and overflow.
        if scaled.size and not float(np.abs(scaled).max()) < lim * float(2**self.frac_bits):
            raise EncodingOverflow(lim)
        ints = np.rint(scaled).astype(np.int64).view(np.uint64)
        return ints if self.modulus_bits == 64 else ints & self._mask

    def decode(self, encoded: U64) -> npt.NDArray[np.float64]:
        """Decode a (summed) vector back to floats."""
        u = np.asarray(encoded, dtype=np.uint64) & self._mask
        if self.modulus_bits < 64:
            # Sign-extend from modulus_bits to 64 bits.
            top = np.uint64(1 << (self.modulus_bits - 1))
            u = (u ^ top) - top
        out: npt.NDArray[np.float64] = u.view(np.int64).astype(np.float64) / float(2**self.frac_bits)
        return out

    def add(self, a: U64, b: U64) -> U64:
        """``a + b`` mod 2^k."""
        return (a + b) & self._mask

    def sub(self, a: U64, b: U64) -> U64:
        """``a - b`` mod 2^k."""
        return (a - b) & self._mask
