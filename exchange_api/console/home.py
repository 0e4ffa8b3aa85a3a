"""The console's entry: home page, sign-in with a signed challenge, sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from exchange_api.console._auth import SESSION_TTL, end_session, issue_challenge, sign_in
from exchange_api.console._pages import (
    SESSION_COOKIE,
    ConsoleRoute,
    UserDep,
    call,
    check_csrf,
    redirect,
    render,
)
from exchange_api.errors import NotAuthenticated

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)
CHALLENGE_COOKIE = "tdex_challenge"

# Where each kind of organisation starts.
START = {"DEPARTMENT": "/console/inbox", "ENTERPRISE": "/console/workspace", "AUDITOR": "/console/audit"}


def _safe_next(target: str | None) -> str:
    # Only paths inside the console: never an open redirect to another site.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/", name="console.home")
def home(request: Request, user: UserDep) -> Response:
    return render(request, "home.html", user=user, start=START.get(user.role))


def _sign_in_page(
    request: Request, *, status_code: int = 200, error: dict[str, str] | None = None
) -> Response:
    challenge = call(request, None, lambda ctx: issue_challenge(ctx.session, request.url.netloc, ctx.now()))
    response = render(
        request,
        "sign_in.html",
        status_code=status_code,
        user=None,
        challenge=challenge,
        next=_safe_next(request.query_params.get("next")),
        error=error,
    )
    # The challenge is bound to this browser: a token signed for it works only here.
    response.set_cookie(
        CHALLENGE_COOKIE,
        challenge,
        max_age=600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )
    return response


@router.get("/sign-in", name="console.sign_in")
def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request)


@router.post("/sign-in")
async def sign_in_submit(request: Request) -> Response:
    form = await request.form()
    token = form.get("token")
    next_path = _safe_next(form.get("next") if isinstance(form.get("next"), str) else None)  # type: ignore[arg-type]
    try:
        cookie, _user = call(
            request,
            None,
            lambda ctx: sign_in(
                ctx, token if isinstance(token, str) else "", request.cookies.get(CHALLENGE_COOKIE)
            ),
        )
    except NotAuthenticated as exc:
        # Shown on a fresh sign-in page (a new challenge), with what was wrong.
        return _sign_in_page(request, status_code=401, error={"code": exc.code, "detail": exc.detail})
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )
    response.delete_cookie(CHALLENGE_COOKIE, path="/console")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, user: UserDep) -> Response:
    await check_csrf(request, user)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    call(request, user, lambda ctx: end_session(ctx, cookie))
    response = redirect("/console/sign-in", notice="signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
