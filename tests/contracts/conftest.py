"""Fixtures for the contract tests: a fresh in-process chain with a small cast of members.

Test modules import helpers from `_contract_chain`, never from this file: every test folder has a
`conftest` module and only one of them can be `import conftest` at a time.
"""

from __future__ import annotations

import pytest
from _contract_chain import Cast, Chain, admit_cast, deploy


@pytest.fixture
def chain() -> Chain:
    """Two bootstrap admins (the first with LOG_OPERATOR), threshold two, nobody else admitted."""
    return deploy(admin_count=2, threshold=2)


@pytest.fixture
def cast(chain: Chain) -> Cast:
    """The chain with two departments, a bank and an auditor admitted by vote."""
    return admit_cast(chain)
