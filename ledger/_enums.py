"""Python mirrors of the contracts' Solidity enums (same order, so values match the ABI's uint8)."""

from __future__ import annotations

__all__: list[str] = []
