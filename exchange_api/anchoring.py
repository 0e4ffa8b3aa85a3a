"""Builds the exchange's own audit anchorer from its settings: log operator, witnesses, chain account.

The pieces come from three places: the log operator's keystore (its Ed25519 signing key signs
checkpoints, its account key anchors them unless ``TDEX_ANCHOR_ACCOUNT_KEY`` names another), the
witnesses of ``TDEX_WITNESSES`` (cosigning over HTTP), and the deployment's AuditAnchor contract.
The anchorer itself is made in the app's lifespan, after the migrations, because it records the
log's origin in the store (:class:`AnchorerFactory`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

import ledger
from exchange_api.audit._anchoring import Anchorer, AnchorPolicy, LedgerAnchorTarget
from exchange_api.audit._checkpoints import LogOperator, WitnessClient
from exchange_api.audit._log import AuditLog
from exchange_api.audit._store import log_origin
from exchange_api.core.config import Settings, SettingsError
from exchange_api.core.db import session_scope
from keys import Ed25519SigningKey, Keystore, OrgKeys
from keys.errors import KeysError

__all__ = [
    "AnchorerFactory",
    "anchor_policy",
    "anchor_signer",
    "anchorer_factory",
    "anchorer_for",
    "checkpoint_key",
    "load_log_operator",
    "settings_witnesses",
]

#: Makes the anchorer over the app's session factory (called once the store is migrated).
AnchorerFactory = Callable[[sessionmaker[Session]], Anchorer]


def load_log_operator(settings: Settings) -> OrgKeys:
    """The log operator's keys from ``TDEX_LOG_OPERATOR_KEYSTORE`` (a ``tdex keys init`` folder)."""
    folder = Path(settings.log_operator_keystore)
    try:
        # A keystore folder is <root>/<org>, as `tdex keys init --dir <root> --org <org>` makes it.
        return Keystore(folder.parent, kdf_profile=settings.log_operator_kdf_profile).load(
            folder.name, settings.log_operator_passphrase
        )
    except KeysError as error:
        raise SettingsError(
            f"TDEX_LOG_OPERATOR_KEYSTORE {str(folder)!r} does not open: [{error.code}] {error}",
            code="config.log_operator_keystore",
        ) from None


def checkpoint_key(keys: OrgKeys) -> Ed25519SigningKey:
    """The operator's checkpoint key: C2SP signed notes are Ed25519 (note type 0x01)."""
    if not isinstance(keys.signer, Ed25519SigningKey):
        raise SettingsError(
            "the log operator's signing key must be Ed25519 (C2SP checkpoint notes); make its keystore "
            "with `tdex keys init --suite intl`",
            code="config.log_operator_keystore",
        )
    return keys.signer


def anchor_signer(settings: Settings, keys: OrgKeys, relay_accounts: Collection[str] = ()) -> ledger.Signer:
    """The anchoring account: ``TDEX_ANCHOR_ACCOUNT_KEY``, else the log operator's account key.

    Refuses an account the relay also signs with: two senders picking nonces for one account
    replace each other's transactions.
    """
    try:
        signer = ledger.Signer(settings.anchor_account_key or keys.export_account_key())
    except (ValueError, ledger.LedgerError) as error:
        raise SettingsError(
            f"TDEX_ANCHOR_ACCOUNT_KEY is not a usable account key: {error}", code="config.anchor_account"
        ) from None
    if str(signer.address).lower() in {a.lower() for a in relay_accounts}:
        raise SettingsError(
            f"the anchoring account {signer.address} is also one the relay signs with (TDEX_ACCOUNT_KEYS): "
            "give the log operator a chain account of its own with the LOG_OPERATOR capability",
            code="config.anchor_account",
        )
    return signer


def anchor_policy(settings: Settings) -> AnchorPolicy:
    """The thresholds of ``TDEX_ANCHOR_MAX_ENTRIES``, ``_MAX_DELAY_S`` and ``_MIN_WITNESSES``."""
    return AnchorPolicy(
        max_entries=settings.anchor_max_entries,
        max_delay_s=settings.anchor_max_delay_s,
        min_witnesses=settings.anchor_min_witnesses,
    )


def settings_witnesses(settings: Settings) -> list[WitnessClient]:
    """The witnesses of ``TDEX_WITNESSES``, reached over HTTP (C2SP tlog-witness)."""
    if not settings.witnesses:
        return []
    from exchange_api.audit import parse_witnesses
    from exchange_api.audit.errors import WitnessConfigInvalid

    try:
        witnesses: list[WitnessClient] = list(parse_witnesses(" ".join(settings.witnesses)))
    except WitnessConfigInvalid as error:
        raise SettingsError(f"TDEX_WITNESSES: {error}", code="config.witnesses") from None
    return witnesses


def anchorer_factory(
    settings: Settings,
    *,
    operator_key: Ed25519SigningKey,
    witnesses: Sequence[WitnessClient],
    anchor: ledger.AuditAnchor | None,
    signer: ledger.Signer | None,
    clock: Callable[[], dt.datetime] | None = None,
) -> AnchorerFactory:
    """An :data:`AnchorerFactory` with the settings' origin, policy and tick interval.

    Without ``anchor`` (no chain) checkpoints are signed and cosigned but stay pending.
    """

    def build(sessions: sessionmaker[Session]) -> Anchorer:
        log = AuditLog(sessions)
        origin = settings.log_origin
        if not origin:
            with session_scope(sessions) as session:
                origin = log_origin(session)
        target = LedgerAnchorTarget(anchor, signer) if anchor is not None and signer is not None else None
        return Anchorer(
            log,
            LogOperator(origin, operator_key),
            witnesses,
            target,
            anchor_policy(settings),
            interval_s=settings.anchor_interval_s,
            **({"clock": clock} if clock is not None else {}),
        )

    return build


def anchorer_for(
    settings: Settings,
    deployment: ledger.Deployment | None,
    relay_accounts: Collection[str] = (),
    *,
    witnesses: Sequence[WitnessClient] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> AnchorerFactory | None:
    """The factory the settings describe, or None when no log operator keystore is configured.

    ``witnesses`` replaces those of ``TDEX_WITNESSES`` (in-process witnesses for tests and the demo).
    """
    if not settings.log_operator_keystore:
        return None
    keys = load_log_operator(settings)
    signer = anchor_signer(settings, keys, relay_accounts) if deployment is not None else None
    return anchorer_factory(
        settings,
        operator_key=checkpoint_key(keys),
        witnesses=settings_witnesses(settings) if witnesses is None else witnesses,
        anchor=deployment.anchor if deployment is not None else None,
        signer=signer,
        clock=clock,
    )
