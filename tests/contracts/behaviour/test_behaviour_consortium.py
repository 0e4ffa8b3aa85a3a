"""Consortium behaviour through the ledger client: admission by vote, threshold, deadline, double vote."""

from __future__ import annotations

from behaviour_support import DAY, World, expect_revert

from ledger import MemberStatus, ProposalStatus, Role, Signer
from ledger.ids import org_id


def test_bootstrap_admins_and_cast_are_active(w: World) -> None:
    """The bootstrap admins and the admitted cast are active members with their roles."""
    assert w.consortium.active_admin_count() == 2
    assert w.consortium.threshold() == 1
    member = w.consortium.member(org_id("health"))
    assert member.account == w.health.address
    assert member.role is Role.DEPARTMENT
    assert member.status is MemberStatus.ACTIVE
    assert w.consortium.has_role(w.bank.address, Role.ENTERPRISE)
    assert w.consortium.role_of(w.outsider.address) is Role.NONE


def test_admission_with_threshold_one_executes_at_once(w: World) -> None:
    """With threshold one the proposal executes in its own transaction and emits the member event."""
    newcomer = Signer.generate()
    outcome = w.consortium.propose_admission(w.bureau, org_id("newcomer"), newcomer.address, Role.ENTERPRISE)
    assert outcome.executed
    names = [e.name for e in outcome.receipt.events]
    assert names == ["ProposalCreated", "ProposalVoted", "ProposalExecuted", "MemberAdmitted"]
    admitted = outcome.receipt.event("MemberAdmitted")
    assert admitted["orgId"] == org_id("newcomer")
    assert admitted["account"] == newcomer.address
    assert admitted["role"] is Role.ENTERPRISE


def test_threshold_two_needs_a_second_admin_vote(w: World) -> None:
    """After raising the threshold to two, an admission waits for the second admin's vote."""
    assert w.consortium.propose_threshold(w.bureau, 2).executed
    assert w.consortium.threshold() == 2
    newcomer = Signer.generate()
    first = w.consortium.propose_admission(w.bureau, org_id("newcomer"), newcomer.address, Role.DEPARTMENT)
    assert not first.executed
    assert first.votes == 1
    assert w.consortium.proposal_state(first.proposal_id) is ProposalStatus.OPEN
    assert not w.consortium.is_active(newcomer.address)
    second = w.consortium.vote(w.second_admin, first.proposal_id)
    assert second.executed
    assert second.votes == 2
    assert second.receipt.event("MemberAdmitted")["orgId"] == org_id("newcomer")
    assert w.consortium.proposal_state(first.proposal_id) is ProposalStatus.EXECUTED
    assert w.consortium.is_active(newcomer.address)


def test_double_vote_is_refused(w: World) -> None:
    """An organisation votes once: the proposer voting again gets ConsortiumAlreadyVoted naming both."""
    w.consortium.propose_threshold(w.bureau, 2)
    pending = w.consortium.propose_suspension(w.bureau, org_id("bank"))
    with expect_revert("ConsortiumAlreadyVoted") as caught:
        w.consortium.vote(w.bureau, pending.proposal_id)
    assert caught.value.arguments == {"proposalId": pending.proposal_id, "voterOrgId": org_id("bureau")}
    assert caught.value.code == "ledger.revert.ConsortiumAlreadyVoted"
    assert w.consortium.proposal(pending.proposal_id).votes == 1


def test_vote_after_deadline_is_refused(w: World) -> None:
    """Once the chain clock passes the deadline, a vote gets ConsortiumProposalExpired with the deadline."""
    w.consortium.propose_threshold(w.bureau, 2)
    deadline = w.now() + DAY
    pending = w.consortium.propose_removal(w.bureau, org_id("logistics"), deadline=deadline)
    w.chain.advance_time(DAY + 60)
    assert w.consortium.proposal_state(pending.proposal_id) is ProposalStatus.EXPIRED
    with expect_revert("ConsortiumProposalExpired") as caught:
        w.consortium.vote(w.second_admin, pending.proposal_id)
    assert caught.value.proposal_id == pending.proposal_id  # type: ignore[attr-defined]
    assert caught.value.deadline == deadline  # type: ignore[attr-defined]
    assert w.consortium.member(org_id("logistics")).status is MemberStatus.ACTIVE


def test_deadline_in_the_past_is_refused(w: World) -> None:
    """A proposal whose deadline is not after the current block time is refused with both times."""
    with expect_revert("ConsortiumInvalidDeadline") as caught:
        w.consortium.propose_suspension(w.bureau, org_id("bank"), deadline=1)
    assert caught.value.arguments["deadline"] == 1


def test_non_admin_cannot_propose(w: World) -> None:
    """A department (wrong role) and a non-member both get ConsortiumNotAdmin naming their account."""
    for signer in (w.health, w.outsider):
        with expect_revert("ConsortiumNotAdmin") as caught:
            w.consortium.propose_suspension(signer, org_id("bank"))
        assert caught.value.arguments == {"account": signer.address}


def test_existing_member_cannot_be_admitted_twice(w: World) -> None:
    """Admitting an org id that exists gets ConsortiumMemberExists naming it."""
    with expect_revert("ConsortiumMemberExists") as caught:
        w.consortium.propose_admission(w.bureau, org_id("health"), Signer.generate().address, Role.DEPARTMENT)
    assert caught.value.arguments == {"orgId": org_id("health")}


def test_only_the_proposer_cancels(w: World) -> None:
    """Another admin cannot cancel a proposal; the proposer can, and voting on it is then refused."""
    w.consortium.propose_threshold(w.bureau, 2)
    pending = w.consortium.propose_suspension(w.bureau, org_id("bank"))
    with expect_revert("ConsortiumNotProposer") as caught:
        w.consortium.cancel(w.second_admin, pending.proposal_id)
    assert caught.value.arguments == {"proposalId": pending.proposal_id, "account": w.second_admin.address}
    receipt = w.consortium.cancel(w.bureau, pending.proposal_id)
    assert receipt.event("ProposalCancelled")["proposalId"] == pending.proposal_id
    with expect_revert("ConsortiumProposalNotOpen") as refused:
        w.consortium.vote(w.second_admin, pending.proposal_id)
    assert refused.value.arguments["status"] is ProposalStatus.CANCELLED


def test_suspended_department_cannot_register(w: World) -> None:
    """Suspension takes effect at once: the department's catalogue writes are refused."""
    w.consortium.propose_suspension(w.bureau, org_id("transport"))
    assert w.consortium.member(org_id("transport")).status is MemberStatus.SUSPENDED
    from ledger import ShareType

    with expect_revert("DataCatalogNotDepartment") as caught:
        w.register("transport-1", ShareType.UNCONDITIONAL, provider=w.transport)
    assert caught.value.arguments == {"account": w.transport.address}


def test_key_rotation_retires_the_old_account(w: World) -> None:
    """A member moves to a new key; the old account is no longer a member and cannot be reused."""
    new_key = Signer.generate()
    w.chain.fund(new_key.address)
    receipt = w.consortium.rotate_account(w.bank, new_key.address)
    rotated = receipt.event("AccountRotated")
    assert (rotated["previousAccount"], rotated["newAccount"]) == (w.bank.address, new_key.address)
    assert w.consortium.is_active(new_key.address)
    assert not w.consortium.is_active(w.bank.address)
    with expect_revert("ConsortiumAccountInUse") as caught:
        w.consortium.propose_admission(w.bureau, org_id("reuse"), w.bank.address, Role.ENTERPRISE)
    assert caught.value.arguments == {"account": w.bank.address}


def test_last_admins_cannot_be_removed_below_threshold(w: World) -> None:
    """With threshold two and two admins, suspending an admin would make the threshold unreachable."""
    w.consortium.propose_threshold(w.bureau, 2)
    with expect_revert("ConsortiumThresholdUnreachable") as caught:
        w.consortium.propose_suspension(w.bureau, org_id("second_admin"))
    assert caught.value.arguments["threshold"] == 2
