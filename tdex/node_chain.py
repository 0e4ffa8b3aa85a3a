"""A department node's chain access: `sandbox.node.GrantChecker` over `ledger`, and the catalogue check.

This is the one place where the sandbox meets the ledger (`sandbox` and `ledger` never import each
other). On-chain ids follow `ledger.ids`; a template digest ``sha256:<hex>`` is the bytes32 ``<hex>``.
Contract reverts and transport failures are translated to `sandbox.node.errors` here, so the node
answers the same typed errors whatever the chain backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import ledger
from ledger.errors import ContractRevert, LedgerError, revert_class
from ledger.ids import org_id, resource_id
from sandbox.errors import TemplateNotAllowed
from sandbox.node import CatalogueBinding, GrantView, UseRecord
from sandbox.node.errors import (
    CatalogueEntryInvalid,
    ChainUnavailable,
    GrantBudgetExhausted,
    GrantExhausted,
    GrantExpired,
    GrantRevoked,
    GrantUnknown,
    NodeError,
    WrongResource,
)

__all__ = ["LedgerGrantChecker", "digest_bytes", "digest_text", "verify_catalogue_binding"]

T = TypeVar("T")


def digest_bytes(digest: str) -> bytes:
    """``sha256:<hex>`` → the bytes32 the chain stores."""
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64:
        raise TemplateNotAllowed(digest, "?")
    return bytes.fromhex(hexdigest)


def digest_text(raw: bytes) -> str:
    """The chain's bytes32 → ``sha256:<hex>``."""
    return "sha256:" + bytes(raw).hex()


def _hex(raw: bytes) -> str:
    return "0x" + bytes(raw).hex()


def _translate(error: ContractRevert, grant_id: int, digest: str = "") -> NodeError | TemplateNotAllowed:
    name = error.error_name
    args: Any = error
    if name == "AccessGrantsUnknownGrant":
        return GrantUnknown(grant_id)
    if name == "AccessGrantsGrantRevoked":
        return GrantRevoked(grant_id)
    if name == "AccessGrantsGrantExpired":
        return GrantExpired(grant_id, int(args.expiry))
    if name == "AccessGrantsGrantExhausted":
        return GrantExhausted(grant_id, int(args.max_uses))
    if name == "AccessGrantsBudgetExceeded":
        return GrantBudgetExhausted(grant_id, int(args.requested), int(args.remaining))
    if name == "AccessGrantsTemplateNotAllowed":
        return TemplateNotAllowed(digest, str(grant_id))
    if name in ("AccessGrantsNotProvider", "AccessGrantsResourceWithdrawn", "AccessGrantsGranteeInactive"):
        return WrongResource(grant_id, f"{name}: {error}")
    return ChainUnavailable(f"{name}: {error}")


class LedgerGrantChecker:
    """Reads grants from `AccessGrants` and records uses with the department's own account.

    Calls are serialised: a node's request threads share one chain client and one nonce sequence.
    """

    def __init__(self, deployment: ledger.Deployment, signer: ledger.Signer) -> None:
        self.deployment = deployment
        self.signer = signer
        self._lock = threading.Lock()

    def _chain(self, fn: Callable[[], T], grant_id: int, digest: str = "") -> T:
        with self._lock:
            try:
                return fn()
            except ContractRevert as error:
                raise _translate(error, grant_id, digest) from None
            except LedgerError as error:
                raise ChainUnavailable(f"{error.code}: {error}") from None

    def lookup(self, grant_id: int) -> GrantView:
        """The grant, the templates it allows and the chain's time, read now."""
        grants = self.deployment.grants

        def read() -> GrantView:
            g = grants.grant(grant_id)
            templates = frozenset(digest_text(t) for t in grants.allowed_templates(grant_id))
            return GrantView(
                grant_id=grant_id,
                grantee=_hex(g.grantee_org_id),
                provider=_hex(g.provider_org_id),
                resource=_hex(g.resource_code),
                revoked=g.status == ledger.GrantStatus.REVOKED,
                expiry=int(g.expiry),
                uses_left=int(g.uses_left),
                max_uses=int(g.max_uses),
                budget_left=int(g.budget_left),
                privacy_budget=int(g.privacy_budget),
                templates=templates,
                now=self.deployment.chain.timestamp(),
            )

        return self._chain(read, grant_id)

    def org_ref(self, uscc: str) -> str:
        """`ledger.ids.org_id` as 0x-hex."""
        return _hex(org_id(uscc))

    def resource_ref(self, code: str) -> str:
        """`ledger.ids.resource_id` as 0x-hex."""
        return _hex(resource_id(code))

    def record_use(self, grant_id: int, template_digest: str, budget_spent: int) -> UseRecord:
        """``AccessGrants.consume`` signed by the department's account."""
        raw = digest_bytes(template_digest)

        def consume() -> UseRecord:
            c = self.deployment.grants.consume(self.signer, grant_id, raw, budget_spent)
            return UseRecord(
                grant_id,
                template_digest,
                budget_spent,
                int(c.uses_left),
                int(c.budget_left),
                c.receipt.tx_hash,
                int(c.receipt.block_number),
            )

        return self._chain(consume, grant_id, template_digest)


def verify_catalogue_binding(deployment: ledger.Deployment, binding: CatalogueBinding) -> None:
    """Refuse a catalogue entry whose hashes are not the chain's for that resource version."""
    try:
        version = deployment.catalog.resource_version(resource_id(binding.code), binding.resource_version)
    except revert_class("DataCatalogUnknownResource"):
        raise CatalogueEntryInvalid(f"{binding.code} is not registered on chain") from None
    except revert_class("DataCatalogUnknownVersion"):
        raise CatalogueEntryInvalid(f"{binding.code} has no version {binding.resource_version}") from None
    except LedgerError as error:
        raise ChainUnavailable(f"{error.code}: {error}") from None
    for name, ours, theirs in (
        ("metadata", binding.metadata_hash, _hex(version.metadata_hash)),
        ("schema", binding.schema_hash, _hex(version.schema_hash)),
    ):
        if ours.lower() != theirs.lower():
            raise CatalogueEntryInvalid(
                f"the entry's {name} hash {ours} is not the one anchored for {binding.code} "
                f"version {binding.resource_version} ({theirs})"
            )
