"""Python mirrors of the contracts' Solidity enums (same order, so the values match the ABI's uint8).

Values decoded from calls, events and errors whose ABI ``internalType`` names one of these enums
come back as members of it; a test checks each against the interface sources.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = [
    "ApplicationStatus",
    "Capability",
    "GrantStatus",
    "MemberStatus",
    "OpenType",
    "ProposalKind",
    "ProposalStatus",
    "Role",
    "ShareType",
]


class Role(IntEnum):
    """A member's role in the Consortium."""

    NONE = 0
    ADMIN = 1
    DEPARTMENT = 2
    ENTERPRISE = 3
    AUDITOR = 4


class MemberStatus(IntEnum):
    """Where a member stands."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class ProposalKind(IntEnum):
    """What a governance proposal would do."""

    ADMIT = 0
    SUSPEND = 1
    REINSTATE = 2
    REMOVE = 3
    CHANGE_ROLE = 4
    SET_THRESHOLD = 5


class ProposalStatus(IntEnum):
    """A proposal's state; EXPIRED is reported for an OPEN proposal past its deadline."""

    NONE = 0
    OPEN = 1
    EXECUTED = 2
    CANCELLED = 3
    EXPIRED = 4


class ShareType(IntEnum):
    """共享类型: unconditional / conditional / not shareable."""

    UNCONDITIONAL = 0
    CONDITIONAL = 1
    NOT_SHAREABLE = 2


class OpenType(IntEnum):
    """开放类型: open / open on application / not open."""

    OPEN = 0
    ON_APPLICATION = 1
    NOT_OPEN = 2


class ApplicationStatus(IntEnum):
    """Where an application for a resource stands."""

    NONE = 0
    PENDING = 1
    GRANTED = 2
    REJECTED = 3
    WITHDRAWN = 4


class GrantStatus(IntEnum):
    """Whether a grant is active or revoked (expiry and exhaustion are computed, not stored)."""

    NONE = 0
    ACTIVE = 1
    REVOKED = 2


class Capability(IntFlag):
    """Consortium capability bits; combine with ``|``."""

    NONE = 0
    CREDIT_RECORDER = 1
    CERT_ISSUER = 2
    LOG_OPERATOR = 4
    WITNESS = 8
