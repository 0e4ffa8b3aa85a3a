// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IConsortium
 * @notice Membership and governance of the permissioned chain. Every other tdex contract asks the
 * Consortium whether an account may act: deny by default.
 *
 * Members are organisations identified by `orgId` (a hash of the organisation's identifier, never
 * the identifier itself) and acting through one account at a time. Admission, suspension,
 * reinstatement, removal, role or capability changes and threshold changes are proposals that active
 * ADMIN members vote on. Proposing counts as the proposer's vote. A proposal executes automatically
 * inside the transaction that brings its votes to the threshold recorded when it was made (the
 * proposal itself when that threshold is one); there is no separate execute step. Votes are accepted
 * while `block.timestamp <= deadline`.
 *
 * Capabilities are a bitmask: CREDIT_RECORDER = 1, CERT_ISSUER = 2, LOG_OPERATOR = 4, WITNESS = 8.
 */
interface IConsortium {
    enum Role {
        NONE,
        ADMIN,
        DEPARTMENT,
        ENTERPRISE,
        AUDITOR
    }

    enum MemberStatus {
        NONE,
        ACTIVE,
        SUSPENDED,
        REMOVED
    }

    enum ProposalKind {
        ADMIT,
        SUSPEND,
        REINSTATE,
        REMOVE,
        CHANGE_ROLE,
        SET_THRESHOLD
    }

    /// @dev EXPIRED is never stored; `proposalState` reports it for an OPEN proposal past its deadline.
    enum ProposalStatus {
        NONE,
        OPEN,
        EXECUTED,
        CANCELLED,
        EXPIRED
    }

    struct Member {
        bytes32 orgId;
        address account;
        Role role;
        MemberStatus status;
        uint32 capabilities;
        uint64 admittedAt;
        uint64 updatedAt;
    }

    /// @dev Fields a kind does not use are zero: `account` only for ADMIT, `role` and `capabilities`
    /// for ADMIT and CHANGE_ROLE, `newThreshold` for SET_THRESHOLD, `orgId` for all but SET_THRESHOLD.
    struct Proposal {
        ProposalKind kind;
        ProposalStatus status;
        Role role;
        uint32 capabilities;
        uint16 newThreshold;
        uint16 votes;
        uint16 requiredVotes;
        uint64 deadline;
        bytes32 proposerOrgId;
        bytes32 orgId;
        address account;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active ADMIN member.
    error ConsortiumNotAdmin(address account);
    /// @dev `account` is not the account of any member.
    error ConsortiumUnknownAccount(address account);
    /// @dev No member has `orgId`.
    error ConsortiumUnknownMember(bytes32 orgId);
    /// @dev A member with `orgId` already exists (in any status; removed org ids are not reused).
    error ConsortiumMemberExists(bytes32 orgId);
    /// @dev `orgId` is zero.
    error ConsortiumInvalidOrgId(bytes32 orgId);
    /// @dev `account` is zero.
    error ConsortiumInvalidAccount(address account);
    /// @dev `account` belongs, or once belonged, to a member.
    error ConsortiumAccountInUse(address account);
    /// @dev `role` is NONE or out of range.
    error ConsortiumInvalidRole(Role role);
    /// @dev `capabilities` has bits outside ALL_CAPABILITIES.
    error ConsortiumInvalidCapabilities(uint32 capabilities);
    /// @dev The member `orgId` is in `status`, which does not allow the operation.
    error ConsortiumInvalidMemberStatus(bytes32 orgId, MemberStatus status);
    /// @dev `threshold` is zero or larger than the `activeAdmins` it would need.
    error ConsortiumInvalidThreshold(uint16 threshold, uint256 activeAdmins);
    /// @dev Executing would leave `activeAdmins` active admins, fewer than `threshold`.
    error ConsortiumThresholdUnreachable(uint16 threshold, uint256 activeAdmins);
    /// @dev The bootstrap lists have different lengths or are empty.
    error ConsortiumInvalidBootstrap();
    /// @dev `deadline` is not after `currentTime`.
    error ConsortiumInvalidDeadline(uint64 deadline, uint64 currentTime);
    /// @dev No proposal has `proposalId`.
    error ConsortiumUnknownProposal(uint256 proposalId);
    /// @dev The proposal's deadline passed.
    error ConsortiumProposalExpired(uint256 proposalId, uint64 deadline);
    /// @dev The proposal is not OPEN (it was executed or cancelled).
    error ConsortiumProposalNotOpen(uint256 proposalId, ProposalStatus status);
    /// @dev The organisation `voterOrgId` already voted for the proposal.
    error ConsortiumAlreadyVoted(uint256 proposalId, bytes32 voterOrgId);
    /// @dev `account` is not the proposer's account.
    error ConsortiumNotProposer(uint256 proposalId, address account);

    // ----------------------------------------------------------------------------------- events

    /// @notice An active admin made proposal `proposalId`, which needs `requiredVotes` votes by `deadline`.
    event ProposalCreated(
        uint256 indexed proposalId,
        ProposalKind kind,
        bytes32 indexed orgId,
        bytes32 indexed proposerOrgId,
        uint64 deadline,
        uint16 requiredVotes
    );
    /// @notice Organisation `voterOrgId` voted for proposal `proposalId`, which now has `votes` votes.
    event ProposalVoted(uint256 indexed proposalId, bytes32 indexed voterOrgId, uint16 votes);
    /// @notice Proposal `proposalId` reached its required votes and took effect.
    event ProposalExecuted(uint256 indexed proposalId);
    /// @notice Proposal `proposalId` was cancelled by its proposer.
    event ProposalCancelled(uint256 indexed proposalId);
    /// @notice Organisation `orgId` became an ACTIVE member acting through `account`.
    event MemberAdmitted(bytes32 indexed orgId, address indexed account, Role role, uint32 capabilities);
    /// @notice Member `orgId` was suspended; it can no longer act.
    event MemberSuspended(bytes32 indexed orgId);
    /// @notice Member `orgId` was reinstated to ACTIVE.
    event MemberReinstated(bytes32 indexed orgId);
    /// @notice Member `orgId` was removed for good.
    event MemberRemoved(bytes32 indexed orgId);
    /// @notice Member `orgId` had its role and capabilities replaced.
    event MemberRoleChanged(
        bytes32 indexed orgId,
        Role previousRole,
        uint32 previousCapabilities,
        Role role,
        uint32 capabilities
    );
    /// @notice The votes a new proposal needs changed from `previousThreshold` to `threshold`.
    event ThresholdChanged(uint16 previousThreshold, uint16 threshold);
    /// @notice Member `orgId` moved from `previousAccount` to `newAccount`.
    event AccountRotated(bytes32 indexed orgId, address indexed previousAccount, address indexed newAccount);

    // -------------------------------------------------------------------------------- proposals

    /**
     * @notice Proposes to admit organisation `orgId` acting through `account` with `role` and
     * `capabilities`; returns the new proposal id (ids start at 1).
     * @dev Requirements: caller is an active ADMIN; `orgId` non-zero and unknown; `account` non-zero
     * and never used by a member; `role` not NONE; `capabilities` within ALL_CAPABILITIES;
     * `deadline` after the current block time. The same checks run again at execution.
     * Emits {ProposalCreated}, {ProposalVoted} and, when the threshold is one, {ProposalExecuted}
     * and {MemberAdmitted}.
     */
    function proposeAdmission(
        bytes32 orgId,
        address account,
        Role role,
        uint32 capabilities,
        uint64 deadline
    ) external returns (uint256 proposalId);

    /**
     * @notice Proposes to suspend the ACTIVE member `orgId`.
     * @dev Requirements: caller is an active ADMIN; member ACTIVE; suspending an admin must leave at
     * least `threshold` active admins; `deadline` in the future.
     * Emits {ProposalCreated}, {ProposalVoted}, and on execution {ProposalExecuted}, {MemberSuspended}.
     */
    function proposeSuspension(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId);

    /**
     * @notice Proposes to reinstate the SUSPENDED member `orgId`.
     * @dev Requirements: caller is an active ADMIN; member SUSPENDED; `deadline` in the future.
     * Emits {ProposalCreated}, {ProposalVoted}, and on execution {ProposalExecuted}, {MemberReinstated}.
     */
    function proposeReinstatement(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId);

    /**
     * @notice Proposes to remove member `orgId` for good (its org id and accounts are never reused).
     * @dev Requirements: caller is an active ADMIN; member ACTIVE or SUSPENDED; removing an active
     * admin must leave at least `threshold` active admins; `deadline` in the future.
     * Emits {ProposalCreated}, {ProposalVoted}, and on execution {ProposalExecuted}, {MemberRemoved}.
     */
    function proposeRemoval(bytes32 orgId, uint64 deadline) external returns (uint256 proposalId);

    /**
     * @notice Proposes to give member `orgId` a new `role` and `capabilities` (replacing both).
     * @dev Requirements: caller is an active ADMIN; member ACTIVE or SUSPENDED; `role` not NONE;
     * `capabilities` within ALL_CAPABILITIES; demoting an active admin must leave at least
     * `threshold` active admins; `deadline` in the future.
     * Emits {ProposalCreated}, {ProposalVoted}, and on execution {ProposalExecuted}, {MemberRoleChanged}.
     */
    function proposeRoleChange(
        bytes32 orgId,
        Role role,
        uint32 capabilities,
        uint64 deadline
    ) external returns (uint256 proposalId);

    /**
     * @notice Proposes a new voting threshold for proposals made after it executes.
     * @dev Requirements: caller is an active ADMIN; 1 <= `newThreshold` <= active admins (checked
     * again at execution); `deadline` in the future.
     * Emits {ProposalCreated}, {ProposalVoted}, and on execution {ProposalExecuted}, {ThresholdChanged}.
     */
    function proposeThreshold(uint16 newThreshold, uint64 deadline) external returns (uint256 proposalId);

    /**
     * @notice Votes for proposal `proposalId`; executes it when this vote reaches its required votes.
     * @dev Requirements: caller is an active ADMIN; proposal exists, is OPEN and not past its
     * deadline; the caller's organisation has not voted for it. If execution's checks fail the
     * whole vote reverts with their error.
     * Emits {ProposalVoted}, and on execution {ProposalExecuted} plus the kind's member event.
     */
    function vote(uint256 proposalId) external;

    /**
     * @notice Cancels the OPEN proposal `proposalId`.
     * @dev Requirements: caller is the current account of the proposing organisation; proposal OPEN.
     * Emits {ProposalCancelled}.
     */
    function cancel(uint256 proposalId) external;

    /**
     * @notice Moves the caller's membership to `newAccount` (key rotation). The old account stops
     * being a member's account and can never be used again.
     * @dev Requirements: caller is the account of an ACTIVE or SUSPENDED member; `newAccount`
     * non-zero and never used by a member.
     * Emits {AccountRotated}.
     */
    function rotateAccount(address newAccount) external;

    // ------------------------------------------------------------------------------------ views

    /// @notice Capability bit: may record public-credit events.
    function CREDIT_RECORDER() external view returns (uint32);

    /// @notice Capability bit: may issue electronic certificates.
    function CERT_ISSUER() external view returns (uint32);

    /// @notice Capability bit: may anchor audit-log checkpoints.
    function LOG_OPERATOR() external view returns (uint32);

    /// @notice Capability bit: may cosign audit-log checkpoints.
    function WITNESS() external view returns (uint32);

    /// @notice All defined capability bits.
    function ALL_CAPABILITIES() external view returns (uint32);

    /// @notice Whether `account` is the account of an ACTIVE member.
    function isActive(address account) external view returns (bool);

    /// @notice Whether the member `orgId` is ACTIVE.
    function isActiveOrg(bytes32 orgId) external view returns (bool);

    /// @notice The role of `account` if it is an ACTIVE member's account, NONE otherwise.
    function roleOf(address account) external view returns (Role);

    /// @notice Whether `account` is an ACTIVE member's account with `role`.
    function hasRole(address account, Role role) external view returns (bool);

    /// @notice Whether `account` is an ACTIVE member's account holding every bit of `capability`.
    function hasCapability(address account, uint32 capability) external view returns (bool);

    /**
     * @notice The org id, role and capabilities of `account` if it is an ACTIVE member's account;
     * all zero (NONE) otherwise. The one call other contracts make to authorise a caller.
     */
    function activeMember(
        address account
    ) external view returns (bytes32 orgId, Role role, uint32 capabilities);

    /// @notice The org id `account` acts for, in any status; zero if none.
    function orgIdOf(address account) external view returns (bytes32);

    /// @notice The member record `account` acts for; an all-zero record (status NONE) if none.
    function memberOf(address account) external view returns (Member memory);

    /// @notice The member record of `orgId`; an all-zero record (status NONE) if none.
    function member(bytes32 orgId) external view returns (Member memory);

    /// @notice Votes a proposal made now needs.
    function threshold() external view returns (uint16);

    /// @notice Number of ACTIVE members with role ADMIN.
    function activeAdminCount() external view returns (uint256);

    /// @notice Number of proposals made so far (the highest proposal id).
    function proposalCount() external view returns (uint256);

    /**
     * @notice The stored proposal `proposalId`.
     * @dev Requirements: the proposal exists, else {ConsortiumUnknownProposal}.
     */
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice The proposal's status, EXPIRED for an OPEN one past its deadline, NONE if unknown.
    function proposalState(uint256 proposalId) external view returns (ProposalStatus);

    /// @notice Whether organisation `orgId` voted for proposal `proposalId`.
    function hasVoted(uint256 proposalId, bytes32 orgId) external view returns (bool);
}
