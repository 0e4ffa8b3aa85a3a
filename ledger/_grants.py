"""Typed facade of the AccessGrants contract: applications, approvals, rejections, revocation and use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger._enums import ApplicationStatus, GrantStatus
from ledger._facade import Facade, record
from ledger._signing import Signer
from ledger._types import Receipt, TxRequest

__all__ = ["AccessGrants", "Application", "ApplicationOutcome", "Consumption", "Grant"]


@dataclass(frozen=True, slots=True)
class Application:
    """An application; ``decision_hash`` is the agreement hash once granted, the reason hash once rejected."""

    application_id: int
    resource_code: bytes
    applicant_org_id: bytes
    provider_org_id: bytes
    policy_hash: bytes
    purpose_hash: bytes
    decision_hash: bytes
    requested_expiry: int
    submitted_at: int
    decided_at: int
    status: ApplicationStatus


@dataclass(frozen=True, slots=True)
class Grant:
    """A grant (same id as its application); expiry and exhaustion are judged against the chain clock."""

    grant_id: int
    expiry: int
    budget_left: int
    uses_left: int
    max_uses: int
    status: GrantStatus
    privacy_budget: int
    granted_at: int
    revoked_at: int
    resource_code: bytes
    provider_org_id: bytes
    grantee_org_id: bytes
    agreement_hash: bytes


@dataclass(frozen=True, slots=True)
class ApplicationOutcome:
    """An application made: its id, whether it was granted at once (UNCONDITIONAL), the receipt."""

    application_id: int
    granted: bool
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class Consumption:
    """One recorded use of a grant: what is left of it afterwards, and the receipt."""

    grant_id: int
    template_digest: bytes
    budget_spent: int
    uses_left: int
    budget_left: int
    receipt: Receipt


class AccessGrants(Facade):
    """Applications and grants; NOT_SHAREABLE resources are never granted (enforced on chain)."""

    CONTRACT = "AccessGrants"

    def apply(
        self,
        signer: Signer,
        resource_code: bytes,
        policy_hash: bytes,
        purpose_hash: bytes,
        requested_expiry: int,
        template_digests: Sequence[bytes],
    ) -> ApplicationOutcome:
        """Apply for ``resource_code`` for the signer's organisation (``applyFor`` on chain)."""
        receipt = self.transact(
            signer,
            "applyFor",
            resource_code,
            policy_hash,
            purpose_hash,
            requested_expiry,
            list(template_digests),
        )
        submitted = receipt.event("ApplicationSubmitted")
        granted = any(e.name == "GrantIssued" for e in receipt.events)
        return ApplicationOutcome(submitted["applicationId"], granted, receipt)

    def approve(
        self,
        signer: Signer,
        application_id: int,
        expiry: int,
        max_uses: int,
        privacy_budget: int,
        agreement_hash: bytes,
    ) -> Receipt:
        """Approve a PENDING application as the provider, issuing grant ``application_id``."""
        return self.transact(
            signer, "approve", application_id, expiry, max_uses, privacy_budget, agreement_hash
        )

    def reject(self, signer: Signer, application_id: int, reason_hash: bytes) -> Receipt:
        """Reject a PENDING application as the provider, with the hash of the stated reason."""
        return self.transact(signer, "reject", application_id, reason_hash)

    def withdraw_application(self, signer: Signer, application_id: int) -> Receipt:
        """Withdraw the signer organisation's own PENDING application."""
        return self.transact(signer, "withdrawApplication", application_id)

    def revoke(self, signer: Signer, grant_id: int, reason_hash: bytes) -> Receipt:
        """Revoke a grant for good, as the provider."""
        return self.transact(signer, "revoke", grant_id, reason_hash)

    def consume(
        self, signer: Signer, grant_id: int, template_digest: bytes, budget_spent: int = 0
    ) -> Consumption:
        """Record one use of a grant running ``template_digest`` (the provider's node, with its own key).

        Raises AccessGrantsGrantExpired / GrantExhausted / GrantRevoked / BudgetExceeded /
        TemplateNotAllowed (and the others) with their arguments.
        """
        receipt = self.transact(signer, "consume", grant_id, template_digest, budget_spent)
        event = receipt.event("GrantConsumed")
        return Consumption(
            grant_id, template_digest, budget_spent, event["usesLeft"], event["budgetLeft"], receipt
        )

    def prepare_consume(self, grant_id: int, template_digest: bytes, budget_spent: int = 0) -> TxRequest:
        """A ``consume`` transaction for ``Chain.send_many`` (pipelined recording of uses)."""
        return self.prepare("consume", grant_id, template_digest, budget_spent)

    # ------------------------------------------------------------------------------ views

    def application(self, application_id: int) -> Application:
        """Application ``application_id``; AccessGrantsUnknownApplication when there is none."""
        return record(Application, self.call("application", application_id), application_id=application_id)

    def grant(self, grant_id: int) -> Grant:
        """Grant ``grant_id``; AccessGrantsUnknownGrant when there is none."""
        return record(Grant, self.call("grant", grant_id), grant_id=grant_id)

    def allowed_templates(self, application_id: int) -> tuple[bytes, ...]:
        """The template digests an application (and its grant) allows."""
        return tuple(self.call("allowedTemplates", application_id))

    def is_usable(self, grant_id: int, template_digest: bytes) -> bool:
        """Whether a zero-budget ``consume`` would succeed now, apart from who calls it."""
        return bool(self.call("isUsable", grant_id, template_digest))

    def application_count(self) -> int:
        """Number of applications made so far (the highest id)."""
        return int(self.call("applicationCount"))

    def default_max_uses(self) -> int:
        """Uses given to grants of UNCONDITIONAL resources."""
        return int(self.call("DEFAULT_MAX_USES"))

    def default_privacy_budget(self) -> int:
        """Privacy budget (micro-epsilon) given to grants of UNCONDITIONAL resources."""
        return int(self.call("DEFAULT_PRIVACY_BUDGET"))

    def max_unconditional_term(self) -> int:
        """Longest term in seconds of a grant of an UNCONDITIONAL resource."""
        return int(self.call("MAX_UNCONDITIONAL_TERM"))

    def max_templates(self) -> int:
        """Most template digests one application may list."""
        return int(self.call("MAX_TEMPLATES"))
