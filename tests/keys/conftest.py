"""Shared fixtures for the `keys` tests: both suites, a cheap-KDF keystore, fixed times."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from keys import Keystore, Suite

settings.register_profile(
    "keys", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("keys")


@pytest.fixture(params=[Suite.INTL, Suite.GM], ids=["intl", "gm"])
def suite(request: pytest.FixtureRequest) -> Suite:
    """Each behaviour test runs once per crypto suite."""
    return Suite(request.param)


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    """A keystore under a temporary root with the cheap test-only KDF profile."""
    return Keystore(tmp_path / "keys", kdf_profile="fast-test")
