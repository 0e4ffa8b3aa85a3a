"""Chinese identifiers: the unified social credit code (GB 32100-2015), the resident ID number
(GB 11643-1999), recorded overrides, and keyed subject references for the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from keys._hashes import hmac_digest
from keys._suite import Suite
from keys.errors import (
    CheckCharacterMismatch,
    IdentifierError,
    IdentifierFormatError,
    InvalidBirthDate,
    KeyFormatError,
    OverrideMismatch,
)

__all__ = [
    "USCC_CHARSET",
    "IdentifierOverride",
    "OverrideRecord",
    "ResidentIdInfo",
    "UsccInfo",
    "org_code_check",
    "subject_ref",
    "uscc_check_char",
    "validate_identifier",
    "validate_resident_id",
    "validate_uscc",
]

# GB 32100-2015 character set: digits and capitals without I, O, Z, S, V.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714-1997 organisation code: weights for the eight body characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# GB 11643-1999 / ISO 7064 MOD 11-2.
_RID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
_RID_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class IdentifierOverride:
    """An explicit approval to accept one code that fails its check character (e.g. a legal pilot code).

    It names the exact code, who approved it and why; `at` defaults to now (UTC).
    """

    code: str
    approved_by: str
    reason: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.approved_by.strip() or not self.reason.strip():
            raise ValueError("an identifier override needs a non-empty approved_by and reason")


@dataclass(frozen=True, slots=True)
class OverrideRecord:
    """The audit record of an override that was used: what failed, who approved it, why and when."""

    code: str
    approved_by: str
    reason: str
    at: datetime
    fault_code: str
    fault: str

    def to_json(self) -> dict[str, str | int]:
        """The record as a JSON object, for the audit log."""
        return {
            "kind": "tdex.identifier-override",
            "version": 1,
            "code": self.code,
            "approved_by": self.approved_by,
            "reason": self.reason,
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "fault_code": self.fault_code,
            "fault": self.fault,
        }


@dataclass(frozen=True, slots=True)
class UsccInfo:
    """A validated unified social credit code and its parts; `override` is set when one was used."""

    code: str
    registration_authority: str
    organisation_type: str
    region: str
    organisation_code: str
    override: OverrideRecord | None = None


@dataclass(frozen=True, slots=True)
class ResidentIdInfo:
    """A validated resident ID number, with its region code and birth date."""

    number: str
    region: str
    birth_date: date


def _normalise(code: str) -> str:
    if not isinstance(code, str):
        raise IdentifierFormatError("identifier must be a string")
    return code.strip().upper()


def org_code_check(body: str) -> str:
    """The GB 11714 organisation-code check character (position 17 of a USCC) of 8 digits/capitals."""
    if len(body) != 8 or not all(ch.isdigit() or "A" <= ch <= "Z" for ch in body):
        raise IdentifierFormatError("an organisation-code body is 8 digits or capital letters")
    total = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) of a USCC whose first 17 characters are given."""
    if len(first17) != 17 or any(ch not in USCC_CHARSET for ch in first17):
        raise IdentifierFormatError("need 17 characters from the USCC character set")
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _uscc_checks(code: str) -> None:
    expected17 = org_code_check(code[8:16])
    if code[16] != expected17:
        raise CheckCharacterMismatch(
            f"USCC {code}: position 17 (GB 11714 organisation-code check) is {code[16]!r}, "
            f"expected {expected17!r}",
            position=17,
            expected=expected17,
            found=code[16],
        )
    expected18 = uscc_check_char(code[:17])
    if code[17] != expected18:
        raise CheckCharacterMismatch(
            f"USCC {code}: position 18 (check character) is {code[17]!r}, expected {expected18!r}",
            position=18,
            expected=expected18,
            found=code[17],
        )


def _apply_override(code: str, error: IdentifierError, override: IdentifierOverride | None) -> OverrideRecord:
    if override is None:
        raise error
    if _normalise(override.code) != code:
        raise OverrideMismatch(
            f"override is for {override.code!r}, not {code!r}; an override covers exactly one code"
        ) from error
    return OverrideRecord(
        code=code,
        approved_by=override.approved_by,
        reason=override.reason,
        at=override.at,
        fault_code=error.code,
        fault=str(error),
    )


def validate_uscc(code: str, *, allow_override: IdentifierOverride | None = None) -> UsccInfo:
    """Validate an 18-character unified social credit code (GB 32100-2015).

    Checks length, character set, the six-digit region (positions 3-8), the GB 11714
    organisation-code check (position 17) and the check character (position 18); errors name
    the position and the expected character. A failed check character is accepted only with an
    `allow_override` for this exact code, and the result then carries the `OverrideRecord`:
    there is no silent pass. Format errors (length, characters) are never overridable.
    """
    code = _normalise(code)
    if len(code) != 18:
        raise IdentifierFormatError(f"USCC must be 18 characters, got {len(code)}")
    for i, ch in enumerate(code, start=1):
        if ch not in USCC_CHARSET:
            raise IdentifierFormatError(
                f"USCC {code}: position {i} has {ch!r}, not in {USCC_CHARSET}", position=i, found=ch
            )
    for i in range(3, 9):
        if not code[i - 1].isdigit():
            raise IdentifierFormatError(
                f"USCC {code}: position {i} must be a digit (region code, positions 3-8)",
                position=i,
                found=code[i - 1],
            )
    record = None
    try:
        _uscc_checks(code)
    except CheckCharacterMismatch as exc:
        record = _apply_override(code, exc, allow_override)
    return UsccInfo(
        code=code,
        registration_authority=code[0],
        organisation_type=code[1],
        region=code[2:8],
        organisation_code=code[8:17],
        override=record,
    )


def validate_resident_id(number: str, *, today: date | None = None) -> ResidentIdInfo:
    """Validate an 18-digit resident ID number (GB 11643-1999).

    Positions 1-17 are digits, 7-14 a real birth date not after `today` (default: today, UTC),
    and position 18 the ISO 7064 MOD 11-2 check character (`0`-`9` or `X`).
    """
    number = _normalise(number)
    if len(number) != 18:
        raise IdentifierFormatError(f"resident ID number must be 18 characters, got {len(number)}")
    for i, ch in enumerate(number[:17], start=1):
        if not ch.isdigit() or not ch.isascii():
            raise IdentifierFormatError(
                f"resident ID {number}: position {i} must be a digit, got {ch!r}", position=i, found=ch
            )
    if number[17] not in _RID_CHECK:
        raise IdentifierFormatError(
            f"resident ID {number}: position 18 must be a digit or X, got {number[17]!r}",
            position=18,
            found=number[17],
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidBirthDate(
            f"resident ID {number}: positions 7-14 ({number[6:14]}) are not a valid date", position=7
        ) from None
    limit = today or datetime.now(UTC).date()
    if born > limit or born.year < 1800:
        raise InvalidBirthDate(
            f"resident ID {number}: birth date {born.isoformat()} is outside 1800-01-01..{limit.isoformat()}",
            position=7,
        )
    total = sum(int(ch) * w for ch, w in zip(number[:17], _RID_WEIGHTS, strict=True))
    expected = _RID_CHECK[total % 11]
    if number[17] != expected:
        raise CheckCharacterMismatch(
            f"resident ID {number}: position 18 (check character) is {number[17]!r}, expected {expected!r}",
            position=18,
            expected=expected,
            found=number[17],
        )
    return ResidentIdInfo(number=number, region=number[:6], birth_date=born)


def validate_identifier(code: str, *, today: date | None = None) -> UsccInfo | ResidentIdInfo:
    """Validate `code` as a resident ID number when it has that shape (17 digits, then a digit or
    X), else as a USCC. A resident-ID-shaped code that fails is still accepted if it is a valid
    USCC (a USCC can be all digits); otherwise the resident ID error is raised.
    """
    normal = _normalise(code)
    if len(normal) == 18 and normal[:17].isdigit() and normal[:17].isascii() and normal[17] in _RID_CHECK:
        try:
            return validate_resident_id(normal, today=today)
        except IdentifierError as rid_error:
            try:
                return validate_uscc(normal)
            except IdentifierError:
                raise rid_error from None
    return validate_uscc(normal)


def subject_ref(identifier: str, secret: bytes, *, suite: Suite | str = Suite.INTL) -> bytes:
    """A 32-byte keyed reference to a subject for the chain: HMAC-SHA256 (or HMAC-SM3 under `gm`).

    The same identifier (after trimming and upper-casing) and secret always give the same
    reference; without the deployment secret the reference reveals nothing about the identifier.
    """
    if len(secret) < 16:
        raise KeyFormatError("subject-reference secret must be at least 16 bytes")
    return hmac_digest(suite, secret, b"tdex/subject-ref/v1\x00" + _normalise(identifier).encode("utf-8"))
