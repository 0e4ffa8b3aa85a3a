"""The catalogue over HTTP: registration, validation, versions, withdrawal, search, DCAT."""

from __future__ import annotations

from conftest import World, entry


def test_register_and_read(world: World) -> None:
    """A department registers an entry; any member reads it with its version hash and pending anchor."""
    dept = world["dept_a"].client
    created = dept.register(entry())
    assert created["code"] == "301001/000001"
    assert created["current_version"]["version"] == 1
    assert created["current_version"]["anchor"]["status"] == "pending"
    read = world["bank"].client.resource("301001/000001")
    assert read["provider"]["id"] == world["dept_a"].org_id
    assert read["current_version"]["metadata_hash"] == created["current_version"]["metadata_hash"]
    world.relay.drain()
    anchored = world["bank"].client.resource("301001/000001")
    assert anchored["current_version"]["anchor"]["status"] == "anchored"
