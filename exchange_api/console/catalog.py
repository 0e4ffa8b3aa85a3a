"""The catalogue pages: search with filters, an entry with its versions, and applying for it."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from exchange_api.console._auth import ConsoleUser
from exchange_api.console._pages import (
    ConsoleRoute,
    UserDep,
    call,
    check_csrf,
    field_errors,
    redirect,
    render,
)
from exchange_api.errors import InvalidInput
from exchange_api.routes.certificates import credit_reader_of
from exchange_api.schemas.applications import ApplicationCreate, ComputationKind
from exchange_api.schemas.catalog import DataGrade, ResourcePublic, ShareType, UpdateCycle
from exchange_api.services import applications, catalog
from sandbox import default_registry

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 20
# Who may apply, as `services.applications.apply` allows it.
APPLICANT_ROLES = ("ENTERPRISE", "DEPARTMENT")


@cache
def template_choices() -> tuple[tuple[str, str, str], ...]:
    """The built-in sandbox templates as (digest as applications name it, name, description)."""
    # An application names templates as 0x-prefixed hex; the registry's digests are "sha256:<hex>".
    return tuple(
        ("0x" + t.digest.partition(":")[2], f"{t.name}@{t.version}", t.description)
        for t in default_registry()
    )


@router.get("/catalog", name="console.catalog")
def search(
    request: Request,
    user: UserDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    share_type: Annotated[ShareType | None, Query()] = None,
    data_grade: Annotated[DataGrade | None, Query()] = None,
    classification: Annotated[str | None, Query(pattern=r"^[0-9A-Z]{0,18}$")] = None,
    update_cycle: Annotated[UpdateCycle | None, Query()] = None,
    status: Annotated[str, Query(pattern="^(active|withdrawn|any)$")] = "active",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    # An empty form field arrives as "": it means "any", as an absent one does.
    filters = catalog.SearchFilters(
        provider=provider or None,
        share_type=share_type.value if share_type else None,
        data_grade=data_grade.value if data_grade else None,
        classification=classification or None,
        update_cycle=update_cycle.value if update_cycle else None,
        status=None if status == "any" else status,
    )
    items, next_cursor = call(
        request, user, lambda ctx: catalog.search(ctx, q or None, filters, cursor or None, PAGE_SIZE)
    )
    query = {
        "q": q or "",
        "provider": provider or "",
        "share_type": share_type.value if share_type else "",
        "data_grade": data_grade.value if data_grade else "",
        "classification": classification or "",
        "update_cycle": update_cycle.value if update_cycle else "",
        "status": status,
    }
    next_url = None
    if next_cursor:
        kept = {k: v for k, v in query.items() if v}
        next_url = "/console/catalog?" + urlencode({**kept, "cursor": next_cursor})
    return render(
        request,
        "catalog.html",
        user=user,
        items=items,
        query=query,
        next_url=next_url,
        share_types=[s.value for s in ShareType],
        data_grades=[g.value for g in DataGrade],
        update_cycles=[c.value for c in UpdateCycle],
    )


_BLANK_FORM: dict[str, Any] = {
    "purpose": "",
    "duration_days": "90",
    "items": [],
    "kinds": [],
    "templates": [],
    "other_templates": "",
}


def _can_apply(user: ConsoleUser, resource: ResourcePublic) -> str | None:
    """Why `user` cannot apply for `resource` (a message key), or None when the form is shown."""
    if resource.status != "active":
        return "catalog.cannot.withdrawn"
    if resource.share_type == ShareType.NOT_SHAREABLE:
        return "catalog.cannot.not_shareable"
    if user.role not in APPLICANT_ROLES:
        return "catalog.cannot.role"
    if resource.provider.id == user.org_id:
        return "catalog.cannot.own"
    return None


def _detail(
    request: Request,
    user: UserDep,
    code: str,
    *,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response:
    resource, versions = call(
        request, user, lambda ctx: (catalog.get_resource(ctx, code), catalog.list_versions(ctx, code))
    )
    return render(
        request,
        "catalog_detail.html",
        status_code=status_code,
        user=user,
        resource=resource,
        versions=list(reversed(versions)),
        cannot=_can_apply(user, resource),
        form=form or _BLANK_FORM,
        errors=errors or [],
        templates=template_choices(),
        kinds=[k.value for k in ComputationKind],
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.post("/catalog/{code:path}/apply")
async def apply(request: Request, code: str, user: UserDep) -> Response:
    fields = await check_csrf(request, user)
    form = await request.form()
    chosen = {
        "purpose": fields.get("purpose", "").strip(),
        "duration_days": fields.get("duration_days", "").strip(),
        "items": [v for v in form.getlist("requested_items") if isinstance(v, str)],
        "kinds": [v for v in form.getlist("computation_kinds") if isinstance(v, str)],
        "templates": [v for v in form.getlist("templates") if isinstance(v, str)],
        "other_templates": fields.get("other_templates", ""),
    }
    try:
        data = ApplicationCreate.model_validate(
            {
                "resource_code": code,
                "purpose": chosen["purpose"],
                "requested_items": chosen["items"],
                "computation_kinds": chosen["kinds"],
                "templates": [*chosen["templates"], *_lines(str(chosen["other_templates"]))],
                "duration_days": chosen["duration_days"],
            }
        )
    except ValidationError as exc:
        errors = field_errors(request, exc.errors())
        return _detail(request, user, code, status_code=422, form=chosen, errors=errors)
    credit = credit_reader_of(request.app)
    try:
        call(request, user, lambda ctx: applications.apply(ctx, data, credit))
    except InvalidInput as exc:
        errors = [e.as_dict() for e in exc.errors] or [{"loc": "", "message": exc.detail}]
        return _detail(request, user, code, status_code=422, form=chosen, errors=errors)
    # The workspace shows the application's state, including an immediate refusal and its reason.
    return redirect("/console/workspace", notice="applied")


@router.get("/catalog/{code:path}", name="console.catalog_entry")
def entry(request: Request, code: str, user: UserDep) -> Response:
    return _detail(request, user, code)
