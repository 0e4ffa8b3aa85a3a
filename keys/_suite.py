"""The crypto suites a deployment chooses between: `intl` (the default) and `gm` (商用密码)."""

from __future__ import annotations

from enum import StrEnum

from keys.errors import UnsupportedSuite

__all__ = ["Suite"]


class Suite(StrEnum):
    """A crypto suite; every signed record and every envelope names the one it was made under.

    - `intl`: Ed25519 signatures, X25519 key agreement, AES-256-GCM, SHA-256.
    - `gm`: SM2 signatures and encryption, SM3, SM4-GCM (GB/T 32918, 32905, 32907).
    """

    INTL = "intl"
    GM = "gm"

    @classmethod
    def parse(cls, value: str | Suite) -> Suite:
        """Return the suite named `value`, raising `UnsupportedSuite` for any other name."""
        try:
            return cls(value)
        except ValueError:
            raise UnsupportedSuite(f"unknown crypto suite {value!r}; expected 'intl' or 'gm'") from None
