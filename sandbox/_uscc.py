"""Unified social credit codes (统一社会信用代码, GB 32100-2015) for synthetic data.

The check characters come from `keys`, the project's one identifier module; this module only
assembles codes for generated data sets. It computes, it does not decide what an invalid code
means (that is an audited business rule in the exchange).
"""

from __future__ import annotations

from keys import org_code_check, uscc_check_char
from keys._identifiers import USCC_CHARSET

__all__ = ["USCC_CHARSET", "is_valid_uscc", "make_uscc", "org_code_check", "uscc_check_char"]


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
