"""Anchoring settings: read from the environment, refused when a production trail could not be anchored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import ledger
from exchange_api.anchoring import anchor_signer, anchorer_for, checkpoint_key, load_log_operator
from exchange_api.core.config import Settings, SettingsError
from keys import Keystore, OrgKeys

SECRET = "s" * 40
PASSPHRASE = "correct horse battery staple"
WITNESS = "auditor=http://127.0.0.1:1=auditor+01020304+AQ"


def _production(**env: str) -> dict[str, str]:
    return {"TDEX_MODE": "production", "TDEX_SECRET_KEY": SECRET, "TDEX_CHAIN_URL": "http://besu:8545", **env}


def _keystore(tmp_path: Path) -> tuple[Path, OrgKeys]:
    keys = Keystore(tmp_path / "keys", kdf_profile="fast-test").create("logop", PASSPHRASE)
    return tmp_path / "keys" / "logop", keys


def test_anchoring_settings_from_env() -> None:
    """Every anchoring variable lands in its Settings field; the passphrase and key stay out of repr."""
    settings = Settings.from_env(
        {
            "TDEX_LOG_OPERATOR_KEYSTORE": "/keys/logop",
            "TDEX_LOG_OPERATOR_PASSPHRASE": PASSPHRASE,
            "TDEX_LOG_ORIGIN": "city.example/audit",
            "TDEX_ANCHOR_ACCOUNT_KEY": "0x" + "11" * 32,
            "TDEX_ANCHOR_MAX_ENTRIES": "50",
            "TDEX_ANCHOR_MAX_DELAY_S": "2.5",
            "TDEX_ANCHOR_MIN_WITNESSES": "2",
            "TDEX_ANCHOR_INTERVAL_S": "0.5",
            "TDEX_WITNESSES": f"{WITNESS}\n  b=http://127.0.0.1:2=b+01020304+AQ",
        }
    )
    assert settings.log_operator_keystore == "/keys/logop"
    assert settings.log_origin == "city.example/audit"
    assert (settings.anchor_max_entries, settings.anchor_max_delay_s) == (50, 2.5)
    assert (settings.anchor_min_witnesses, settings.anchor_interval_s) == (2, 0.5)
    assert len(settings.witnesses) == 2 and settings.witnesses[0] == WITNESS
    assert PASSPHRASE not in repr(settings) and "11" * 32 not in repr(settings)


def test_production_chain_without_log_operator_is_refused() -> None:
    """A production exchange with a chain but no log operator keystore refuses to start, naming the fix."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(_production())
    assert caught.value.code == "config.no_log_operator"
    assert "TDEX_LOG_OPERATOR_KEYSTORE" in str(caught.value)


def test_production_with_too_few_witnesses_is_refused() -> None:
    """Fewer TDEX_WITNESSES than TDEX_ANCHOR_MIN_WITNESSES is refused, naming both variables."""
    env = _production(
        TDEX_LOG_OPERATOR_KEYSTORE="/keys/logop",
        TDEX_LOG_OPERATOR_PASSPHRASE=PASSPHRASE,
        TDEX_ANCHOR_MIN_WITNESSES="2",
        TDEX_WITNESSES=WITNESS,
    )
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.code == "config.too_few_witnesses"
    assert "TDEX_WITNESSES" in str(caught.value) and "TDEX_ANCHOR_MIN_WITNESSES" in str(caught.value)


def test_production_without_witness_quorum_is_refused() -> None:
    """Production refuses TDEX_ANCHOR_MIN_WITNESSES=0: a checkpoint only the exchange signs proves little."""
    env = _production(
        TDEX_LOG_OPERATOR_KEYSTORE="/keys/logop",
        TDEX_LOG_OPERATOR_PASSPHRASE=PASSPHRASE,
        TDEX_ANCHOR_MIN_WITNESSES="0",
    )
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.code == "config.too_few_witnesses"


def test_keystore_without_passphrase_is_refused() -> None:
    """A log operator keystore without its passphrase is refused in any mode."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TDEX_LOG_OPERATOR_KEYSTORE": "/keys/logop", "TDEX_ANCHOR_MIN_WITNESSES": "0"})
    assert caught.value.code == "config.no_log_operator"
    assert "TDEX_LOG_OPERATOR_PASSPHRASE" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TDEX_ANCHOR_MAX_ENTRIES", "0"),
        ("TDEX_ANCHOR_MAX_DELAY_S", "-1"),
        ("TDEX_ANCHOR_MAX_DELAY_S", "soon"),
    ],
)
def test_bad_thresholds_are_refused(name: str, value: str) -> None:
    """Thresholds that could never trigger (or are not numbers) are refused with the variable's name."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert caught.value.code == "config.invalid" and name in str(caught.value)


def test_production_with_log_operator_and_witnesses_starts() -> None:
    """A complete production configuration is accepted."""
    settings = Settings.from_env(
        _production(
            TDEX_LOG_OPERATOR_KEYSTORE="/keys/logop",
            TDEX_LOG_OPERATOR_PASSPHRASE=PASSPHRASE,
            TDEX_WITNESSES=WITNESS,
        )
    )
    assert settings.anchor_min_witnesses == 1 and settings.witnesses == (WITNESS,)


def test_log_operator_loads_from_its_keystore(tmp_path: Path) -> None:
    """The keystore folder opens with its passphrase; its account key anchors unless another is named."""
    folder, keys = _keystore(tmp_path)
    settings = Settings(
        log_operator_keystore=str(folder),
        log_operator_passphrase=PASSPHRASE,
        log_operator_kdf_profile="fast-test",
        anchor_min_witnesses=0,
    ).check()
    loaded = load_log_operator(settings)
    assert checkpoint_key(loaded).verify_key.public_bytes == checkpoint_key(keys).verify_key.public_bytes
    assert anchor_signer(settings, loaded).address == ledger.Signer(keys.export_account_key()).address
    other = ledger.Signer.generate()
    named = dataclasses.replace(settings, anchor_account_key="0x" + other.export_private_key().hex())
    assert anchor_signer(named, loaded).address == other.address


def test_wrong_passphrase_is_a_settings_error(tmp_path: Path) -> None:
    """A keystore that does not open is reported as a configuration error naming the folder."""
    folder, _ = _keystore(tmp_path)
    settings = Settings(
        log_operator_keystore=str(folder),
        log_operator_passphrase="wrong passphrase",
        log_operator_kdf_profile="fast-test",
        anchor_min_witnesses=0,
    )
    with pytest.raises(SettingsError) as caught:
        anchorer_for(settings, None)
    assert caught.value.code == "config.log_operator_keystore" and str(folder) in str(caught.value)


def test_anchor_account_shared_with_relay_is_refused(tmp_path: Path) -> None:
    """The anchoring account may not be one the relay signs with: their nonces would collide."""
    folder, keys = _keystore(tmp_path)
    settings = Settings(
        log_operator_keystore=str(folder),
        log_operator_passphrase=PASSPHRASE,
        log_operator_kdf_profile="fast-test",
        anchor_min_witnesses=0,
    )
    relay_account = str(ledger.Signer(keys.export_account_key()).address)
    with pytest.raises(SettingsError) as caught:
        anchor_signer(settings, keys, [relay_account.lower()])
    assert caught.value.code == "config.anchor_account"
    assert "LOG_OPERATOR" in str(caught.value)
