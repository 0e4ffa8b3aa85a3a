"""Fixtures for the contract tests: a fresh in-process chain with a small cast of members."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from _contract_chain import Chain, Role, deploy


@dataclass
class Cast:
    """The deployed chain and the accounts of the members admitted on it."""

    chain: Chain
    bureau: str
    admin2: str
    dept: str
    dept2: str
    bank: str
    auditor: str
    outsider: str


@pytest.fixture
def chain() -> Chain:
    """Two bootstrap admins (the first with LOG_OPERATOR), threshold two, nobody else admitted."""
    return deploy(admin_count=2, threshold=2)


@pytest.fixture
def cast(chain: Chain) -> Cast:
    """The chain with two departments, a bank and an auditor admitted by vote."""
    dept, dept2, bank, auditor, outsider = chain.others[:5]
    chain.admit("dept", dept, Role.DEPARTMENT)
    chain.admit("dept2", dept2, Role.DEPARTMENT)
    chain.admit("bank", bank, Role.ENTERPRISE)
    chain.admit("auditor", auditor, Role.AUDITOR)
    return Cast(chain, chain.admins[0], chain.admins[1], dept, dept2, bank, auditor, outsider)
