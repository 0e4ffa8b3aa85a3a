"""Admission of organisations by the bureau."""

from __future__ import annotations

import secrets

import pytest
from api_support import World, make_uscc

from exchange_api.client import ApiProblem
from keys import SigningKey


def _org(uscc: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "市交通运输局",
        "uscc": uscc,
        "role": "DEPARTMENT",
        "public_keys": [SigningKey.generate().verify_key.did],
        "chain_account": "0x" + secrets.token_hex(20),
    }
    body.update(changes)
    return body


def test_admit_goes_on_chain(world: World) -> None:
    """The bureau admits a department; the admission is anchored by the relay."""
    org = world["bureau"].client.admit(_org(make_uscc(77)))
    assert org["role"] == "DEPARTMENT"
    assert org["anchor"]["status"] == "pending"
    world.relay.drain()
    assert world["bank"].client.call("GET", f"/orgs/{org['id']}")["anchor"]["status"] == "anchored"
    assert any(
        e["kind"] == "member.admit" and e["payload"]["org_id"] == org["id"] for e in world.chain.effects
    )


def test_only_admin_admits(world: World) -> None:
    """A department may not admit organisations."""
    with pytest.raises(ApiProblem) as caught:
        world["dept_a"].client.admit(_org(make_uscc(78)))
    assert (caught.value.status, caught.value.code) == (403, "auth.forbidden")


def test_invalid_uscc_is_422(world: World) -> None:
    """A USCC with a wrong check character is refused, naming the position."""
    good = make_uscc(79)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ApiProblem) as caught:
        world["bureau"].client.admit(_org(bad))
    assert (caught.value.status, caught.value.code) == (422, "org.invalid_uscc")
    assert "18" in caught.value.problem["detail"]


def test_uscc_override_is_explicit_and_recorded(world: World) -> None:
    """A failing legal pilot code is admitted only with a stated reason, which is recorded."""
    good = make_uscc(80)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    org = world["bureau"].client.admit(_org(bad, uscc_override_reason="早期试点代码，经市监局书面确认合法"))
    assert org["uscc"] == bad


def test_duplicate_uscc_is_409(world: World) -> None:
    """The same USCC cannot be admitted twice."""
    with pytest.raises(ApiProblem) as caught:
        world["bureau"].client.admit(_org(world["bank"].uscc))
    assert (caught.value.status, caught.value.code) == (409, "org.duplicate_uscc")


def test_bad_public_key_is_422(world: World) -> None:
    """A public key that is not a did:key is refused."""
    with pytest.raises(ApiProblem) as caught:
        world["bureau"].client.admit(_org(make_uscc(81), public_keys=["not-a-did"]))
    assert (caught.value.status, caught.value.code) == (422, "org.invalid_key")


def test_unknown_role_is_422(world: World) -> None:
    """An unknown role is a field error."""
    with pytest.raises(ApiProblem) as caught:
        world["bureau"].client.admit(_org(make_uscc(82), role="KING"))
    assert (caught.value.status, caught.value.code) == (422, "exchange.invalid_input")


def test_unknown_org_is_404(world: World) -> None:
    """Looking up an organisation that does not exist is 404."""
    with pytest.raises(ApiProblem) as caught:
        world["bank"].client.call("GET", "/orgs/org_nope")
    assert (caught.value.status, caught.value.code) == (404, "exchange.not_found")
