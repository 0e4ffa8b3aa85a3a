"""The fast canonical JSON path gives the bytes (and errors) of the reference `keys.canonical_json`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials._jcs import canonical
from keys import canonical_json
from keys.errors import CanonicalizationError

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except CanonicalizationError:
        return CanonicalizationError


@settings(max_examples=300)
@given(_json)
def test_same_bytes_as_the_reference(value: Any) -> None:
    """For any JSON value (floats, big integers, any Unicode) both give the same bytes or both refuse."""
    expected = _reference(value)
    if expected is CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            canonical(value)
    else:
        assert canonical(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ue000": 2, "a": 3},  # UTF-16 order differs from code-point order here
        {"s": '\u2028\u007f\x1f"\\/é😀'},
        [2**53 - 1, -(2**53 - 1), True, None, 1.0, 1e21, -0.0],
    ],
)
def test_tricky_values(value: Any) -> None:
    """Key order beyond the BMP, escapes and number forms match RFC 8785."""
    assert canonical(value) == canonical_json(value)


def test_refusals_match() -> None:
    """Integers beyond 2**53, lone surrogates and non-JSON types are refused like the reference."""
    for bad in (2**53, {"k": "\ud800"}, {1: "x"}, b"bytes", float("nan")):
        with pytest.raises(CanonicalizationError):
            canonical(bad)
