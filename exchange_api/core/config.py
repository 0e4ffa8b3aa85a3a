"""The one place the exchange service reads its settings from the environment."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from exchange_api.errors import ExchangeError

__all__ = ["DEV_SECRET", "Settings", "SettingsError"]

# The development default; any other mode refuses to start while it is in force.
DEV_SECRET = "tdex-development-secret-do-not-use"  # noqa: S105 - the refused default


class SettingsError(ExchangeError):
    """Raised when the environment gives an unusable or unsafe configuration."""

    code = "config.invalid"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _dates(env: Mapping[str, str], name: str) -> frozenset[dt.date]:
    raw = env.get(name, "")
    out: set[dt.date] = set()
    for part in raw.split(","):
        if part.strip():
            try:
                out.add(dt.date.fromisoformat(part.strip()))
            except ValueError:
                raise SettingsError(f"{name} must list ISO dates separated by commas, got {part!r}") from None
    return frozenset(out)


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to start, passed down explicitly from here."""

    mode: str = "development"
    database_url: str = "sqlite:///./var/exchange.db"
    secret_key: str = DEV_SECRET
    # Request signatures older (or further in the future) than this are refused as expired.
    signature_window_s: int = 300
    # Working-day limits on a pending application (REFERENCES.md: a provincial example).
    review_working_days: int = 2
    answer_working_days_published: int = 5
    answer_working_days_unpublished: int = 10
    # Limits of a grant issued at once for an unconditional share. They must equal what the
    # AccessGrants contract gives such a grant (DEFAULT_MAX_USES, DEFAULT_PRIVACY_BUDGET = 10 ε,
    # a term of at most 366 days), or the Agreement and the chain would disagree.
    unconditional_max_days: int = 365
    default_max_uses: int = 1_000_000
    default_privacy_budget: str = "10"
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    # Extra working days (调休 Saturdays or Sundays worked).
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    chain_url: str = ""
    relay_interval_s: float = 1.0
    sync_interval_s: float = 5.0
    bureau_name: str = ""
    bureau_uscc: str = ""
    bureau_public_key: str = ""
    page_size_max: int = 100

    @property
    def is_development(self) -> bool:
        """Whether the service runs in development mode (test and demo included)."""
        return self.mode in {"development", "test"}

    def check(self) -> Settings:
        """Return self, or raise `SettingsError` when the settings are unsafe for the mode."""
        if self.mode not in {"development", "test", "production"}:
            raise SettingsError(f"TDEX_MODE must be development, test or production, got {self.mode!r}")
        if not self.is_development:
            if self.secret_key == DEV_SECRET:
                raise SettingsError("TDEX_SECRET_KEY still has the development default; set a real secret")
            if len(self.secret_key) < 32:
                raise SettingsError("TDEX_SECRET_KEY must be at least 32 characters outside development")
        if self.signature_window_s <= 0:
            raise SettingsError("TDEX_SIGNATURE_WINDOW_S must be positive")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment) and check them."""
        e = os.environ if env is None else env
        return cls(
            mode=e.get("TDEX_MODE", "development"),
            database_url=e.get("DATABASE_URL", "sqlite:///./var/exchange.db"),
            secret_key=e.get("TDEX_SECRET_KEY", DEV_SECRET),
            signature_window_s=_int(e, "TDEX_SIGNATURE_WINDOW_S", 300),
            review_working_days=_int(e, "TDEX_REVIEW_WORKING_DAYS", 2),
            answer_working_days_published=_int(e, "TDEX_ANSWER_WORKING_DAYS_PUBLISHED", 5),
            answer_working_days_unpublished=_int(e, "TDEX_ANSWER_WORKING_DAYS_UNPUBLISHED", 10),
            unconditional_max_days=_int(e, "TDEX_UNCONDITIONAL_MAX_DAYS", 365),
            default_max_uses=_int(e, "TDEX_DEFAULT_MAX_USES", 1_000_000),
            default_privacy_budget=e.get("TDEX_DEFAULT_PRIVACY_BUDGET", "10"),
            holidays=_dates(e, "TDEX_HOLIDAYS"),
            workdays=_dates(e, "TDEX_WORKDAYS"),
            chain_url=e.get("TDEX_CHAIN_URL", ""),
            relay_interval_s=float(e.get("TDEX_RELAY_INTERVAL_S", "1.0")),
            sync_interval_s=float(e.get("TDEX_SYNC_INTERVAL_S", "5.0")),
            bureau_name=e.get("TDEX_BUREAU_NAME", ""),
            bureau_uscc=e.get("TDEX_BUREAU_USCC", ""),
            bureau_public_key=e.get("TDEX_BUREAU_PUBLIC_KEY", ""),
        ).check()
