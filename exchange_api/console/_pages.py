"""What every console page module uses: rendering, the signed-in user, service calls, errors.

A page module defines ``router = APIRouter(route_class=ConsoleRoute)`` and handlers such as::

    @router.get("/inbox")
    def inbox(request: Request, user: UserDep) -> Response:
        rows = call(request, user, lambda ctx: applications.list_for_provider(ctx, ...))
        return render(request, "inbox.html", user=user, rows=rows)

Errors never reach the browser as stack traces: `ConsoleRoute` renders the exchange's problem
details (title, detail, stable code, field errors) as a page in the user's language, and sends a
browser that is not signed in to the sign-in page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from exchange_api import problems
from exchange_api.console import _charts
from exchange_api.console._auth import ConsoleUser, session_user
from exchange_api.console._i18n import LANGUAGE_COOKIE, LANGUAGES, Translator, language_of
from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from exchange_api.errors import ExchangeError, Forbidden, InvalidInput
from exchange_api.logs import safe_request_id
from exchange_api.services.context import Ctx

__all__ = [
    "SESSION_COOKIE",
    "ConsoleRoute",
    "NotSignedIn",
    "UserDep",
    "call",
    "check_csrf",
    "field_errors",
    "redirect",
    "render",
    "require_role",
]

T = TypeVar("T")
log = logging.getLogger(__name__)
SESSION_COOKIE = "tdex_console"
_TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,  # a misspelt variable fails the page's test, not silently blank
    auto_reload=False,  # templates ship with the package; no stat() of every file per page
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(bar_chart=_charts.bar_chart, line_chart=_charts.line_chart, LANGUAGES=LANGUAGES)


def _datetime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    # Shown in the city's time (UTC+8), which is what deadlines and working hours are counted in.
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime(fmt)


_env.filters["when"] = _datetime


class NotSignedIn(Exception):
    """Raised by `UserDep` when the browser has no live session."""


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """`template` rendered in the request's language; `t`, `lang`, `request` and `user` are provided."""
    lang = language_of(request)
    context.setdefault("user", getattr(request.state, "console_user", None))
    notice = request.query_params.get("notice", "")
    t = Translator(lang)
    html = _env.get_template(template).render(
        request=request,
        t=t,
        lang=lang,
        notice=notice if notice and t.has(f"notice.{notice}") else "",
        url_with_lang=lambda code: _with_query(request, lang=code),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/console")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_query(request: Request, **changes: str) -> str:
    params = dict(request.query_params)
    params.update(changes)
    return f"{request.url.path}?{urlencode(params)}"


def redirect(path: str, *, notice: str | None = None) -> RedirectResponse:
    """A 303 to `path` after a form post, with a notice key shown on the next page."""
    if notice:
        path += ("&" if "?" in path else "?") + urlencode({"notice": notice})
    return RedirectResponse(path, status_code=303)


async def _current_user(request: Request) -> ConsoleUser:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with session_scope(sessions) as session:
        user = session_user(session, request.cookies.get(SESSION_COOKIE), request.app.state.clock())
    if user is None:
        raise NotSignedIn
    request.state.console_user = user
    return user


UserDep = Annotated[ConsoleUser, Depends(_current_user)]


def require_role(user: ConsoleUser, *roles: str) -> None:
    """Refuse (403, rendered) unless the signed-in organisation has one of `roles`."""
    if user.role not in roles:
        raise Forbidden(
            f"this page is for {' / '.join(roles)} organisations; yours is {user.role}",
            code="console.wrong_role",
        )


async def check_csrf(request: Request, user: ConsoleUser) -> dict[str, str]:
    """The posted form's fields, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if fields.get("csrf") != user.csrf_token:
        raise Forbidden(
            "the form is stale or did not come from this console; reload the page", code="console.csrf"
        )
    return fields


def call(request: Request, user: ConsoleUser | None, fn: Callable[[Ctx], T]) -> T:
    """Run service call `fn` in one transaction, as the signed-in organisation (or the system)."""
    from exchange_api.services.context import SYSTEM

    settings: Settings = request.app.state.settings
    actor = user.actor if user is not None else SYSTEM
    with session_scope(request.app.state.sessions) as session:
        return fn(Ctx(session, settings, actor, request.app.state.clock))


def field_errors(request: Request, errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's field errors as the page shows them: ``loc`` and a message in the page's language.

    Common error types have a message of their own (``validation.<type>`` in
    ``messages/validation.*.json``, filled from the error's context, e.g. ``min_length``); any other
    keeps pydantic's English text rather than showing nothing.
    """
    t = Translator(language_of(request))
    shown = []
    for error in errors:
        message = str(error.get("msg", ""))
        key = f"validation.{error.get('type', '')}"
        if t.has(key):
            with contextlib.suppress(KeyError, IndexError, ValueError):
                message = t(key, **dict(error.get("ctx") or {}))
        shown.append({"loc": "/".join(str(p) for p in error.get("loc", ())), "message": message})
    return shown


def _problem_page(request: Request, status: int, title: str, code: str, detail: str, errors: Any) -> Response:
    return render(
        request,
        "error.html",
        status_code=status,
        problem={"status": status, "title": title, "code": code, "detail": detail, "errors": errors or []},
        request_id=safe_request_id(request.headers.get("x-request-id")) or "",
    )


class ConsoleRoute(APIRoute):
    """A route whose errors become readable pages and whose anonymous visitors go to sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except NotSignedIn:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/console/sign-in?next={quote(target, safe='')}", status_code=303)
            except ExchangeError as exc:
                status, title = problems.status_of(exc)
                errors = [e.as_dict() for e in exc.errors] if isinstance(exc, InvalidInput) else None
                return _problem_page(request, status, title, exc.code, exc.detail, errors)
            except RequestValidationError as exc:
                errors = field_errors(request, exc.errors())
                return _problem_page(
                    request,
                    422,
                    "Invalid input",
                    "exchange.invalid_input",
                    "some fields were rejected",
                    errors,
                )
            except StarletteHTTPException as exc:
                return _problem_page(
                    request,
                    exc.status_code,
                    str(exc.detail),
                    f"http.{exc.status_code}",
                    str(exc.detail),
                    None,
                )
            except IntegrityError:
                return _problem_page(
                    request,
                    409,
                    "Conflict",
                    "exchange.conflict",
                    "a concurrent change conflicts with this",
                    None,
                )
            except Exception:
                log.exception("console page failed: %s %s", request.method, request.url.path)
                return _problem_page(
                    request, 500, "Internal error", "exchange.internal", "an unexpected error occurred", None
                )

        return console_handler
