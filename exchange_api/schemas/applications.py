"""Applications for resources and the grants that answer them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from exchange_api.schemas.common import HEX32, AnchorPublic, Strict

Digest = Annotated[str, Field(pattern=r"^0x[0-9a-f]{64}$")]


class ApplicationState(StrEnum):
    """States of an application; the last five are terminal."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUSED = "refused"  # not shareable: refused at once with the catalogue's stated basis
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"  # the resource was withdrawn while the application waited


class ComputationKind(StrEnum):
    """What the applicant wants to run in the sandbox."""

    AGGREGATE = "aggregate"
    FEDERATED_TRAINING = "federated_training"
    HE_AGGREGATE = "he_aggregate"
    HE_SCORING = "he_scoring"


class ApplicationCreate(Strict):
    """An application: resource, purpose, requested items, computations, templates and duration."""

    resource_code: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=4000)
    requested_items: list[str] = Field(min_length=1, max_length=500)
    computation_kinds: list[ComputationKind] = Field(min_length=1, max_length=4)
    templates: list[Digest] = Field(
        min_length=1, max_length=8, description="Digests (0x + 64 hex) of the computation templates."
    )
    duration_days: int = Field(ge=1, le=3650)


class ApplicationApprove(Strict):
    """The provider's approval: expiry, maximum uses, privacy budget and allowed templates."""

    expires_at: dt.datetime
    max_uses: int = Field(ge=1, le=1_000_000)
    privacy_budget: Decimal = Field(ge=0, le=1000, max_digits=12, decimal_places=6)
    templates: list[Digest] | None = Field(
        default=None, min_length=1, max_length=8, description="A subset of the requested templates."
    )


class ApplicationReason(Strict):
    """A stated reason (rejection, withdrawal or revocation)."""

    reason: str = Field(min_length=1, max_length=2000)


class ApplicationWithdraw(Strict):
    """The applicant's withdrawal; the reason is optional."""

    reason: str | None = Field(default=None, max_length=2000)


class ApplicationPublic(BaseModel):
    """An application as its applicant or provider sees it."""

    id: str
    resource_code: str
    resource_version: int
    applicant_org_id: str
    provider_org_id: str
    state: ApplicationState
    terminal: bool
    purpose: str
    requested_items: list[str]
    computation_kinds: list[ComputationKind]
    templates: list[str]
    duration_days: int
    submitted_at: dt.datetime
    review_due: dt.datetime | None
    answer_due: dt.datetime | None
    overdue: bool
    reviewed_at: dt.datetime | None
    decided_at: dt.datetime | None
    reason: str | None
    grant_id: str | None
    anchor: AnchorPublic
    decision_anchor: AnchorPublic


class ApplicationPage(BaseModel):
    """One page of applications."""

    items: list[ApplicationPublic]
    next_cursor: str | None


class GrantStatus(StrEnum):
    """What a grant can do now; only `active` is usable."""

    PENDING_ANCHOR = "pending_anchor"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUSPENDED = "suspended"  # the resource was withdrawn


class GrantPublic(BaseModel):
    """A grant with its ODRL Agreement, the agreement's canonical hash and its anchors."""

    id: str
    application_id: str
    resource_code: str
    grantee_org_id: str
    provider_org_id: str
    status: GrantStatus
    usable: bool
    agreement: dict[str, Any]
    agreement_hash: str = Field(pattern=HEX32)
    expires_at: dt.datetime
    max_uses: int
    privacy_budget: str
    templates: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    anchor: AnchorPublic
    revoke_anchor: AnchorPublic


class GrantPage(BaseModel):
    """One page of grants."""

    items: list[GrantPublic]
    next_cursor: str | None
