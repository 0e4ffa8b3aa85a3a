"""Properties of Shamir sharing and of the fixed-point encoding used by secure aggregation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sandbox as sb
from sandbox.errors import EncodingOverflow, SharesInsufficient


@st.composite
def sharings(draw: st.DrawFn) -> tuple[int, int, int, list[sb.Share]]:
    n = draw(st.integers(1, 7))
    t = draw(st.integers(1, n))
    secret = draw(st.integers(0, sb.PRIME - 1))
    return secret, n, t, sb.split(secret, n, t)


@settings(max_examples=60, deadline=None)
@given(sharings())
def test_any_t_shares_reconstruct(case: tuple[int, int, int, list[sb.Share]]) -> None:
    """Every subset of t shares (in any order) gives back the secret."""
    secret, _n, t, shares = case
    for subset in itertools.combinations(shares, t):
        assert sb.reconstruct(list(reversed(subset)), t) == secret


@settings(max_examples=60, deadline=None)
@given(sharings())
def test_fewer_than_t_shares_do_not_reconstruct(case: tuple[int, int, int, list[sb.Share]]) -> None:
    """t − 1 shares are refused, and interpolating them as if they were enough gives a different value."""
    secret, _n, t, shares = case
    if t == 1:
        return
    few = shares[: t - 1]
    with pytest.raises(SharesInsufficient) as exc:
        sb.reconstruct(few, t)
    assert exc.value.code == "sandbox.shares_insufficient"
    assert sb.reconstruct(few, t - 1) != secret


def test_duplicate_shares_do_not_count_twice() -> None:
    """Two copies of one share are one share."""
    shares = sb.split(42, 3, 2)
    with pytest.raises(SharesInsufficient):
        sb.reconstruct([shares[0], shares[0]], 2)


@given(st.binary(min_size=32, max_size=32))
def test_byte_secrets_round_trip(secret: bytes) -> None:
    """A 32-byte seed survives split_bytes / reconstruct_bytes."""
    shares = sb.split_bytes(secret, 5, 3)
    assert sb.reconstruct_bytes(shares[2:], 3) == secret
    assert sb.Share.from_list(shares[0].to_list()) == shares[0]


FP = sb.FixedPoint(frac_bits=24)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=50))
def test_fixed_point_round_trips(values: list[float]) -> None:
    """Decoding an encoding is within half a unit in the last place of the fixed-point grid."""
    x = np.array(values)
    assert np.all(np.abs(FP.decode(FP.encode(x)) - x) <= 2.0**-25 + 1e-12 * np.abs(x))


@given(st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=8))
def test_sum_of_encodings_decodes_to_the_sum(rows: list[list[float]]) -> None:
    """Adding encodings mod 2^64 and decoding gives the float sum (one rounding per term)."""
    x = np.array(rows)
    total = np.zeros(4, dtype=np.uint64)
    for row in x:
        total = FP.add(total, FP.encode(row, summands=len(x)))
    assert np.allclose(FP.decode(total), x.sum(axis=0), atol=len(x) * 2.0**-24)


@given(st.integers(8, 63), st.lists(st.floats(-100, 100), min_size=1, max_size=10))
def test_smaller_moduli_sign_extend(bits: int, values: list[float]) -> None:
    """With k < 64, negative values still decode correctly when they fit."""
    fp = sb.FixedPoint(frac_bits=min(4, bits - 3), modulus_bits=bits)
    x = np.array(values)
    if np.any(np.abs(x) >= fp.limit()):
        with pytest.raises(EncodingOverflow):
            fp.encode(x)
        return
    assert np.allclose(fp.decode(fp.encode(x)), x, atol=2.0**-fp.frac_bits)


@pytest.mark.parametrize("bad", [math.inf, math.nan, 2.0**40])
def test_overflow_and_non_finite_are_refused(bad: float) -> None:
    """Values that could wrap the modulus in a sum, and non-finite values, raise EncodingOverflow."""
    with pytest.raises(EncodingOverflow) as exc:
        FP.encode([1.0, bad], summands=4)
    assert exc.value.code == "sandbox.encoding_overflow"
