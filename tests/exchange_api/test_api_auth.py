"""Request signatures: unsigned, forged, tampered, replayed, expired and unknown-key requests get 401."""

from __future__ import annotations

import time

from api_support import World

from keys import SigningKey, sign_request

URL = "http://testserver/orgs/me"


def test_health_needs_no_signature(world: World) -> None:
    """`/health` answers without a signature and names the store."""
    response = world.http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_unsigned_request_is_401(world: World) -> None:
    """A request without signature headers is refused with `auth.missing_signature`."""
    response = world.http.get("/orgs/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.missing_signature"


def test_signed_request_names_the_caller(world: World) -> None:
    """A correctly signed request is served as the signing organisation."""
    assert world["bank"].client.me()["id"] == world["bank"].org_id


def test_forged_signature_is_401(world: World) -> None:
    """A signature made with another key under the bank's key id does not verify."""
    bank = world["bank"]
    headers = sign_request(
        "GET", URL, b"", SigningKey.generate(), bank.key.key_id, created=int(world.clock.timestamp())
    )
    response = world.http.get("/orgs/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.bad_signature"


def test_signature_for_another_target_is_401(world: World) -> None:
    """A signature over one URL does not authorise another."""
    bank = world["bank"]
    headers = sign_request(
        "GET",
        "http://testserver/grants",
        b"",
        bank.key,
        bank.key.key_id,
        created=int(world.clock.timestamp()),
    )
    response = world.http.get("/orgs/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.bad_signature"


def test_tampered_body_is_401(world: World) -> None:
    """A body changed after signing fails its content digest."""
    bureau = world["bureau"]
    url = "http://testserver/orgs"
    headers = sign_request(
        "POST", url, b'{"a": 1}', bureau.key, bureau.key.key_id, created=int(world.clock.timestamp())
    )
    response = world.http.post(
        "/orgs", content=b'{"a": 2}', headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "auth.bad_digest"


def test_replayed_request_is_401(world: World) -> None:
    """The same signed request sent twice is refused the second time."""
    bank = world["bank"]
    headers = sign_request("GET", URL, b"", bank.key, bank.key.key_id, created=int(world.clock.timestamp()))
    assert world.http.get("/orgs/me", headers=headers).status_code == 200
    again = world.http.get("/orgs/me", headers=headers)
    assert again.status_code == 401
    assert again.json()["code"] == "auth.replayed"


def test_expired_signature_is_401(world: World) -> None:
    """A signature created outside the window is refused as expired."""
    bank = world["bank"]
    old = int(time.time()) - world.settings.signature_window_s - 60
    headers = sign_request("GET", URL, b"", bank.key, bank.key.key_id, created=old)
    response = world.http.get("/orgs/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.expired"


def test_unknown_key_is_401(world: World) -> None:
    """A key the exchange never admitted is refused."""
    response = world.client_for(SigningKey.generate()).request("GET", "/orgs/me")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.unknown_key"
