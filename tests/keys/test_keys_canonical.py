"""RFC 8785 canonical JSON: the RFC's own examples, refusals, and properties."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import canonical_json, parse_json
from keys.errors import CanonicalizationError

# RFC 8785 Appendix B: IEEE 754 binary64 bit patterns and their canonical serialization.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_appendix_b_numbers(bits: str, expected: str) -> None:
    """Every number of RFC 8785 Appendix B serializes exactly as the RFC prints it."""
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical_json(value) == expected.encode()


def test_section_3_2_2_example() -> None:
    """The RFC 8785 section 3.2.2 example canonicalizes to the RFC's bytes."""
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_section_3_2_3_sorting_by_utf16_code_units() -> None:
    """Keys sort by UTF-16 code units (RFC 8785 section 3.2.3), so U+1F600 comes before U+FB33."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys_in_order = list(json.loads(canonical_json(value)))
    assert keys_in_order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), 2**53, -(2**53), {1: "x"}, b"bytes", "\ud800", {"a": object()}],
    ids=["nan", "inf", "2^53", "-2^53", "int-key", "bytes", "lone-surrogate", "object"],
)
def test_values_without_canonical_form_are_refused(value: Any) -> None:
    """Values outside I-JSON raise `CanonicalizationError` with its stable code."""
    with pytest.raises(CanonicalizationError) as info:
        canonical_json(value)
    assert info.value.code == "keys.canonical.invalid"


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', '{"a":NaN}', "[Infinity]"])
def test_parse_json_refuses_duplicates_and_non_finite(text: str) -> None:
    """The strict parser refuses duplicate keys and NaN/Infinity."""
    with pytest.raises(ValueError):
        parse_json(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_round_trips(value: Any) -> None:
    """Canonical bytes parse back to an equal value, and canonicalizing again changes nothing."""
    encoded = canonical_json(value)
    parsed = parse_json(encoded)
    assert canonical_json(parsed) == encoded
    assert parsed == value or value != value  # floats: -0.0 == 0.0 holds; NaN is excluded


@given(st.dictionaries(st.text(max_size=6), st.integers(-1000, 1000), max_size=8), st.randoms())
def test_key_order_does_not_matter(mapping: dict[str, int], rnd: Any) -> None:
    """Two dicts with the same items in different insertion orders canonicalize identically."""
    items = list(mapping.items())
    rnd.shuffle(items)
    assert canonical_json(dict(items)) == canonical_json(mapping)
