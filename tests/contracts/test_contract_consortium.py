"""Consortium governance: bootstrap, proposals, thresholds, deadlines, member lifecycle, key rotation."""

from __future__ import annotations

from typing import Any

import pytest
from _contract_chain import ALL_CAPABILITIES, LOG_OPERATOR, Cast, Chain, Role, b32, reverted
from web3 import EthereumTesterProvider, Web3

from contracts import load_artifact

DAY = 86_400
ADMIN0 = b32("admin-0")
ADMIN1 = b32("admin-1")

# Indexes into the Member and Proposal tuples returned by the views.
M_ACCOUNT, M_ROLE, M_STATUS, M_CAPS = 1, 2, 3, 4
P_STATUS, P_VOTES, P_REQUIRED = 1, 5, 6
ACTIVE, SUSPENDED, REMOVED = 1, 2, 3
OPEN, EXECUTED, CANCELLED, EXPIRED = 1, 2, 3, 4


def _propose_admit(c: Chain, org: str, account: str, role: Role = Role.ENTERPRISE, caps: int = 0) -> Any:
    return c.consortium.functions.proposeAdmission(b32(org), account, role, caps, c.now() + DAY)


@pytest.mark.parametrize(
    ("orgs", "accounts", "caps", "threshold", "error"),
    [
        ([], [], [], 1, ("ConsortiumInvalidBootstrap", ())),
        ([ADMIN0], [], [0], 1, ("ConsortiumInvalidBootstrap", ())),
        ([ADMIN0], ["A"], [0], 0, ("ConsortiumInvalidThreshold", (0, 1))),
        ([ADMIN0], ["A"], [0], 2, ("ConsortiumInvalidThreshold", (2, 1))),
        ([ADMIN0, ADMIN0], ["A", "B"], [0, 0], 1, ("ConsortiumMemberExists", (ADMIN0,))),
        ([ADMIN0, ADMIN1], ["A", "A"], [0, 0], 1, ("ConsortiumAccountInUse", ("A",))),
        ([ADMIN0], ["A"], [0x10], 1, ("ConsortiumInvalidCapabilities", (0x10,))),
    ],
)
def test_bootstrap_is_validated(
    orgs: list[bytes],
    accounts: list[str],
    caps: list[int],
    threshold: int,
    error: tuple[str, tuple[Any, ...]],
) -> None:
    """The constructor refuses empty or mismatched lists, bad thresholds and duplicate members."""
    w3 = Web3(EthereumTesterProvider())
    first, second = (str(a) for a in list(w3.eth.accounts)[:2])
    names = {"A": first, "B": second}
    artifact = load_artifact("Consortium")
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    deploy_call = factory.constructor(orgs, [names[a] for a in accounts], caps, threshold)
    expected = (error[0], tuple(names.get(a, a) if isinstance(a, str) else a for a in error[1]))
    assert reverted(lambda: deploy_call.estimate_gas({"from": names["A"]})) == expected


def test_bootstrap_admits_admins_and_sets_threshold(chain: Chain) -> None:
    """Bootstrap admins are ACTIVE ADMINs with their capabilities; the threshold is recorded."""
    c = chain
    assert c.consortium.functions.threshold().call() == 2
    assert c.consortium.functions.activeAdminCount().call() == 2
    member = c.consortium.functions.member(ADMIN0).call()
    assert (member[M_ACCOUNT], member[M_ROLE], member[M_STATUS], member[M_CAPS]) == (
        c.admins[0],
        Role.ADMIN,
        ACTIVE,
        LOG_OPERATOR,
    )
    assert c.consortium.functions.hasCapability(c.admins[0], LOG_OPERATOR).call()
    assert not c.consortium.functions.hasCapability(c.admins[1], LOG_OPERATOR).call()
    assert c.consortium.functions.ALL_CAPABILITIES().call() == ALL_CAPABILITIES


def test_unknown_accounts_are_denied(chain: Chain) -> None:
    """An account that is no member is inactive, has no role, no capability and no org."""
    c = chain
    stranger = c.others[0]
    assert not c.consortium.functions.isActive(stranger).call()
    assert c.consortium.functions.roleOf(stranger).call() == Role.NONE
    assert not c.consortium.functions.hasRole(stranger, Role.NONE).call()
    assert not c.consortium.functions.hasCapability(stranger, 0).call()
    assert c.consortium.functions.activeMember(stranger).call() == [b"\0" * 32, 0, 0]
    assert c.consortium.functions.memberOf(stranger).call()[M_STATUS] == 0


def test_only_active_admins_propose_and_vote(cast: Cast) -> None:
    """Departments, enterprises and outsiders can neither propose nor vote."""
    c = cast.chain
    for account in (cast.dept, cast.bank, cast.outsider):
        assert c.fails(_propose_admit(c, "x", c.others[7]), account) == ("ConsortiumNotAdmin", (account,))
    c.send(_propose_admit(c, "x", c.others[7]), cast.bureau)
    proposal_id = c.consortium.functions.proposalCount().call()
    assert c.fails(c.consortium.functions.vote(proposal_id), cast.bank) == (
        "ConsortiumNotAdmin",
        (cast.bank,),
    )


def test_proposal_executes_on_the_deciding_vote(chain: Chain) -> None:
    """Proposing is the first vote; the vote that reaches the threshold executes the proposal."""
    c = chain
    receipt = c.send(_propose_admit(c, "bank", c.others[0]), c.admins[0])
    created = c.events(c.consortium, receipt, "ProposalCreated")[0].args
    assert (created.proposalId, created.proposerOrgId, created.requiredVotes) == (1, ADMIN0, 2)
    assert c.consortium.functions.proposalState(1).call() == OPEN
    assert c.consortium.functions.hasVoted(1, ADMIN0).call()
    receipt = c.send(c.consortium.functions.vote(1), c.admins[1])
    assert len(c.events(c.consortium, receipt, "ProposalExecuted")) == 1
    admitted = c.events(c.consortium, receipt, "MemberAdmitted")[0].args
    assert (admitted.orgId, admitted.account, admitted.role) == (b32("bank"), c.others[0], Role.ENTERPRISE)
    proposal = c.consortium.functions.proposal(1).call()
    assert (proposal[P_STATUS], proposal[P_VOTES], proposal[P_REQUIRED]) == (EXECUTED, 2, 2)
    assert c.fails(c.consortium.functions.vote(1), c.admins[1]) == (
        "ConsortiumProposalNotOpen",
        (1, EXECUTED),
    )


def test_double_vote_reverts(chain: Chain) -> None:
    """The proposer cannot vote again, so one admin alone never reaches a threshold of two."""
    c = chain
    c.send(_propose_admit(c, "bank", c.others[0]), c.admins[0])
    assert c.fails(c.consortium.functions.vote(1), c.admins[0]) == ("ConsortiumAlreadyVoted", (1, ADMIN0))


def test_deadline_must_be_future_and_expired_proposals_refuse_votes(chain: Chain) -> None:
    """A past deadline is refused; after the deadline a vote reverts naming it, and the state is EXPIRED."""
    c = chain
    now = c.now()
    stale = c.consortium.functions.proposeAdmission(b32("bank"), c.others[0], Role.ENTERPRISE, 0, now)
    assert c.fails(stale, c.admins[0])[0] == "ConsortiumInvalidDeadline"
    deadline = now + 100
    c.send(c.consortium.functions.proposeAdmission(b32("bank"), c.others[0], 3, 0, deadline), c.admins[0])
    c.travel(200)
    assert c.consortium.functions.proposalState(1).call() == EXPIRED
    assert c.fails(c.consortium.functions.vote(1), c.admins[1]) == (
        "ConsortiumProposalExpired",
        (1, deadline),
    )


def test_cancel_only_by_proposer(chain: Chain) -> None:
    """Only the proposing organisation cancels; a cancelled proposal takes no votes."""
    c = chain
    c.send(_propose_admit(c, "bank", c.others[0]), c.admins[0])
    assert c.fails(c.consortium.functions.cancel(1), c.admins[1]) == (
        "ConsortiumNotProposer",
        (1, c.admins[1]),
    )
    assert c.fails(c.consortium.functions.cancel(9), c.admins[0]) == ("ConsortiumUnknownProposal", (9,))
    c.send(c.consortium.functions.cancel(1), c.admins[0])
    assert c.fails(c.consortium.functions.vote(1), c.admins[1]) == (
        "ConsortiumProposalNotOpen",
        (1, CANCELLED),
    )
    assert c.fails(c.consortium.functions.proposal(9), c.admins[0]) == ("ConsortiumUnknownProposal", (9,))


def test_admission_arguments_are_checked(cast: Cast) -> None:
    """Duplicate org ids, used accounts, NONE roles and unknown capability bits are refused."""
    c = cast.chain
    fresh = c.others[7]
    propose = c.consortium.functions.proposeAdmission
    later = c.now() + DAY
    cases = [
        (propose(b32("bank"), fresh, 3, 0, later), ("ConsortiumMemberExists", (b32("bank"),))),
        (propose(b32("new"), cast.bank, 3, 0, later), ("ConsortiumAccountInUse", (cast.bank,))),
        (
            propose(b32("new"), "0x" + "00" * 20, 3, 0, later),
            ("ConsortiumInvalidAccount", ("0x" + "00" * 20,)),
        ),
        (propose(b"\0" * 32, fresh, 3, 0, later), ("ConsortiumInvalidOrgId", (b"\0" * 32,))),
        (propose(b32("new"), fresh, 0, 0, later), ("ConsortiumInvalidRole", (0,))),
        (propose(b32("new"), fresh, 3, 0x20, later), ("ConsortiumInvalidCapabilities", (0x20,))),
    ]
    for call, error in cases:
        assert c.fails(call, cast.bureau) == error


def test_two_admissions_of_one_org_cannot_both_execute(chain: Chain) -> None:
    """Checks run again at execution, so a second proposal for an admitted org cannot pass."""
    c = chain
    c.send(_propose_admit(c, "bank", c.others[0]), c.admins[0])
    c.send(_propose_admit(c, "bank", c.others[1]), c.admins[0])
    c.send(c.consortium.functions.vote(1), c.admins[1])
    assert c.fails(c.consortium.functions.vote(2), c.admins[1]) == ("ConsortiumMemberExists", (b32("bank"),))


def _decide(c: Chain, call: Any) -> None:
    c.send(call, c.admins[0])
    c.send(c.consortium.functions.vote(c.consortium.functions.proposalCount().call()), c.admins[1])


def test_suspend_reinstate_remove_lifecycle(cast: Cast) -> None:
    """Suspension denies a member everything, reinstatement restores it, removal is final."""
    c = cast.chain
    bank = b32("bank")
    later = c.now() + DAY
    assert c.fails(c.consortium.functions.proposeReinstatement(bank, later), cast.bureau) == (
        "ConsortiumInvalidMemberStatus",
        (bank, ACTIVE),
    )
    _decide(c, c.consortium.functions.proposeSuspension(bank, later))
    assert not c.consortium.functions.isActive(cast.bank).call()
    assert not c.consortium.functions.isActiveOrg(bank).call()
    assert c.consortium.functions.roleOf(cast.bank).call() == Role.NONE
    assert c.consortium.functions.memberOf(cast.bank).call()[M_STATUS] == SUSPENDED
    _decide(c, c.consortium.functions.proposeReinstatement(bank, later))
    assert c.consortium.functions.roleOf(cast.bank).call() == Role.ENTERPRISE
    _decide(c, c.consortium.functions.proposeRemoval(bank, later))
    assert c.consortium.functions.member(bank).call()[M_STATUS] == REMOVED
    for call in (
        c.consortium.functions.proposeReinstatement(bank, later),
        c.consortium.functions.proposeRemoval(bank, later),
        c.consortium.functions.proposeRoleChange(bank, Role.DEPARTMENT, 0, later),
    ):
        assert c.fails(call, cast.bureau) == ("ConsortiumInvalidMemberStatus", (bank, REMOVED))
    assert c.fails(c.consortium.functions.proposeSuspension(b32("ghost"), later), cast.bureau) == (
        "ConsortiumUnknownMember",
        (b32("ghost"),),
    )


def test_role_change_replaces_role_and_capabilities(cast: Cast) -> None:
    """A role change emits the previous and new role and capabilities."""
    c = cast.chain
    c.send(
        c.consortium.functions.proposeRoleChange(b32("auditor"), Role.AUDITOR, 8, c.now() + DAY), cast.bureau
    )
    receipt = c.send(c.consortium.functions.vote(c.consortium.functions.proposalCount().call()), cast.admin2)
    changed = c.events(c.consortium, receipt, "MemberRoleChanged")[0].args
    assert (changed.previousRole, changed.previousCapabilities, changed.role, changed.capabilities) == (
        Role.AUDITOR,
        0,
        Role.AUDITOR,
        8,
    )
    assert c.consortium.functions.hasCapability(cast.auditor, 8).call()


def test_threshold_changes_and_admin_count_is_protected(chain: Chain) -> None:
    """The threshold stays within the active admins; losing an admin below it is refused."""
    c = chain
    later = c.now() + DAY
    assert c.fails(c.consortium.functions.proposeThreshold(3, later), c.admins[0]) == (
        "ConsortiumInvalidThreshold",
        (3, 2),
    )
    assert c.fails(c.consortium.functions.proposeSuspension(ADMIN1, later), c.admins[0]) == (
        "ConsortiumThresholdUnreachable",
        (2, 1),
    )
    assert c.fails(c.consortium.functions.proposeRoleChange(ADMIN1, Role.AUDITOR, 0, later), c.admins[0]) == (
        "ConsortiumThresholdUnreachable",
        (2, 1),
    )
    c.send(c.consortium.functions.proposeThreshold(1, later), c.admins[0])
    receipt = c.send(c.consortium.functions.vote(1), c.admins[1])
    changed = c.events(c.consortium, receipt, "ThresholdChanged")[0].args
    assert (changed.previousThreshold, changed.threshold) == (2, 1)
    # With threshold one a proposal executes inside the proposing transaction.
    c.send(c.consortium.functions.proposeSuspension(ADMIN1, later), c.admins[0])
    assert c.consortium.functions.activeAdminCount().call() == 1
    assert c.fails(c.consortium.functions.proposeRemoval(ADMIN0, later), c.admins[0]) == (
        "ConsortiumThresholdUnreachable",
        (1, 0),
    )


def test_threshold_is_fixed_when_a_proposal_is_made(chain: Chain) -> None:
    """Lowering the threshold does not pass a proposal that was made under the higher one."""
    c = chain
    later = c.now() + DAY
    c.send(_propose_admit(c, "bank", c.others[0]), c.admins[0])
    c.send(c.consortium.functions.proposeThreshold(1, later), c.admins[0])
    c.send(c.consortium.functions.vote(2), c.admins[1])
    assert c.consortium.functions.proposalState(1).call() == OPEN
    assert c.consortium.functions.proposal(1).call()[P_REQUIRED] == 2


def test_rotate_account_moves_membership(cast: Cast) -> None:
    """Rotation moves the org to the new account, retires the old one and keeps votes per org."""
    c = cast.chain
    new_key = c.others[7]
    receipt = c.send(c.consortium.functions.rotateAccount(new_key), cast.bank)
    rotated = c.events(c.consortium, receipt, "AccountRotated")[0].args
    assert (rotated.orgId, rotated.previousAccount, rotated.newAccount) == (b32("bank"), cast.bank, new_key)
    assert c.consortium.functions.roleOf(new_key).call() == Role.ENTERPRISE
    assert not c.consortium.functions.isActive(cast.bank).call()
    assert c.fails(c.consortium.functions.rotateAccount(c.others[6]), cast.bank) == (
        "ConsortiumUnknownAccount",
        (cast.bank,),
    )
    assert c.fails(c.consortium.functions.rotateAccount(cast.bank), new_key) == (
        "ConsortiumAccountInUse",
        (cast.bank,),
    )
    assert c.fails(_propose_admit(c, "reuse", cast.bank), cast.bureau) == (
        "ConsortiumAccountInUse",
        (cast.bank,),
    )

    # An admin that rotates mid-vote still cannot vote twice for its organisation.
    c.send(_propose_admit(c, "new", c.others[6]), cast.bureau)
    proposal_id = c.consortium.functions.proposalCount().call()
    admin_key = c.others[5]
    c.send(c.consortium.functions.rotateAccount(admin_key), cast.bureau)
    assert c.fails(c.consortium.functions.vote(proposal_id), admin_key) == (
        "ConsortiumAlreadyVoted",
        (proposal_id, ADMIN0),
    )
