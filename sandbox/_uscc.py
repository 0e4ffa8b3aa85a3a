"""Unified social credit codes (统一社会信用代码, GB 32100-2015): check characters for synthetic data.

A local helper until `keys` provides the project's identifier module; it computes, it does not
decide what an invalid code means (that is an audited business rule elsewhere).
"""

from __future__ import annotations

__all__ = ["USCC_CHARSET", "is_valid_uscc", "make_uscc", "org_code_check", "uscc_check_char"]

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """The 18th character of a code whose first 17 characters are given."""
    if len(first17) != 17 or any(c not in USCC_CHARSET for c in first17):
        raise ValueError("need 17 characters from the USCC character set")
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check(body8: str) -> str:
    """The GB 11714 organisation-code check character of 8 digits or capital letters."""
    if len(body8) != 8 or not all(c.isdigit() or "A" <= c <= "Z" for c in body8):
        raise ValueError("need 8 digits or capital letters")
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True)
    )
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(authority: str, kind: str, division: str, org_body: str) -> str:
    """Assemble a valid code: registration authority, entity kind, 6-digit division, 8-char org body."""
    first17 = authority + kind + division + org_body + org_code_check(org_body)
    return first17 + uscc_check_char(first17)


def is_valid_uscc(code: str) -> bool:
    """Whether `code` has 18 characters from the set and the right check character."""
    return (
        isinstance(code, str)
        and len(code) == 18
        and all(c in USCC_CHARSET for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )
