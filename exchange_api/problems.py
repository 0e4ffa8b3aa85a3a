"""The one module that turns errors into RFC 9457 `application/problem+json` responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from exchange_api.errors import (
    ChainError,
    Conflict,
    ExchangeError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from exchange_api.schemas.common import Problem

__all__ = ["PROBLEM_RESPONSES", "install", "problem_response", "status_of"]

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

# Most specific class first; the first match decides the status.
_STATUS: tuple[tuple[type[ExchangeError], int, str], ...] = (
    (NotAuthenticated, 401, "Not authenticated"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not found"),
    (InvalidInput, 422, "Invalid input"),
    (Conflict, 409, "Conflict"),
    (ChainError, 503, "Chain unavailable"),
)


def status_of(error: ExchangeError) -> tuple[int, str]:
    """The HTTP status and title for `error`."""
    for cls, status, title in _STATUS:
        if isinstance(error, cls):
            return status, title
    return 500, "Internal error"


def problem_response(
    status: int,
    title: str,
    code: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> JSONResponse:
    """A problem document response."""
    body = Problem(
        type=f"urn:tdex:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=errors,  # type: ignore[arg-type]
    ).model_dump(exclude_none=True)
    headers = {"WWW-Authenticate": 'Signature realm="tdex"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _exchange_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ExchangeError)
    status, title = status_of(exc)
    errors = [e.as_dict() for e in exc.errors] if isinstance(exc, InvalidInput) and exc.errors else None
    return problem_response(status, title, exc.code, exc.detail, request.url.path, errors)


def _loc(parts: tuple[Any, ...]) -> str:
    # FastAPI prefixes the location with where it came from (body, query, path, header).
    return "/" + "/".join(str(p) for p in parts)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": _loc(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in exc.errors()]
    return problem_response(
        422,
        "Invalid input",
        "exchange.invalid_input",
        f"{len(errors)} field(s) rejected",
        request.url.path,
        errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "exchange.not_found", 405: "exchange.method_not_allowed", 400: "exchange.bad_request"}
    code = codes.get(exc.status_code, f"http.{exc.status_code}")
    return problem_response(exc.status_code, str(exc.detail), code, str(exc.detail), request.url.path)


async def _integrity(request: Request, exc: Exception) -> Response:
    # A unique constraint lost a race the service's own check could not see (two requests at once).
    return problem_response(
        409,
        "Conflict",
        "exchange.conflict",
        "a concurrent change conflicts with this request",
        request.url.path,
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        500, "Internal error", "exchange.internal", "an unexpected error occurred", request.url.path
    )


def install(app: FastAPI) -> None:
    """Register the problem handlers on `app`."""
    app.add_exception_handler(ExchangeError, _exchange_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _unexpected)


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {MEDIA_TYPE: {}}}


# OpenAPI `responses` shared by every signed operation.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("Unsigned, expired, replayed or forged request"),
    403: _problem("The caller's role or ownership does not allow it"),
    404: _problem("No such object, or not visible to the caller"),
    409: _problem("Conflicts with the current state"),
    422: _problem("Invalid input"),
}
