"""Signing in to the console with a signed challenge, sessions, sign-out, languages and error pages."""

from __future__ import annotations

from console_support import challenge_of, csrf_of, sign_in
from sqlalchemy import select

from exchange_api.console import sign_challenge
from exchange_api.console._i18n import LANGUAGES, catalogue
from exchange_api.models import Event
from keys import SigningKey


def test_console_redirects_anonymous_visitors_to_sign_in(world):
    response = world.http.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=")


def test_sign_in_with_a_signed_challenge_opens_a_session(world):
    page = sign_in(world.http, world["dept_a"].key)
    assert 'data-testid="signed-in-as"' in page
    assert "dept_a" in page
    with world.app.state.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.kind == "console.signed_in"))]
    assert kinds == ["console.signed_in"]


def test_session_cookie_is_http_only_and_strict(world):
    page = world.http.get("/console/sign-in")
    token = sign_challenge(world["bank"].key, challenge_of(page.text))
    response = world.http.post("/console/sign-in", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "tdex_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_a_challenge_is_spent_once(world):
    page = world.http.get("/console/sign-in")
    challenge = challenge_of(page.text)
    token = sign_challenge(world["bank"].key, challenge)
    assert world.http.post("/console/sign-in", data={"token": token}).status_code == 200
    world.http.cookies.set("tdex_challenge", challenge, path="/console")
    again = world.http.post("/console/sign-in", data={"token": token})
    assert again.status_code == 401
    assert "console.challenge_spent" in again.text


def test_an_unknown_key_is_refused_with_a_readable_message(world):
    page = world.http.get("/console/sign-in")
    token = sign_challenge(SigningKey.generate(), challenge_of(page.text))
    response = world.http.post("/console/sign-in", data={"token": token})
    assert response.status_code == 401
    assert "console.unknown_key" in response.text
    assert "Traceback" not in response.text


def test_garbage_and_a_token_for_another_browser_are_refused(world):
    world.http.get("/console/sign-in")
    bad = world.http.post("/console/sign-in", data={"token": "not a token!"})
    assert bad.status_code == 401 and "console.bad_token" in bad.text
    other = world.http.get("/console/sign-in")  # the cookie now names this newer challenge
    stale = sign_challenge(world["bank"].key, challenge_of(bad.text))
    assert challenge_of(other.text) != challenge_of(bad.text)
    wrong = world.http.post("/console/sign-in", data={"token": stale})
    assert wrong.status_code == 401 and "console.wrong_challenge" in wrong.text


def test_sign_out_ends_the_session_and_needs_the_csrf_token(world):
    page = sign_in(world.http, world["auditor"].key)
    forged = world.http.post("/console/sign-out", data={"csrf": "forged"})
    assert forged.status_code == 403 and "console.csrf" in forged.text
    out = world.http.post("/console/sign-out", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert out.status_code == 303
    world.http.cookies.clear()
    assert world.http.get("/console/", follow_redirects=False).status_code == 303


def test_next_never_leaves_the_console(world):
    page = world.http.get("/console/sign-in")
    token = sign_challenge(world["bank"].key, challenge_of(page.text))
    response = world.http.post(
        "/console/sign-in", data={"token": token, "next": "https://evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/console/"


def test_chinese_by_default_english_on_request_and_remembered(world):
    assert "登录" in world.http.get("/console/sign-in").text
    english = world.http.get("/console/sign-in?lang=en")
    assert "Sign in" in english.text and 'lang="en"' in english.text
    assert 'lang="en"' in world.http.get("/console/sign-in").text  # the cookie keeps the choice


def test_every_message_exists_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang, present in keys.items():
        for other, expected in keys.items():
            assert expected <= present, f"{lang} lacks {sorted(expected - present)} (present in {other})"


def test_pages_send_a_strict_content_security_policy(world):
    response = world.http.get("/console/sign-in")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_expired_challenges_are_deleted_when_new_ones_are_issued(world):
    from exchange_api.models_console import ConsoleChallenge

    world.http.get("/console/sign-in")
    world.http.get("/console/sign-in")
    world.clock.advance(minutes=11)
    world.http.get("/console/sign-in")
    with world.app.state.sessions() as session:
        assert len(session.scalars(select(ConsoleChallenge)).all()) == 1


def test_field_errors_are_said_in_the_pages_language():
    from starlette.requests import Request

    from exchange_api.console._pages import field_errors

    def request(query: bytes) -> Request:
        return Request({"type": "http", "query_string": query, "headers": [], "path": "/console/x"})

    errors = [
        {
            "type": "too_short",
            "loc": ("body", "templates"),
            "msg": "List should have at least 1 item",
            "ctx": {"min_length": 1},
        },
        {"type": "exotic_type", "loc": ("purpose",), "msg": "pydantic's own words"},
    ]
    zh = field_errors(request(b""), errors)
    assert zh[0] == {"loc": "body/templates", "message": "至少需要 1 项。"}
    assert zh[1] == {"loc": "purpose", "message": "pydantic's own words"}
    assert field_errors(request(b"lang=en"), errors)[0]["message"] == "Choose at least 1."


def test_ended_and_expired_sessions_are_deleted_at_the_next_sign_in(world):
    from exchange_api.models_console import ConsoleSession

    page = sign_in(world.http, world["bank"].key)
    world.http.post("/console/sign-out", data={"csrf": csrf_of(page)})
    sign_in(world.http, world["auditor"].key)
    world.clock.advance(hours=9)
    sign_in(world.http, world["dept_a"].key)
    with world.app.state.sessions() as session:
        left = session.scalars(select(ConsoleSession)).all()
    assert [s.org_id for s in left] == [world["dept_a"].org_id]
