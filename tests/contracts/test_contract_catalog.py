"""DataCatalog: registration by departments, traceable versions, provider-only changes, withdrawal."""

from __future__ import annotations

import eth_abi
from _contract_chain import Cast, OpenType, ShareType, b32
from eth_utils import keccak

CODE = b32("resource:population")
ZERO = b"\0" * 32

# Indexes into the Resource tuple returned by `resource`.
R_PROVIDER, R_SHARE, R_WITHDRAWN, R_VERSION = 1, 2, 4, 5
R_PREVIOUS, R_HASH, R_REASON = 10, 11, 12


def _version_hash(
    code: bytes,
    version: int,
    provider: bytes,
    share: int,
    open_type: int,
    meta: bytes,
    schema: bytes,
    prev: bytes,
) -> bytes:
    types = ["bytes32", "uint32", "bytes32", "uint8", "uint8", "bytes32", "bytes32", "bytes32"]
    return keccak(eth_abi.encode(types, [code, version, provider, share, open_type, meta, schema, prev]))


def test_only_active_departments_register(cast: Cast) -> None:
    """Enterprises, auditors, admins and outsiders cannot register resources."""
    c = cast.chain
    fn = c.catalog.functions.register(CODE, ShareType.CONDITIONAL, OpenType.NOT_OPEN, b32("m"), b32("s"))
    for account in (cast.bank, cast.auditor, cast.bureau, cast.outsider):
        assert c.fails(fn, account) == ("DataCatalogNotDepartment", (account,))


def test_register_records_version_one(cast: Cast) -> None:
    """Registration stores version 1 with a version hash anyone can recompute."""
    c = cast.chain
    receipt = c.send(
        c.catalog.functions.register(
            CODE, ShareType.CONDITIONAL, OpenType.ON_APPLICATION, b32("m"), b32("s")
        ),
        cast.dept,
    )
    record = c.catalog.functions.resource(CODE).call()
    expected = _version_hash(CODE, 1, b32("dept"), 1, 1, b32("m"), b32("s"), ZERO)
    assert (record[R_PROVIDER], record[R_SHARE], record[R_VERSION], record[R_HASH]) == (
        b32("dept"),
        ShareType.CONDITIONAL,
        1,
        expected,
    )
    assert (
        c.catalog.functions.versionHash(CODE, 1, b32("dept"), 1, 1, b32("m"), b32("s"), ZERO).call()
        == expected
    )
    registered = c.events(c.catalog, receipt, "ResourceRegistered")[0].args
    assert (registered.resourceCode, registered.providerOrgId, registered.versionHash) == (
        CODE,
        b32("dept"),
        expected,
    )
    assert c.events(c.catalog, receipt, "ResourceVersionPublished")[0].args.version == 1
    assert c.catalog.functions.shareTerms(CODE).call() == [b32("dept"), ShareType.CONDITIONAL, False, 1]
    assert c.catalog.functions.exists(CODE).call()


def test_second_registration_names_the_code(cast: Cast) -> None:
    """Registering a code twice, even by another department, reverts naming the code."""
    c = cast.chain
    c.register(cast.dept, CODE, ShareType.UNCONDITIONAL)
    fn = c.catalog.functions.register(CODE, ShareType.CONDITIONAL, OpenType.OPEN, b32("m2"), b32("s2"))
    assert c.fails(fn, cast.dept) == ("DataCatalogResourceExists", (CODE,))
    assert c.fails(fn, cast.dept2) == ("DataCatalogResourceExists", (CODE,))


def test_register_arguments_are_checked(cast: Cast) -> None:
    """A zero code or a zero metadata hash is refused."""
    c = cast.chain
    zero_code = c.catalog.functions.register(ZERO, ShareType.CONDITIONAL, OpenType.OPEN, b32("m"), b32("s"))
    assert c.fails(zero_code, cast.dept) == ("DataCatalogInvalidResourceCode", (ZERO,))
    no_meta = c.catalog.functions.register(CODE, ShareType.CONDITIONAL, OpenType.OPEN, ZERO, b32("s"))
    assert c.fails(no_meta, cast.dept) == ("DataCatalogMissingMetadata", (CODE,))


def test_versions_chain_by_hash(cast: Cast) -> None:
    """Each version names its predecessor's hash; a stale predecessor is refused with both hashes."""
    c = cast.chain
    c.register(cast.dept, CODE, ShareType.CONDITIONAL)
    first = c.catalog.functions.resource(CODE).call()[R_HASH]
    publish = c.catalog.functions.publishVersion
    receipt = c.send(
        publish(CODE, first, ShareType.NOT_SHAREABLE, OpenType.NOT_OPEN, b32("m2"), b32("s2")), cast.dept
    )
    published = c.events(c.catalog, receipt, "ResourceVersionPublished")[0].args
    second = _version_hash(CODE, 2, b32("dept"), 2, 2, b32("m2"), b32("s2"), first)
    assert (published.version, published.previousVersionHash, published.versionHash) == (2, first, second)
    record = c.catalog.functions.resource(CODE).call()
    assert (record[R_VERSION], record[R_SHARE], record[R_PREVIOUS], record[R_HASH]) == (2, 2, first, second)
    assert c.catalog.functions.resourceVersion(CODE, 1).call()[6] == first
    assert c.catalog.functions.resourceVersion(CODE, 2).call()[5] == first
    stale = publish(CODE, first, ShareType.CONDITIONAL, OpenType.OPEN, b32("m3"), b32("s3"))
    assert c.fails(stale, cast.dept) == ("DataCatalogPreviousVersionMismatch", (CODE, second, first))
    assert c.fails(c.catalog.functions.resourceVersion(CODE, 3), cast.dept) == (
        "DataCatalogUnknownVersion",
        (CODE, 3),
    )


def test_only_the_provider_changes_a_resource(cast: Cast) -> None:
    """Another department can neither publish a version of nor withdraw someone else's resource."""
    c = cast.chain
    c.register(cast.dept, CODE, ShareType.CONDITIONAL)
    current = c.catalog.functions.resource(CODE).call()[R_HASH]
    publish = c.catalog.functions.publishVersion(CODE, current, 1, 1, b32("m2"), b32("s2"))
    assert c.fails(publish, cast.dept2) == ("DataCatalogNotProvider", (CODE, cast.dept2))
    assert c.fails(c.catalog.functions.withdraw(CODE, b32("why")), cast.dept2) == (
        "DataCatalogNotProvider",
        (CODE, cast.dept2),
    )
    assert c.fails(publish, cast.bank) == ("DataCatalogNotDepartment", (cast.bank,))


def test_withdrawal_is_final_and_needs_a_reason(cast: Cast) -> None:
    """Withdrawal records its reason hash; afterwards nothing about the resource changes."""
    c = cast.chain
    c.register(cast.dept, CODE, ShareType.CONDITIONAL)
    assert c.fails(c.catalog.functions.withdraw(CODE, ZERO), cast.dept) == (
        "DataCatalogMissingReason",
        (CODE,),
    )
    receipt = c.send(c.catalog.functions.withdraw(CODE, b32("superseded")), cast.dept)
    assert c.events(c.catalog, receipt, "ResourceWithdrawn")[0].args.reasonHash == b32("superseded")
    record = c.catalog.functions.resource(CODE).call()
    assert (record[R_WITHDRAWN], record[R_REASON]) == (True, b32("superseded"))
    current = record[R_HASH]
    assert c.fails(c.catalog.functions.withdraw(CODE, b32("again")), cast.dept) == (
        "DataCatalogResourceWithdrawn",
        (CODE,),
    )
    assert c.fails(
        c.catalog.functions.publishVersion(CODE, current, 1, 1, b32("m"), b32("s")), cast.dept
    ) == (
        "DataCatalogResourceWithdrawn",
        (CODE,),
    )


def test_unknown_resources(cast: Cast) -> None:
    """Views and changes of an unregistered code name the code; shareTerms returns a zero provider."""
    c = cast.chain
    assert c.fails(c.catalog.functions.resource(CODE), cast.dept) == ("DataCatalogUnknownResource", (CODE,))
    assert c.fails(c.catalog.functions.withdraw(CODE, b32("x")), cast.dept) == (
        "DataCatalogUnknownResource",
        (CODE,),
    )
    assert c.catalog.functions.shareTerms(CODE).call()[0] == ZERO
    assert not c.catalog.functions.exists(CODE).call()
