"""USCC (GB 32100-2015) and resident ID (GB 11643-1999) validation, overrides and subject references."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import (
    IdentifierOverride,
    ResidentIdInfo,
    UsccInfo,
    subject_ref,
    validate_identifier,
    validate_resident_id,
    validate_uscc,
)
from keys._identifiers import USCC_CHARSET, org_code_check, uscc_check_char
from keys.errors import (
    CheckCharacterMismatch,
    IdentifierFormatError,
    InvalidBirthDate,
    KeyFormatError,
    OverrideMismatch,
)

VALID_USCC = "91110000600037341L"
VALID_RID = "11010519491231002X"
TODAY = date(2025, 3, 1)


def test_valid_uscc_and_its_parts() -> None:
    """The reference USCC validates and splits into authority, type, region and organisation code."""
    info = validate_uscc(VALID_USCC)
    assert info == UsccInfo(VALID_USCC, "9", "1", "110000", "600037341", None)


def test_uscc_is_normalised() -> None:
    """Surrounding spaces and lower case are normalised before checking."""
    assert validate_uscc(" 91110000600037341l ").code == VALID_USCC


def test_wrong_uscc_check_character_names_position_18_and_the_expected_character() -> None:
    """A wrong final character reports position 18, expected `L`."""
    with pytest.raises(CheckCharacterMismatch) as info:
        validate_uscc("91110000600037341K")
    assert (info.value.code, info.value.position, info.value.expected, info.value.found) == (
        "keys.identifier.check",
        18,
        "L",
        "K",
    )
    assert "position 18" in str(info.value) and "'L'" in str(info.value)


def test_wrong_org_code_check_names_position_17() -> None:
    """A wrong GB 11714 check character in the organisation code reports position 17."""
    with pytest.raises(CheckCharacterMismatch) as info:
        validate_uscc("91110000600037342L")
    assert (info.value.position, info.value.expected) == (17, "1")


@pytest.mark.parametrize(
    ("code", "position"),
    [
        ("9111000060003734IL", 17),
        ("9O110000600037341L", 2),
        ("91A10000600037341L", 3),
        ("91110000600037341", None),
    ],
    ids=["letter-I", "letter-O", "region-letter", "short"],
)
def test_uscc_format_errors(code: str, position: int | None) -> None:
    """Characters outside the charset, letters in the region, or a wrong length are format errors."""
    with pytest.raises(IdentifierFormatError) as info:
        validate_uscc(code)
    assert info.value.code == "keys.identifier.format" and info.value.position == position


def test_override_is_explicit_and_recorded() -> None:
    """A failing code passes only with an override for that code, and the result records it."""
    at = datetime(2025, 3, 1, tzinfo=UTC)
    info = validate_uscc(
        "91110000600037341K",
        allow_override=IdentifierOverride(
            "91110000600037341K", approved_by="registrar-li", reason="2015 pilot", at=at
        ),
    )
    assert info.override is not None
    record = info.override.to_json()
    assert record["approved_by"] == "registrar-li" and record["reason"] == "2015 pilot"
    assert record["at"] == "2025-03-01T00:00:00Z" and record["fault_code"] == "keys.identifier.check"


def test_override_for_another_code_is_refused() -> None:
    """An override covers exactly one code: using it for another raises `OverrideMismatch`."""
    with pytest.raises(OverrideMismatch) as info:
        validate_uscc("91110000600037341K", allow_override=IdentifierOverride(VALID_USCC, "a", "b"))
    assert info.value.code == "keys.identifier.override"


def test_override_does_not_excuse_format_errors() -> None:
    """A malformed code fails even with an override for it."""
    with pytest.raises(IdentifierFormatError):
        validate_uscc("9111000060003734IL", allow_override=IdentifierOverride("9111000060003734IL", "a", "b"))


def test_override_needs_who_and_why() -> None:
    """An override without an approver or a reason cannot be built."""
    with pytest.raises(ValueError):
        IdentifierOverride(VALID_USCC, approved_by=" ", reason="x")


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Random well-formed USCCs with both check characters computed."""
    head = draw(st.text(USCC_CHARSET, min_size=2, max_size=2))
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_CHARSET, min_size=8, max_size=8))
    org_check = org_code_check(body)
    first17 = head + region + body + org_check
    return first17 + uscc_check_char(first17)


@given(usccs(), st.sampled_from(USCC_CHARSET))
def test_property_any_wrong_final_character_is_caught(code: str, replacement: str) -> None:
    """Every generated USCC validates; replacing its last character by another is caught, naming it."""
    assert validate_uscc(code).code == code
    if replacement != code[17]:
        with pytest.raises(CheckCharacterMismatch) as info:
            validate_uscc(code[:17] + replacement)
        assert info.value.position == 18 and info.value.expected == code[17]


def test_valid_resident_id() -> None:
    """The reference resident ID validates with its region and birth date."""
    assert validate_resident_id(VALID_RID, today=TODAY) == ResidentIdInfo(
        VALID_RID, "110105", date(1949, 12, 31)
    )


def test_resident_id_lower_case_x_is_accepted() -> None:
    """A lower-case x check character is normalised to X."""
    assert validate_resident_id(VALID_RID.lower(), today=TODAY).number == VALID_RID


def test_wrong_resident_check_digit_names_the_expected_character() -> None:
    """A wrong check digit reports position 18 and the expected `X`."""
    with pytest.raises(CheckCharacterMismatch) as info:
        validate_resident_id("110105194912310021", today=TODAY)
    assert (info.value.position, info.value.expected) == (18, "X")


@pytest.mark.parametrize("number", ["11010519491331002X", "11010519490230002X", "11010520990101002X"])
def test_bad_birth_dates(number: str) -> None:
    """Month 13, 30 February and a future date are refused at position 7."""
    with pytest.raises(InvalidBirthDate) as info:
        validate_resident_id(number, today=TODAY)
    assert info.value.code == "keys.identifier.date" and info.value.position == 7


@pytest.mark.parametrize("number", ["1101051949123100", "11010519491231002Y", "1101051949123A002X"])
def test_resident_id_format_errors(number: str) -> None:
    """Wrong length, a non-digit in 1-17 or a bad final character are format errors."""
    with pytest.raises(IdentifierFormatError):
        validate_resident_id(number, today=TODAY)


def test_validate_identifier_dispatches_on_shape() -> None:
    """Resident-ID-shaped input is checked as one; anything else as a USCC."""
    assert isinstance(validate_identifier(VALID_RID, today=TODAY), ResidentIdInfo)
    assert isinstance(validate_identifier(VALID_USCC), UsccInfo)
    with pytest.raises(CheckCharacterMismatch) as info:
        validate_identifier("110105194912310021", today=TODAY)
    assert info.value.expected == "X"


def test_subject_ref_is_keyed_stable_and_suite_specific() -> None:
    """Same identifier and secret give the same 32 bytes; the secret, suite or subject change it."""
    secret = b"deployment-secret-0123456789"
    ref = subject_ref(VALID_RID, secret)
    assert len(ref) == 32
    assert ref == subject_ref(VALID_RID.lower() + " ", secret)
    assert ref != subject_ref(VALID_RID, secret + b"!")
    assert ref != subject_ref(VALID_RID, secret, suite="gm")
    assert ref != subject_ref(VALID_USCC, secret)
    assert VALID_RID.encode() not in ref


def test_subject_ref_refuses_short_secrets() -> None:
    """A secret shorter than 16 bytes raises `KeyFormatError`."""
    with pytest.raises(KeyFormatError):
        subject_ref(VALID_RID, b"short")
