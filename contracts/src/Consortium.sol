// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsortium} from "./IConsortium.sol";

/**
 * @title Consortium
 * @notice Membership and threshold governance of the tdex chain. See {IConsortium}.
 */
contract Consortium is IConsortium {
    uint32 public constant CREDIT_RECORDER = 1 << 0;
    uint32 public constant CERT_ISSUER = 1 << 1;
    uint32 public constant LOG_OPERATOR = 1 << 2;
    uint32 public constant WITNESS = 1 << 3;
    uint32 public constant ALL_CAPABILITIES = CREDIT_RECORDER | CERT_ISSUER | LOG_OPERATOR | WITNESS;

    mapping(bytes32 orgId => Member) private _members;
    mapping(address account => bytes32 orgId) private _orgOf;
    // Accounts rotated away from are never reused, so a leaked old key cannot come back as a member.
    mapping(address account => bool) private _retired;

    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(bytes32 orgId => bool)) private _voted;
    uint256 private _proposalCount;

    uint16 private _threshold;
    uint256 private _activeAdmins;

    /**
     * @notice Admits the bootstrap ADMIN members and sets the voting threshold.
     * @dev Requirements: the three lists are non-empty and of equal length; each org id, account
     * and capability set is valid and distinct; 1 <= `threshold_` <= number of admins.
     * Emits {MemberAdmitted} per admin and {ThresholdChanged}.
     */
    constructor(
        bytes32[] memory adminOrgIds,
        address[] memory adminAccounts,
        uint32[] memory adminCapabilities,
        uint16 threshold_
    ) {
        uint256 n = adminOrgIds.length;
        if (n == 0 || adminAccounts.length != n || adminCapabilities.length != n) {
            revert ConsortiumInvalidBootstrap();
        }
        for (uint256 i = 0; i < n; ++i) {
            _checkAdmission(adminOrgIds[i], adminAccounts[i], Role.ADMIN, adminCapabilities[i]);
            _admit(adminOrgIds[i], adminAccounts[i], Role.ADMIN, adminCapabilities[i]);
        }
        if (threshold_ == 0 || threshold_ > n) revert ConsortiumInvalidThreshold(threshold_, n);
        _threshold = threshold_;
        emit ThresholdChanged(0, threshold_);
    }

    // -------------------------------------------------------------------------------- proposals

    /// @inheritdoc IConsortium
    function proposeAdmission(
        bytes32 orgId,
        address account,
        Role role,
        uint32 capabilities,
        uint64 deadline
    ) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.ADMIT, orgId, deadline);
        _checkAdmission(orgId, account, role, capabilities);
        p.account = account;
        p.role = role;
        p.capabilities = capabilities;
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function proposeSuspension(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.SUSPEND, orgId, deadline);
        _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.ACTIVE);
        _checkAdminLoss(orgId, _threshold);
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function proposeReinstatement(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.REINSTATE, orgId, deadline);
        _checkStatus(orgId, MemberStatus.SUSPENDED, MemberStatus.SUSPENDED);
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function proposeRemoval(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.REMOVE, orgId, deadline);
        _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.SUSPENDED);
        _checkAdminLoss(orgId, _threshold);
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function proposeRoleChange(
        bytes32 orgId,
        Role role,
        uint32 capabilities,
        uint64 deadline
    ) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.CHANGE_ROLE, orgId, deadline);
        _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.SUSPENDED);
        _checkRoleAndCapabilities(role, capabilities);
        if (role != Role.ADMIN) _checkAdminLoss(orgId, _threshold);
        p.role = role;
        p.capabilities = capabilities;
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function proposeThreshold(uint16 newThreshold, uint64 deadline) external returns (uint256 proposalId) {
        Proposal memory p = _draft(ProposalKind.SET_THRESHOLD, bytes32(0), deadline);
        _checkThreshold(newThreshold);
        p.newThreshold = newThreshold;
        return _open(p);
    }

    /// @inheritdoc IConsortium
    function vote(uint256 proposalId) external {
        bytes32 voter = _requireAdmin();
        Proposal storage p = _openProposal(proposalId);
        if (_voted[proposalId][voter]) revert ConsortiumAlreadyVoted(proposalId, voter);
        _castVote(proposalId, p, voter);
    }

    /// @inheritdoc IConsortium
    function cancel(uint256 proposalId) external {
        Proposal storage p = _proposals[proposalId];
        if (p.status == ProposalStatus.NONE) revert ConsortiumUnknownProposal(proposalId);
        if (_orgOf[msg.sender] != p.proposerOrgId) revert ConsortiumNotProposer(proposalId, msg.sender);
        if (p.status != ProposalStatus.OPEN) revert ConsortiumProposalNotOpen(proposalId, p.status);
        p.status = ProposalStatus.CANCELLED;
        emit ProposalCancelled(proposalId);
    }

    /// @inheritdoc IConsortium
    function rotateAccount(address newAccount) external {
        bytes32 orgId = _orgOf[msg.sender];
        if (orgId == bytes32(0)) revert ConsortiumUnknownAccount(msg.sender);
        Member storage m = _members[orgId];
        if (m.status == MemberStatus.REMOVED) revert ConsortiumInvalidMemberStatus(orgId, m.status);
        _checkFreshAccount(newAccount);
        delete _orgOf[msg.sender];
        _retired[msg.sender] = true;
        _orgOf[newAccount] = orgId;
        m.account = newAccount;
        m.updatedAt = uint64(block.timestamp);
        emit AccountRotated(orgId, msg.sender, newAccount);
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc IConsortium
    function isActive(address account) external view returns (bool) {
        (bytes32 orgId, , ) = _activeMember(account);
        return orgId != bytes32(0);
    }

    /// @inheritdoc IConsortium
    function isActiveOrg(bytes32 orgId) external view returns (bool) {
        return orgId != bytes32(0) && _members[orgId].status == MemberStatus.ACTIVE;
    }

    /// @inheritdoc IConsortium
    function roleOf(address account) external view returns (Role) {
        (, Role role, ) = _activeMember(account);
        return role;
    }

    /// @inheritdoc IConsortium
    function hasRole(address account, Role role) external view returns (bool) {
        (, Role actual, ) = _activeMember(account);
        return role != Role.NONE && actual == role;
    }

    /// @inheritdoc IConsortium
    function hasCapability(address account, uint32 capability) external view returns (bool) {
        (, , uint32 capabilities) = _activeMember(account);
        return capability != 0 && capabilities & capability == capability;
    }

    /// @inheritdoc IConsortium
    function activeMember(
        address account
    ) external view returns (bytes32 orgId, Role role, uint32 capabilities) {
        return _activeMember(account);
    }

    /// @inheritdoc IConsortium
    function orgIdOf(address account) external view returns (bytes32) {
        return _orgOf[account];
    }

    /// @inheritdoc IConsortium
    function memberOf(address account) external view returns (Member memory) {
        return _members[_orgOf[account]];
    }

    /// @inheritdoc IConsortium
    function member(bytes32 orgId) external view returns (Member memory) {
        return _members[orgId];
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint16) {
        return _threshold;
    }

    /// @inheritdoc IConsortium
    function activeAdminCount() external view returns (uint256) {
        return _activeAdmins;
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        Proposal memory p = _proposals[proposalId];
        if (p.status == ProposalStatus.NONE) revert ConsortiumUnknownProposal(proposalId);
        return p;
    }

    /// @inheritdoc IConsortium
    function proposalState(uint256 proposalId) external view returns (ProposalStatus) {
        Proposal storage p = _proposals[proposalId];
        if (p.status == ProposalStatus.OPEN && block.timestamp > p.deadline) return ProposalStatus.EXPIRED;
        return p.status;
    }

    /// @inheritdoc IConsortium
    function hasVoted(uint256 proposalId, bytes32 orgId) external view returns (bool) {
        return _voted[proposalId][orgId];
    }

    // --------------------------------------------------------------------------------- internal

    /// @dev Org id, role and capabilities of `account` if its member is ACTIVE, else all zero: deny by
    /// default. Reads two storage slots, since other contracts call it on every authorised write.
    function _activeMember(address account) private view returns (bytes32 orgId, Role role, uint32 capabilities) {
        bytes32 id = _orgOf[account];
        if (id == bytes32(0)) return (bytes32(0), Role.NONE, 0);
        Member storage m = _members[id];
        if (m.status != MemberStatus.ACTIVE) return (bytes32(0), Role.NONE, 0);
        return (id, m.role, m.capabilities);
    }

    function _requireAdmin() private view returns (bytes32 orgId) {
        orgId = _orgOf[msg.sender];
        Member storage m = _members[orgId];
        if (orgId == bytes32(0) || m.status != MemberStatus.ACTIVE || m.role != Role.ADMIN) {
            revert ConsortiumNotAdmin(msg.sender);
        }
    }

    /// @dev Authorises the caller and starts a proposal record; the kind's own checks come after.
    function _draft(ProposalKind kind, bytes32 orgId, uint64 deadline) private view returns (Proposal memory p) {
        p.proposerOrgId = _requireAdmin();
        if (deadline <= block.timestamp) revert ConsortiumInvalidDeadline(deadline, uint64(block.timestamp));
        p.kind = kind;
        p.orgId = orgId;
        p.deadline = deadline;
        // The threshold is fixed when the proposal is made, so a later threshold change cannot
        // retroactively pass or block a proposal already under vote.
        p.requiredVotes = _threshold;
    }

    function _open(Proposal memory p) private returns (uint256 proposalId) {
        proposalId = ++_proposalCount;
        p.status = ProposalStatus.OPEN;
        _proposals[proposalId] = p;
        emit ProposalCreated(proposalId, p.kind, p.orgId, p.proposerOrgId, p.deadline, p.requiredVotes);
        _castVote(proposalId, _proposals[proposalId], p.proposerOrgId);
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.status == ProposalStatus.NONE) revert ConsortiumUnknownProposal(proposalId);
        if (p.status != ProposalStatus.OPEN) revert ConsortiumProposalNotOpen(proposalId, p.status);
        if (block.timestamp > p.deadline) revert ConsortiumProposalExpired(proposalId, p.deadline);
    }

    function _castVote(uint256 proposalId, Proposal storage p, bytes32 voter) private {
        _voted[proposalId][voter] = true;
        uint16 votes = p.votes + 1;
        p.votes = votes;
        emit ProposalVoted(proposalId, voter, votes);
        if (votes >= p.requiredVotes) _execute(proposalId, p);
    }

    function _execute(uint256 proposalId, Proposal storage p) private {
        p.status = ProposalStatus.EXECUTED;
        emit ProposalExecuted(proposalId);
        ProposalKind kind = p.kind;
        bytes32 orgId = p.orgId;
        if (kind == ProposalKind.ADMIT) {
            _checkAdmission(orgId, p.account, p.role, p.capabilities);
            _admit(orgId, p.account, p.role, p.capabilities);
        } else if (kind == ProposalKind.SUSPEND) {
            _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.ACTIVE);
            _checkAdminLoss(orgId, _threshold);
            _setStatus(orgId, MemberStatus.SUSPENDED);
            emit MemberSuspended(orgId);
        } else if (kind == ProposalKind.REINSTATE) {
            _checkStatus(orgId, MemberStatus.SUSPENDED, MemberStatus.SUSPENDED);
            _setStatus(orgId, MemberStatus.ACTIVE);
            emit MemberReinstated(orgId);
        } else if (kind == ProposalKind.REMOVE) {
            _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.SUSPENDED);
            _checkAdminLoss(orgId, _threshold);
            _setStatus(orgId, MemberStatus.REMOVED);
            emit MemberRemoved(orgId);
        } else if (kind == ProposalKind.CHANGE_ROLE) {
            _changeRole(orgId, p.role, p.capabilities);
        } else {
            _checkThreshold(p.newThreshold);
            emit ThresholdChanged(_threshold, p.newThreshold);
            _threshold = p.newThreshold;
        }
    }

    function _admit(bytes32 orgId, address account, Role role, uint32 capabilities) private {
        uint64 nowTs = uint64(block.timestamp);
        _members[orgId] = Member({
            orgId: orgId,
            account: account,
            role: role,
            status: MemberStatus.ACTIVE,
            capabilities: capabilities,
            admittedAt: nowTs,
            updatedAt: nowTs
        });
        _orgOf[account] = orgId;
        if (role == Role.ADMIN) ++_activeAdmins;
        emit MemberAdmitted(orgId, account, role, capabilities);
    }

    function _setStatus(bytes32 orgId, MemberStatus status) private {
        Member storage m = _members[orgId];
        bool wasActiveAdmin = m.role == Role.ADMIN && m.status == MemberStatus.ACTIVE;
        bool isActiveAdmin = m.role == Role.ADMIN && status == MemberStatus.ACTIVE;
        m.status = status;
        m.updatedAt = uint64(block.timestamp);
        if (wasActiveAdmin && !isActiveAdmin) --_activeAdmins;
        if (!wasActiveAdmin && isActiveAdmin) ++_activeAdmins;
    }

    function _changeRole(bytes32 orgId, Role role, uint32 capabilities) private {
        _checkStatus(orgId, MemberStatus.ACTIVE, MemberStatus.SUSPENDED);
        if (role != Role.ADMIN) _checkAdminLoss(orgId, _threshold);
        Member storage m = _members[orgId];
        Role previousRole = m.role;
        uint32 previousCapabilities = m.capabilities;
        if (m.status == MemberStatus.ACTIVE) {
            if (previousRole == Role.ADMIN && role != Role.ADMIN) --_activeAdmins;
            if (previousRole != Role.ADMIN && role == Role.ADMIN) ++_activeAdmins;
        }
        m.role = role;
        m.capabilities = capabilities;
        m.updatedAt = uint64(block.timestamp);
        emit MemberRoleChanged(orgId, previousRole, previousCapabilities, role, capabilities);
    }

    function _checkAdmission(bytes32 orgId, address account, Role role, uint32 capabilities) private view {
        if (orgId == bytes32(0)) revert ConsortiumInvalidOrgId(orgId);
        if (_members[orgId].status != MemberStatus.NONE) revert ConsortiumMemberExists(orgId);
        _checkFreshAccount(account);
        _checkRoleAndCapabilities(role, capabilities);
    }

    function _checkFreshAccount(address account) private view {
        if (account == address(0)) revert ConsortiumInvalidAccount(account);
        if (_orgOf[account] != bytes32(0) || _retired[account]) revert ConsortiumAccountInUse(account);
    }

    function _checkRoleAndCapabilities(Role role, uint32 capabilities) private pure {
        if (role == Role.NONE) revert ConsortiumInvalidRole(role);
        if (capabilities & ~ALL_CAPABILITIES != 0) revert ConsortiumInvalidCapabilities(capabilities);
    }

    /// @dev Reverts unless member `orgId` exists and its status is `a` or `b`.
    function _checkStatus(bytes32 orgId, MemberStatus a, MemberStatus b) private view {
        MemberStatus status = _members[orgId].status;
        if (status == MemberStatus.NONE) revert ConsortiumUnknownMember(orgId);
        if (status != a && status != b) revert ConsortiumInvalidMemberStatus(orgId, status);
    }

    /// @dev Reverts if taking `orgId` out of the active admins would leave fewer than `needed`.
    function _checkAdminLoss(bytes32 orgId, uint16 needed) private view {
        Member storage m = _members[orgId];
        if (m.role == Role.ADMIN && m.status == MemberStatus.ACTIVE && _activeAdmins - 1 < needed) {
            revert ConsortiumThresholdUnreachable(needed, _activeAdmins - 1);
        }
    }

    function _checkThreshold(uint16 newThreshold) private view {
        if (newThreshold == 0 || newThreshold > _activeAdmins) {
            revert ConsortiumInvalidThreshold(newThreshold, _activeAdmins);
        }
    }
}
