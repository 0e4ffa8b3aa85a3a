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


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


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
    # Department nodes (前置机) probed by /metrics and `tdex doctor`: base URLs, comma-separated.
    node_urls: tuple[str, ...] = ()
    # The audit log's operator: the keystore folder of the organisation whose Ed25519 signing key
    # signs checkpoints (`tdex keys init --dir D --org O` makes D/O) and its passphrase. Without a
    # keystore the service logs but never signs or anchors checkpoints.
    log_operator_keystore: str = ""
    log_operator_passphrase: str = field(default="", repr=False)
    # The keystore's minimum KDF strength; not read from the environment (tests pass "fast-test").
    log_operator_kdf_profile: str = "moderate"
    # The log's origin (checkpoint first line); empty keeps the store's (`tdex.exchange/audit`).
    log_origin: str = ""
    # Hex private key of the chain account that anchors checkpoints (LOG_OPERATOR capability);
    # empty means the log operator keystore's own account key. Never the relay's account: the two
    # would compete for nonces.
    anchor_account_key: str = field(default="", repr=False)
    anchor_max_entries: int = 1000
    anchor_max_delay_s: float = 60.0
    anchor_min_witnesses: int = 1
    anchor_interval_s: float = 1.0
    # Witnesses asked to cosign each checkpoint: `name=url=vkey` entries (parsed by
    # `exchange_api.audit.parse_witnesses` when the anchorer is built).
    witnesses: tuple[str, ...] = ()

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
        self._check_anchoring()
        return self

    def _check_anchoring(self) -> None:
        if self.anchor_max_entries < 1:
            raise SettingsError("TDEX_ANCHOR_MAX_ENTRIES must be at least 1")
        if self.anchor_max_delay_s <= 0 or self.anchor_interval_s <= 0:
            raise SettingsError("TDEX_ANCHOR_MAX_DELAY_S and TDEX_ANCHOR_INTERVAL_S must be positive")
        if self.anchor_min_witnesses < 0:
            raise SettingsError("TDEX_ANCHOR_MIN_WITNESSES must not be negative")
        if not self.is_development and self.chain_url:
            # In production the trail is only trustworthy once checkpoints are signed, cosigned by
            # someone other than the exchange, and anchored: refuse to run a chain without that.
            if not self.log_operator_keystore:
                raise SettingsError(
                    "a production exchange with TDEX_CHAIN_URL must sign and anchor its audit log: set "
                    "TDEX_LOG_OPERATOR_KEYSTORE (the log operator's keystore folder) and "
                    "TDEX_LOG_OPERATOR_PASSPHRASE",
                    code="config.no_log_operator",
                )
            if self.anchor_min_witnesses < 1:
                raise SettingsError(
                    "TDEX_ANCHOR_MIN_WITNESSES must be at least 1 in production (a checkpoint only the "
                    "exchange signed proves nothing to an auditor)",
                    code="config.too_few_witnesses",
                )
        if self.log_operator_keystore:
            if not self.log_operator_passphrase:
                raise SettingsError(
                    "TDEX_LOG_OPERATOR_KEYSTORE is set but TDEX_LOG_OPERATOR_PASSPHRASE is not: set the "
                    "keystore's passphrase",
                    code="config.no_log_operator",
                )
            # Outside production the witnesses may be in-process ones handed to the app directly.
            if not self.is_development and len(self.witnesses) < self.anchor_min_witnesses:
                raise SettingsError(
                    f"TDEX_WITNESSES names {len(self.witnesses)} witness(es) but TDEX_ANCHOR_MIN_WITNESSES "
                    f"is {self.anchor_min_witnesses}: add `name=url=vkey` entries to TDEX_WITNESSES "
                    "(or lower TDEX_ANCHOR_MIN_WITNESSES outside production)",
                    code="config.too_few_witnesses",
                )

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
            node_urls=tuple(
                u.strip().rstrip("/") for u in e.get("TDEX_NODE_URLS", "").split(",") if u.strip()
            ),
            log_operator_keystore=e.get("TDEX_LOG_OPERATOR_KEYSTORE", ""),
            log_operator_passphrase=e.get("TDEX_LOG_OPERATOR_PASSPHRASE", ""),
            log_origin=e.get("TDEX_LOG_ORIGIN", ""),
            anchor_account_key=e.get("TDEX_ANCHOR_ACCOUNT_KEY", ""),
            anchor_max_entries=_int(e, "TDEX_ANCHOR_MAX_ENTRIES", 1000),
            anchor_max_delay_s=_float(e, "TDEX_ANCHOR_MAX_DELAY_S", 60.0),
            anchor_min_witnesses=_int(e, "TDEX_ANCHOR_MIN_WITNESSES", 1),
            anchor_interval_s=_float(e, "TDEX_ANCHOR_INTERVAL_S", 1.0),
            witnesses=tuple(e.get("TDEX_WITNESSES", "").split()),
        ).check()
