"""Settings from the environment, start-up refusals, and working-day deadlines."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from exchange_api.core.config import DEV_SECRET, Settings, SettingsError
from exchange_api.services.deadlines import LOCAL, add_working_days
from tdex.commands.serve import app as serve_app


def test_development_defaults() -> None:
    """With an empty environment the service runs in development on a SQLite file under ./var."""
    settings = Settings.from_env({})
    assert settings.is_development
    assert settings.database_url == "sqlite:///./var/exchange.db"
    assert settings.secret_key == DEV_SECRET


def test_production_refuses_the_default_secret() -> None:
    """Outside development the default secret, or a short one, stops the start."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TDEX_MODE": "production"})
    assert caught.value.code == "config.invalid" and "TDEX_SECRET_KEY" in caught.value.detail
    with pytest.raises(SettingsError):
        Settings.from_env({"TDEX_MODE": "production", "TDEX_SECRET_KEY": "short"})
    good = Settings.from_env({"TDEX_MODE": "production", "TDEX_SECRET_KEY": "x" * 40})
    assert not good.is_development


def test_bad_values_are_named() -> None:
    """A malformed number, date or mode names the variable."""
    for env, name in [
        ({"TDEX_SIGNATURE_WINDOW_S": "soon"}, "TDEX_SIGNATURE_WINDOW_S"),
        ({"TDEX_HOLIDAYS": "2025-13-01"}, "TDEX_HOLIDAYS"),
        ({"TDEX_MODE": "staging"}, "TDEX_MODE"),
    ]:
        with pytest.raises(SettingsError) as caught:
            Settings.from_env(env)
        assert name in caught.value.detail


def test_serve_refuses_unsafe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tdex serve` exits with status 2 and the reason instead of starting unsafely."""
    monkeypatch.setenv("TDEX_MODE", "production")
    monkeypatch.delenv("TDEX_SECRET_KEY", raising=False)
    result = CliRunner().invoke(serve_app, [])
    assert result.exit_code == 2
    assert "refusing to start" in result.output


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=LOCAL)


def test_working_days_skip_weekends_and_holidays() -> None:
    """Deadlines count working days after the submission day, skipping weekends and holidays."""
    friday = _at("2025-09-26")
    due = add_working_days(friday, 2).astimezone(LOCAL)
    assert due.date() == dt.date(2025, 9, 30) and due.hour == 23  # Mon 29, Tue 30
    national_day = {dt.date(2025, 10, d) for d in range(1, 9)}
    due = add_working_days(_at("2025-09-30"), 1, holidays=national_day).astimezone(LOCAL)
    assert due.date() == dt.date(2025, 10, 9)
    makeup = {dt.date(2025, 9, 28)}  # a Sunday worked (调休)
    assert add_working_days(friday, 1, workdays=makeup).astimezone(LOCAL).date() == dt.date(2025, 9, 28)
    with pytest.raises(ValueError, match="at least one"):
        add_working_days(friday, 0)
