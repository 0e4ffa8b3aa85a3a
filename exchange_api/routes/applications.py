"""Applications for resources: apply, review, approve, reject, withdraw, list (overdue too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from exchange_api.problems import PROBLEM_RESPONSES
from exchange_api.routes.certificates import credit_reader_of
from exchange_api.routes.deps import Cursor, IdempotencyKey, Limit, UnitDep
from exchange_api.schemas.applications import (
    ApplicationApprove,
    ApplicationCreate,
    ApplicationPage,
    ApplicationPublic,
    ApplicationReason,
    ApplicationState,
    ApplicationWithdraw,
)
from exchange_api.services import applications

router = APIRouter(prefix="/applications", tags=["applications"], responses=PROBLEM_RESPONSES)

AppId = Annotated[str, Path(max_length=64)]


@router.post("", status_code=201, response_model=ApplicationPublic, summary="Apply for a resource")
def apply(data: ApplicationCreate, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Unconditional: granted at once; not shareable: refused with the stated basis; conditional: waits."""
    credit = credit_reader_of(unit.request.app)
    return unit.write(
        key, lambda ctx: applications.apply(ctx, data, credit), 201, lambda a: f"/applications/{a.id}"
    )


@router.get("", response_model=ApplicationPage, summary="List applications")
def list_(
    unit: UnitDep,
    as_: Annotated[str | None, Query(alias="as", pattern="^(applicant|provider)$")] = None,
    state: ApplicationState | None = None,
    overdue: bool | None = None,
    resource_code: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Response:
    """Applications the caller is a party to, newest first; `overdue=true` lists the late ones."""
    return unit.page(
        lambda ctx: applications.list_applications(
            ctx,
            as_party=as_,
            state=state.value if state else None,
            overdue=overdue,
            resource_code=resource_code,
            cursor=cursor,
            limit=limit,
        ),
        ApplicationPage,
    )


@router.get("/{app_id}", response_model=ApplicationPublic, summary="One application")
async def get(app_id: AppId, unit: UnitDep) -> Response:
    """An application, for its applicant, its provider, the bureau or an auditor."""
    return unit.show(lambda ctx: applications.get_application(ctx, app_id))


@router.post("/{app_id}/review", response_model=ApplicationPublic, summary="Take under review (provider)")
def review(app_id: AppId, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """The provider acknowledges a submitted application, meeting the review deadline."""
    return unit.write(key, lambda ctx: applications.start_review(ctx, app_id))


@router.post("/{app_id}/approve", response_model=ApplicationPublic, summary="Approve (provider)")
def approve(app_id: AppId, data: ApplicationApprove, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Approve with expiry, maximum uses, privacy budget and templates; the grant waits for its anchor."""
    return unit.write(key, lambda ctx: applications.approve(ctx, app_id, data))


@router.post("/{app_id}/reject", response_model=ApplicationPublic, summary="Reject with a reason (provider)")
def reject(app_id: AppId, data: ApplicationReason, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """Reject with a stated reason."""
    return unit.write(key, lambda ctx: applications.reject(ctx, app_id, data.reason))


@router.post("/{app_id}/withdraw", response_model=ApplicationPublic, summary="Withdraw (applicant)")
def withdraw(app_id: AppId, data: ApplicationWithdraw, unit: UnitDep, key: IdempotencyKey = None) -> Response:
    """The applicant withdraws its pending application."""
    return unit.write(key, lambda ctx: applications.withdraw(ctx, app_id, data.reason))
