"""DataCatalog behaviour through the ledger client: registration, versions, provider-only changes."""

from __future__ import annotations

from behaviour_support import World, expect_revert, h

from ledger import OpenType, ShareType
from ledger.ids import org_id, resource_id

ZERO = bytes(32)


def test_register_emits_and_stores_version_one(w: World) -> None:
    """Registration stores version 1 for the provider and emits ResourceRegistered and version 1."""
    code = resource_id("health-1")
    published = w.catalog.register(
        w.health, code, ShareType.CONDITIONAL, OpenType.ON_APPLICATION, h("m"), h("s")
    )
    assert published.version == 1
    registered = published.receipt.event("ResourceRegistered")
    assert registered["resourceCode"] == code
    assert registered["providerOrgId"] == org_id("health")
    assert registered["shareType"] is ShareType.CONDITIONAL
    resource = w.catalog.resource(code)
    assert resource.provider_org_id == org_id("health")
    assert resource.version == 1
    assert resource.version_hash == published.version_hash
    assert resource.previous_version_hash == ZERO
    expected = w.catalog.version_hash(
        code, 1, org_id("health"), ShareType.CONDITIONAL, OpenType.ON_APPLICATION, h("m"), h("s"), ZERO
    )
    assert expected == published.version_hash


def test_second_registration_names_the_code(w: World) -> None:
    """Registering a code twice gets DataCatalogResourceExists naming the code; nothing changes."""
    code = w.register("health-dup", ShareType.UNCONDITIONAL)
    with expect_revert("DataCatalogResourceExists") as caught:
        w.catalog.register(w.transport, code, ShareType.NOT_SHAREABLE, OpenType.NOT_OPEN, h("x"), h("y"))
    assert caught.value.arguments == {"resourceCode": code}
    assert caught.value.resource_code == code  # type: ignore[attr-defined]
    assert w.catalog.resource(code).provider_org_id == org_id("health")


def test_only_departments_register(w: World) -> None:
    """An enterprise (wrong role) and a non-member get DataCatalogNotDepartment naming the account."""
    for signer in (w.bank, w.outsider):
        with expect_revert("DataCatalogNotDepartment") as caught:
            w.catalog.register(
                signer, resource_id("x"), ShareType.UNCONDITIONAL, OpenType.OPEN, h("m"), h("s")
            )
        assert caught.value.arguments == {"account": signer.address}


def test_only_the_provider_publishes_versions(w: World) -> None:
    """Another department's update gets DataCatalogNotProvider naming the code and the account."""
    code = w.register("health-2", ShareType.UNCONDITIONAL)
    current = w.catalog.resource(code).version_hash
    with expect_revert("DataCatalogNotProvider") as caught:
        w.catalog.publish_version(
            w.transport, code, current, ShareType.UNCONDITIONAL, OpenType.OPEN, h("m2"), h("s")
        )
    assert caught.value.arguments == {"resourceCode": code, "account": w.transport.address}
    assert w.catalog.resource(code).version == 1


def test_versions_chain_by_hash(w: World) -> None:
    """Each version names its predecessor's hash; a stale predecessor is refused with both hashes."""
    code = w.register("health-3", ShareType.CONDITIONAL)
    first = w.catalog.resource(code).version_hash
    second = w.catalog.publish_version(
        w.health, code, first, ShareType.UNCONDITIONAL, OpenType.OPEN, h("m2"), h("s")
    )
    assert second.version == 2
    event = second.receipt.event("ResourceVersionPublished")
    assert event["previousVersionHash"] == first
    assert event["version"] == 2
    stored = w.catalog.resource_version(code, 1)
    assert stored.version_hash == first
    with expect_revert("DataCatalogPreviousVersionMismatch") as caught:
        w.catalog.publish_version(
            w.health, code, first, ShareType.UNCONDITIONAL, OpenType.OPEN, h("m3"), h("s")
        )
    assert caught.value.arguments == {"resourceCode": code, "expected": second.version_hash, "given": first}


def test_withdrawn_resource_is_frozen(w: World) -> None:
    """After withdrawal no new version is accepted (DataCatalogResourceWithdrawn)."""
    code = w.register("health-4", ShareType.UNCONDITIONAL)
    receipt = w.catalog.withdraw(w.health, code, h("superseded"))
    assert receipt.event("ResourceWithdrawn")["reasonHash"] == h("superseded")
    current = w.catalog.resource(code)
    assert current.withdrawn
    with expect_revert("DataCatalogResourceWithdrawn") as caught:
        w.catalog.publish_version(
            w.health, code, current.version_hash, ShareType.UNCONDITIONAL, OpenType.OPEN, h("m"), h("s")
        )
    assert caught.value.arguments == {"resourceCode": code}


def test_unknown_resource_views_raise(w: World) -> None:
    """Views of an unregistered code raise DataCatalogUnknownResource / UnknownVersion with the code."""
    code = resource_id("nothing")
    assert not w.catalog.exists(code)
    with expect_revert("DataCatalogUnknownResource") as caught:
        w.catalog.resource(code)
    assert caught.value.arguments == {"resourceCode": code}
    assert caught.value.tx_hash is None
    with expect_revert("DataCatalogUnknownVersion"):
        w.catalog.resource_version(code, 3)
