// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IDataCatalog} from "./IDataCatalog.sol";

/**
 * @title IAccessGrants
 * @notice Applications for catalogue resources and the grants that answer them ("apply on demand,
 * use by the rules, leave a trace of every use").
 *
 * A grant has the same id as the application it answers (one grant at most per application).
 * UNCONDITIONAL resources are granted inside {applyFor}: expiry is the requested expiry (at most
 * MAX_UNCONDITIONAL_TERM from now), uses DEFAULT_MAX_USES, budget DEFAULT_PRIVACY_BUDGET, and the
 * agreement hash is the application's policy hash. CONDITIONAL resources wait (PENDING) for the
 * provider's {approve} or {reject}. NOT_SHAREABLE resources are never granted: {applyFor} and
 * {approve} both refuse, and a grant whose resource later becomes NOT_SHAREABLE or is withdrawn
 * stops being usable.
 *
 * Privacy budget is an integer in micro-epsilon (1 epsilon = 1_000_000). A grant is expired when
 * `block.timestamp >= expiry`.
 */
interface IAccessGrants {
    enum ApplicationStatus {
        NONE,
        PENDING,
        GRANTED,
        REJECTED,
        WITHDRAWN
    }

    enum GrantStatus {
        NONE,
        ACTIVE,
        REVOKED
    }

    struct Application {
        bytes32 resourceCode;
        bytes32 applicantOrgId;
        bytes32 providerOrgId;
        bytes32 policyHash;
        bytes32 purposeHash;
        /// @dev The agreement hash once granted, the reason hash once rejected, zero otherwise.
        bytes32 decisionHash;
        uint64 requestedExpiry;
        uint64 submittedAt;
        uint64 decidedAt;
        ApplicationStatus status;
    }

    struct Grant {
        uint64 expiry;
        uint64 budgetLeft;
        uint32 usesLeft;
        uint32 maxUses;
        GrantStatus status;
        uint64 privacyBudget;
        uint64 grantedAt;
        uint64 revokedAt;
        bytes32 resourceCode;
        bytes32 providerOrgId;
        bytes32 granteeOrgId;
        bytes32 agreementHash;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active ENTERPRISE or DEPARTMENT member.
    error AccessGrantsNotApplicant(address account);
    /// @dev `account` does not act for `applicantOrgId`, the organisation that made the application.
    error AccessGrantsNotApplicationOwner(uint256 applicationId, address account);
    /// @dev `account` is not the active DEPARTMENT account of the provider of `resourceCode`.
    error AccessGrantsNotProvider(bytes32 resourceCode, address account);
    /// @dev `resourceCode` is not in the catalogue.
    error AccessGrantsUnknownResource(bytes32 resourceCode);
    /// @dev `resourceCode` was withdrawn from the catalogue.
    error AccessGrantsResourceWithdrawn(bytes32 resourceCode);
    /// @dev `resourceCode` is NOT_SHAREABLE.
    error AccessGrantsResourceNotShareable(bytes32 resourceCode);
    /// @dev `expiry` is outside [`minExpiry`, `maxExpiry`].
    error AccessGrantsExpiryOutOfRange(uint64 expiry, uint64 minExpiry, uint64 maxExpiry);
    /// @dev No template digests were given.
    error AccessGrantsNoTemplates();
    /// @dev `count` template digests exceed the maximum `max`.
    error AccessGrantsTooManyTemplates(uint256 count, uint256 max);
    /// @dev `templateDigest` is zero or repeated.
    error AccessGrantsInvalidTemplate(bytes32 templateDigest);
    /// @dev No application has `applicationId`.
    error AccessGrantsUnknownApplication(uint256 applicationId);
    /// @dev The application is in `status`, not PENDING.
    error AccessGrantsApplicationNotPending(uint256 applicationId, ApplicationStatus status);
    /// @dev `maxUses` is zero.
    error AccessGrantsInvalidMaxUses(uint32 maxUses);
    /// @dev A rejection or revocation of `id` (application or grant) gives no reason hash.
    error AccessGrantsMissingReason(uint256 id);
    /// @dev No grant has `grantId`.
    error AccessGrantsUnknownGrant(uint256 grantId);
    /// @dev The grant was revoked.
    error AccessGrantsGrantRevoked(uint256 grantId);
    /// @dev The grant expired at `expiry`.
    error AccessGrantsGrantExpired(uint256 grantId, uint64 expiry);
    /// @dev The grant's `maxUses` uses are used up.
    error AccessGrantsGrantExhausted(uint256 grantId, uint32 maxUses);
    /// @dev Spending `requested` micro-epsilon would exceed the `remaining` budget.
    error AccessGrantsBudgetExceeded(uint256 grantId, uint64 requested, uint64 remaining);
    /// @dev `templateDigest` is not among the grant's allowed templates.
    error AccessGrantsTemplateNotAllowed(uint256 grantId, bytes32 templateDigest);
    /// @dev The grantee `granteeOrgId` is no longer an active member.
    error AccessGrantsGranteeInactive(uint256 grantId, bytes32 granteeOrgId);

    // ----------------------------------------------------------------------------------- events

    /// @notice Organisation `applicantOrgId` applied for `resourceCode` (application `applicationId`).
    event ApplicationSubmitted(
        uint256 indexed applicationId,
        bytes32 indexed resourceCode,
        bytes32 indexed applicantOrgId,
        bytes32 policyHash,
        bytes32 purposeHash,
        uint64 requestedExpiry,
        bytes32[] templateDigests
    );
    /// @notice The provider rejected application `applicationId` for the reason hashed as `reasonHash`.
    event ApplicationRejected(uint256 indexed applicationId, bytes32 reasonHash);
    /// @notice The applicant withdrew application `applicationId`.
    event ApplicationWithdrawn(uint256 indexed applicationId);
    /// @notice Grant `grantId` on `resourceCode` was issued to `granteeOrgId`.
    event GrantIssued(
        uint256 indexed grantId,
        bytes32 indexed resourceCode,
        bytes32 indexed granteeOrgId,
        uint64 expiry,
        uint32 maxUses,
        uint64 privacyBudget,
        bytes32 agreementHash
    );
    /// @notice The provider revoked grant `grantId` for the reason hashed as `reasonHash`.
    event GrantRevoked(uint256 indexed grantId, bytes32 reasonHash);
    /// @notice One use of grant `grantId` ran template `templateDigest` and spent `budgetSpent`.
    event GrantConsumed(
        uint256 indexed grantId,
        bytes32 indexed templateDigest,
        uint64 budgetSpent,
        uint32 usesLeft,
        uint64 budgetLeft
    );

    // -------------------------------------------------------------------------------- mutations

    /**
     * @notice Applies for `resourceCode` on behalf of the caller's organisation; returns the
     * application id (ids start at 1). UNCONDITIONAL resources are granted at once under the same id.
     * @dev Named `applyFor` because `apply` is a reserved word in Solidity.
     * Requirements: caller is an active ENTERPRISE or DEPARTMENT; resource registered, not
     * withdrawn, not NOT_SHAREABLE; `requestedExpiry` after now (and for UNCONDITIONAL resources at
     * most MAX_UNCONDITIONAL_TERM from now); 1 to MAX_TEMPLATES distinct non-zero template digests.
     * Emits {ApplicationSubmitted}, and {GrantIssued} for an UNCONDITIONAL resource.
     */
    function applyFor(
        bytes32 resourceCode,
        bytes32 policyHash,
        bytes32 purposeHash,
        uint64 requestedExpiry,
        bytes32[] calldata templateDigests
    ) external returns (uint256 applicationId);

    /**
     * @notice Approves the PENDING application `applicationId`, issuing grant `applicationId`.
     * @dev Requirements: caller is the provider's active DEPARTMENT account; application PENDING;
     * resource not withdrawn and not NOT_SHAREABLE (an invariant, whatever the application said);
     * `expiry` after now; `maxUses` non-zero.
     * Emits {GrantIssued}.
     */
    function approve(
        uint256 applicationId,
        uint64 expiry,
        uint32 maxUses,
        uint64 privacyBudget,
        bytes32 agreementHash
    ) external;

    /**
     * @notice Rejects the PENDING application `applicationId` with the hash of the stated reason.
     * @dev Requirements: caller is the provider's active DEPARTMENT account; application PENDING;
     * `reasonHash` non-zero.
     * Emits {ApplicationRejected}.
     */
    function reject(uint256 applicationId, bytes32 reasonHash) external;

    /**
     * @notice Withdraws the caller's own PENDING application `applicationId`.
     * @dev Requirements: caller acts for the applicant organisation (in any status); application
     * PENDING.
     * Emits {ApplicationWithdrawn}.
     */
    function withdrawApplication(uint256 applicationId) external;

    /**
     * @notice Revokes grant `grantId` for good.
     * @dev Requirements: caller is the provider's active DEPARTMENT account; grant exists and is not
     * revoked; `reasonHash` non-zero.
     * Emits {GrantRevoked}.
     */
    function revoke(uint256 grantId, bytes32 reasonHash) external;

    /**
     * @notice Records one use of grant `grantId` running `templateDigest`, spending `budgetSpent`
     * micro-epsilon. Called by the provider's department node with the department's own key.
     * @dev Requirements: grant exists; caller is the provider's active DEPARTMENT account; grant not
     * revoked, not expired, with uses left; `templateDigest` allowed; `budgetSpent` within the budget
     * left; the grantee still an active member; the resource not withdrawn nor NOT_SHAREABLE.
     * Emits {GrantConsumed}.
     */
    function consume(uint256 grantId, bytes32 templateDigest, uint64 budgetSpent) external;

    // ------------------------------------------------------------------------------------ views

    /// @notice Uses given to grants of UNCONDITIONAL resources.
    function DEFAULT_MAX_USES() external view returns (uint32);

    /// @notice Privacy budget (micro-epsilon) given to grants of UNCONDITIONAL resources.
    function DEFAULT_PRIVACY_BUDGET() external view returns (uint64);

    /// @notice Longest term (seconds from now) of a grant of an UNCONDITIONAL resource.
    function MAX_UNCONDITIONAL_TERM() external view returns (uint64);

    /// @notice Most template digests one application may list.
    function MAX_TEMPLATES() external view returns (uint256);

    /// @notice The Consortium asked about membership.
    function consortium() external view returns (address);

    /// @notice The DataCatalog asked about resources.
    function catalog() external view returns (IDataCatalog);

    /// @notice Number of applications made so far (the highest application id).
    function applicationCount() external view returns (uint256);

    /**
     * @notice Application `applicationId`.
     * @dev Requirements: it exists, else {AccessGrantsUnknownApplication}.
     */
    function application(uint256 applicationId) external view returns (Application memory);

    /**
     * @notice Grant `grantId`.
     * @dev Requirements: it exists, else {AccessGrantsUnknownGrant}.
     */
    function grant(uint256 grantId) external view returns (Grant memory);

    /**
     * @notice The template digests application (and grant) `id` allows.
     * @dev Requirements: the application exists, else {AccessGrantsUnknownApplication}.
     */
    function allowedTemplates(uint256 id) external view returns (bytes32[] memory);

    /**
     * @notice Whether {consume} of `grantId` with `templateDigest` and a zero budget would succeed
     * now, apart from who calls it. False (never a revert) for unknown grants.
     */
    function isUsable(uint256 grantId, bytes32 templateDigest) external view returns (bool);
}
