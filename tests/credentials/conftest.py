"""Fixtures for the `credentials` tests (helpers live in `credentials_support`)."""

from __future__ import annotations

import pytest
from credentials_support import Department, make_department
from hypothesis import HealthCheck, settings

from keys import Suite

settings.register_profile(
    "credentials", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("credentials")


@pytest.fixture
def dept() -> Department:
    """An Ed25519 (eddsa-jcs-2022) issuing department."""
    return make_department()


@pytest.fixture(params=[Suite.INTL, Suite.GM], ids=["eddsa", "sm2"])
def any_dept(request: pytest.FixtureRequest) -> Department:
    """An issuing department under each suite."""
    return make_department(Suite(request.param))
