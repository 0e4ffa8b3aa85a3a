"""Typed facade of the DataCatalog contract: resources, traceable versions and withdrawal."""

from __future__ import annotations

from dataclasses import dataclass

from ledger._enums import OpenType, ShareType
from ledger._facade import Facade, record
from ledger._signing import Signer
from ledger._types import Receipt

__all__ = ["DataCatalog", "Resource", "ResourceVersion", "ShareTerms", "VersionPublished"]


@dataclass(frozen=True, slots=True)
class Resource:
    """The current state of a catalogue resource."""

    resource_code: bytes
    provider_org_id: bytes
    share_type: ShareType
    open_type: OpenType
    withdrawn: bool
    version: int
    registered_at: int
    updated_at: int
    metadata_hash: bytes
    schema_hash: bytes
    previous_version_hash: bytes
    version_hash: bytes
    withdrawal_reason_hash: bytes


@dataclass(frozen=True, slots=True)
class ResourceVersion:
    """One published version of a resource."""

    resource_code: bytes
    version: int
    share_type: ShareType
    open_type: OpenType
    published_at: int
    metadata_hash: bytes
    schema_hash: bytes
    previous_version_hash: bytes
    version_hash: bytes


@dataclass(frozen=True, slots=True)
class ShareTerms:
    """What AccessGrants reads of a resource: provider (zero if unknown), share type, withdrawn, version."""

    provider_org_id: bytes
    share_type: ShareType
    withdrawn: bool
    version: int


@dataclass(frozen=True, slots=True)
class VersionPublished:
    """A registration or a new version: the resource, its version number and hash, and the receipt."""

    resource_code: bytes
    version: int
    version_hash: bytes
    receipt: Receipt


class DataCatalog(Facade):
    """The catalogue on chain: one resource per code, changed only by its provider department."""

    CONTRACT = "DataCatalog"

    def _published(self, receipt: Receipt) -> VersionPublished:
        event = receipt.event("ResourceVersionPublished")
        return VersionPublished(event["resourceCode"], event["version"], event["versionHash"], receipt)

    def register(
        self,
        signer: Signer,
        resource_code: bytes,
        share_type: ShareType,
        open_type: OpenType,
        metadata_hash: bytes,
        schema_hash: bytes,
    ) -> VersionPublished:
        """Register ``resource_code`` as version 1, provided by the signer's department."""
        receipt = self.transact(
            signer, "register", resource_code, int(share_type), int(open_type), metadata_hash, schema_hash
        )
        return self._published(receipt)

    def publish_version(
        self,
        signer: Signer,
        resource_code: bytes,
        previous_version_hash: bytes,
        share_type: ShareType,
        open_type: OpenType,
        metadata_hash: bytes,
        schema_hash: bytes,
    ) -> VersionPublished:
        """Publish the next version; ``previous_version_hash`` must be the current version's hash."""
        receipt = self.transact(
            signer,
            "publishVersion",
            resource_code,
            previous_version_hash,
            int(share_type),
            int(open_type),
            metadata_hash,
            schema_hash,
        )
        return self._published(receipt)

    def withdraw(self, signer: Signer, resource_code: bytes, reason_hash: bytes) -> Receipt:
        """Withdraw ``resource_code`` for good, with the hash of the stated reason."""
        return self.transact(signer, "withdraw", resource_code, reason_hash)

    # ------------------------------------------------------------------------------ views

    def resource(self, resource_code: bytes) -> Resource:
        """The current record; DataCatalogUnknownResource when not registered."""
        return record(Resource, self.call("resource", resource_code))

    def resource_version(self, resource_code: bytes, version: int) -> ResourceVersion:
        """Version ``version`` (from 1); DataCatalogUnknownVersion when it does not exist."""
        values = self.call("resourceVersion", resource_code, version)
        return record(ResourceVersion, values, resource_code=resource_code, version=version)

    def share_terms(self, resource_code: bytes) -> ShareTerms:
        """Provider, share type, withdrawal flag and version in one call."""
        return record(ShareTerms, self.call("shareTerms", resource_code))

    def exists(self, resource_code: bytes) -> bool:
        """Whether ``resource_code`` is registered."""
        return bool(self.call("exists", resource_code))

    def version_hash(
        self,
        resource_code: bytes,
        version: int,
        provider_org_id: bytes,
        share_type: ShareType,
        open_type: OpenType,
        metadata_hash: bytes,
        schema_hash: bytes,
        previous_version_hash: bytes,
    ) -> bytes:
        """The hash the contract gives such a version record (to check an off-chain computation)."""
        return bytes(
            self.call(
                "versionHash",
                resource_code,
                version,
                provider_org_id,
                int(share_type),
                int(open_type),
                metadata_hash,
                schema_hash,
                previous_version_hash,
            )
        )
