"""How a node reaches the chain: the `GrantChecker` protocol, the grant as read from chain, and the check.

`sandbox` never imports `ledger`; the `tdex` layer implements `GrantChecker` over it and injects it.
Amounts of privacy budget on chain are integers in micro-ε; `micro_epsilon` is the one conversion.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Protocol

from sandbox.errors import TemplateNotAllowed
from sandbox.node.errors import (
    GrantBudgetExhausted,
    GrantExhausted,
    GrantExpired,
    GrantRevoked,
    WrongRequester,
    WrongResource,
)

__all__ = ["GrantChecker", "GrantView", "UseRecord", "check_grant", "micro_epsilon"]

MICRO = 1_000_000


def micro_epsilon(epsilon: float) -> int:
    """ε as the chain's integer micro-ε, rounded up (a node never records less than it spent)."""
    if not math.isfinite(epsilon) or epsilon < 0:
        raise ValueError("ε must be finite and non-negative")
    return math.ceil(Fraction(repr(float(epsilon))) * MICRO)


@dataclass(frozen=True)
class GrantView:
    """A grant as the chain holds it, read by the node itself; ids are the chain's 0x-hex bytes32.

    ``now`` is the chain's clock when the grant was read: expiry is judged against it, not against
    the node's own clock. ``templates`` are the digests the grant allows, as ``sha256:<hex>``.
    """

    grant_id: int
    grantee: str
    provider: str
    resource: str
    revoked: bool
    expiry: int
    uses_left: int
    max_uses: int
    budget_left: int
    privacy_budget: int
    templates: frozenset[str]
    now: int

    @property
    def status(self) -> Literal["active", "revoked", "expired", "exhausted"]:
        """What the grant allows now, by the chain's clock."""
        if self.revoked:
            return "revoked"
        if self.now >= self.expiry:
            return "expired"
        if self.uses_left <= 0:
            return "exhausted"
        return "active"


@dataclass(frozen=True)
class UseRecord:
    """One use recorded on chain (``consume``): what is left afterwards and where it was recorded."""

    grant_id: int
    template_digest: str
    budget_spent: int
    uses_left: int
    budget_left: int
    tx_hash: str
    block_number: int

    def to_dict(self) -> dict[str, object]:
        """JSON form, as it appears in a receipt."""
        return {
            "grant_id": self.grant_id,
            "template_digest": self.template_digest,
            "budget_spent_micro": self.budget_spent,
            "uses_left": self.uses_left,
            "budget_left_micro": self.budget_left,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
        }


class GrantChecker(Protocol):
    """The node's view of the chain (implemented over `ledger` in `tdex.node_chain`).

    Implementations translate the chain's typed reverts into `sandbox.node.errors`
    (`GrantExpired`, `GrantRevoked`, `GrantExhausted`, `GrantBudgetExhausted`, `TemplateNotAllowed`,
    `GrantUnknown`) and transport failures into `ChainUnavailable`.
    """

    def lookup(self, grant_id: int) -> GrantView:
        """The grant as the chain holds it now, with the chain's time."""
        ...

    def org_ref(self, uscc: str) -> str:
        """The chain's id (0x-hex) of the organisation with this USCC."""
        ...

    def resource_ref(self, code: str) -> str:
        """The chain's id (0x-hex) of the catalogue resource with this code."""
        ...

    def record_use(self, grant_id: int, template_digest: str, budget_spent: int) -> UseRecord:
        """Record one use on chain (``consume``), signed with the department's own account."""
        ...


def check_grant(
    view: GrantView,
    *,
    requester: str,
    requester_ref: str,
    provider_ref: str,
    resource_ref: str,
    resource_code: str,
    templates: Iterable[str],
    budget_micro: int = 0,
) -> None:
    """Refuse a job unless `view` lets `requester` run every one of `templates` on this resource now.

    The order mirrors ``AccessGrants.consume`` so that what the node refuses up front is what the
    chain would refuse afterwards: revoked, expired, template, uses, budget; then the parties.
    """
    gid = view.grant_id
    if view.revoked:
        raise GrantRevoked(gid)
    if view.now >= view.expiry:
        raise GrantExpired(gid, view.expiry, view.now)
    for digest in templates:
        if digest not in view.templates:
            raise TemplateNotAllowed(digest, str(gid))
    if view.uses_left <= 0:
        raise GrantExhausted(gid, view.max_uses)
    if budget_micro > view.budget_left:
        raise GrantBudgetExhausted(gid, budget_micro, view.budget_left)
    if view.resource.lower() != resource_ref.lower() or view.provider.lower() != provider_ref.lower():
        raise WrongResource(gid, resource_code)
    if view.grantee.lower() != requester_ref.lower():
        raise WrongRequester(gid, requester)
