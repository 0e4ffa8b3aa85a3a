"""Typed facade of the Consortium contract: membership, governance proposals and votes, key rotation."""

from __future__ import annotations

from dataclasses import dataclass

from ledger._enums import Capability, MemberStatus, ProposalKind, ProposalStatus, Role
from ledger._facade import Facade, record
from ledger._signing import Signer
from ledger._types import Receipt

__all__ = ["DEFAULT_VOTING_PERIOD", "Consortium", "Member", "Proposal", "ProposalOutcome"]

#: Voting period used when a proposal is made without an explicit deadline (seconds).
DEFAULT_VOTING_PERIOD = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Member:
    """A member organisation as the Consortium stores it (status NONE when unknown)."""

    org_id: bytes
    account: str
    role: Role
    status: MemberStatus
    capabilities: int
    admitted_at: int
    updated_at: int

    @property
    def is_active(self) -> bool:
        """Whether the member is ACTIVE."""
        return self.status == MemberStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Proposal:
    """A governance proposal; fields its kind does not use are zero."""

    proposal_id: int
    kind: ProposalKind
    status: ProposalStatus
    role: Role
    capabilities: int
    new_threshold: int
    votes: int
    required_votes: int
    deadline: int
    proposer_org_id: bytes
    org_id: bytes
    account: str


@dataclass(frozen=True, slots=True)
class ProposalOutcome:
    """What a proposal or a vote did: the proposal id, its votes, whether it executed, the receipt."""

    proposal_id: int
    votes: int
    executed: bool
    receipt: Receipt


class Consortium(Facade):
    """The Consortium: who is a member, with which role and capabilities, decided by admin votes.

    Every proposing method returns a ProposalOutcome; with a threshold of one the proposal executes
    in the same transaction (``executed`` is True). Reverts raise the typed ``Consortium*`` errors.
    """

    CONTRACT = "Consortium"

    # ------------------------------------------------------------------------------ proposals

    def _deadline(self, deadline: int | None) -> int:
        return deadline if deadline is not None else self.chain.timestamp() + DEFAULT_VOTING_PERIOD

    def _outcome(self, receipt: Receipt) -> ProposalOutcome:
        voted = receipt.event("ProposalVoted")
        executed = any(e.name == "ProposalExecuted" for e in receipt.events)
        return ProposalOutcome(voted["proposalId"], voted["votes"], executed, receipt)

    def propose_admission(
        self,
        signer: Signer,
        org_id: bytes,
        account: str,
        role: Role,
        capabilities: int = Capability.NONE,
        *,
        deadline: int | None = None,
    ) -> ProposalOutcome:
        """Propose to admit ``org_id`` acting through ``account`` with ``role`` and ``capabilities``."""
        receipt = self.transact(
            signer,
            "proposeAdmission",
            org_id,
            account,
            int(role),
            int(capabilities),
            self._deadline(deadline),
        )
        return self._outcome(receipt)

    def propose_suspension(
        self, signer: Signer, org_id: bytes, *, deadline: int | None = None
    ) -> ProposalOutcome:
        """Propose to suspend the ACTIVE member ``org_id``."""
        return self._outcome(self.transact(signer, "proposeSuspension", org_id, self._deadline(deadline)))

    def propose_reinstatement(
        self, signer: Signer, org_id: bytes, *, deadline: int | None = None
    ) -> ProposalOutcome:
        """Propose to reinstate the SUSPENDED member ``org_id``."""
        return self._outcome(self.transact(signer, "proposeReinstatement", org_id, self._deadline(deadline)))

    def propose_removal(
        self, signer: Signer, org_id: bytes, *, deadline: int | None = None
    ) -> ProposalOutcome:
        """Propose to remove member ``org_id`` for good."""
        return self._outcome(self.transact(signer, "proposeRemoval", org_id, self._deadline(deadline)))

    def propose_role_change(
        self, signer: Signer, org_id: bytes, role: Role, capabilities: int, *, deadline: int | None = None
    ) -> ProposalOutcome:
        """Propose to give member ``org_id`` a new role and capabilities."""
        receipt = self.transact(
            signer, "proposeRoleChange", org_id, int(role), int(capabilities), self._deadline(deadline)
        )
        return self._outcome(receipt)

    def propose_threshold(
        self, signer: Signer, new_threshold: int, *, deadline: int | None = None
    ) -> ProposalOutcome:
        """Propose a new voting threshold for later proposals."""
        return self._outcome(
            self.transact(signer, "proposeThreshold", new_threshold, self._deadline(deadline))
        )

    def vote(self, signer: Signer, proposal_id: int) -> ProposalOutcome:
        """Vote for ``proposal_id``; it executes when this vote reaches its required votes."""
        return self._outcome(self.transact(signer, "vote", proposal_id))

    def cancel(self, signer: Signer, proposal_id: int) -> Receipt:
        """Cancel an OPEN proposal (the proposing organisation only)."""
        return self.transact(signer, "cancel", proposal_id)

    def rotate_account(self, signer: Signer, new_account: str) -> Receipt:
        """Move the caller's membership to ``new_account``; the old account is retired for good."""
        return self.transact(signer, "rotateAccount", new_account)

    # ------------------------------------------------------------------------------ views

    def member(self, org_id: bytes) -> Member:
        """The member record of ``org_id`` (status NONE when unknown)."""
        return record(Member, self.call("member", org_id))

    def member_of(self, account: str) -> Member:
        """The member record ``account`` acts for (status NONE when none)."""
        return record(Member, self.call("memberOf", account))

    def role_of(self, account: str) -> Role:
        """The role of ``account`` if it is an ACTIVE member's account, NONE otherwise."""
        return Role(self.call("roleOf", account))

    def is_active(self, account: str) -> bool:
        """Whether ``account`` is the account of an ACTIVE member."""
        return bool(self.call("isActive", account))

    def has_role(self, account: str, role: Role) -> bool:
        """Whether ``account`` is an ACTIVE member's account with ``role``."""
        return bool(self.call("hasRole", account, int(role)))

    def has_capability(self, account: str, capability: int) -> bool:
        """Whether ``account`` is an ACTIVE member's account holding every bit of ``capability``."""
        return bool(self.call("hasCapability", account, int(capability)))

    def org_id_of(self, account: str) -> bytes:
        """The org id ``account`` acts for, in any status (32 zero bytes if none)."""
        return bytes(self.call("orgIdOf", account))

    def threshold(self) -> int:
        """Votes a proposal made now needs."""
        return int(self.call("threshold"))

    def active_admin_count(self) -> int:
        """Number of ACTIVE members with role ADMIN."""
        return int(self.call("activeAdminCount"))

    def proposal_count(self) -> int:
        """Number of proposals made so far (the highest id)."""
        return int(self.call("proposalCount"))

    def proposal(self, proposal_id: int) -> Proposal:
        """The stored proposal; ConsortiumUnknownProposal when there is none."""
        return record(Proposal, self.call("proposal", proposal_id), proposal_id=proposal_id)

    def proposal_state(self, proposal_id: int) -> ProposalStatus:
        """The proposal's status, EXPIRED for an OPEN one past its deadline, NONE if unknown."""
        return ProposalStatus(self.call("proposalState", proposal_id))

    def has_voted(self, proposal_id: int, org_id: bytes) -> bool:
        """Whether ``org_id`` voted for ``proposal_id``."""
        return bool(self.call("hasVoted", proposal_id, org_id))
