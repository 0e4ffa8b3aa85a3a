// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessGrants} from "./IAccessGrants.sol";
import {IConsortium} from "./IConsortium.sol";
import {IDataCatalog} from "./IDataCatalog.sol";

/**
 * @title AccessGrants
 * @notice Applications, grants and the trace of every use. See {IAccessGrants}.
 */
contract AccessGrants is IAccessGrants {
    uint32 public constant DEFAULT_MAX_USES = 1_000_000;
    uint64 public constant DEFAULT_PRIVACY_BUDGET = 10_000_000; // 10 epsilon
    uint64 public constant MAX_UNCONDITIONAL_TERM = 366 days;
    uint256 public constant MAX_TEMPLATES = 16;

    IConsortium private immutable _consortium;
    IDataCatalog private immutable _catalog;

    mapping(uint256 id => Application) private _applications;
    mapping(uint256 id => Grant) private _grants;
    mapping(uint256 id => bytes32[]) private _templates;
    mapping(uint256 id => mapping(bytes32 templateDigest => bool)) private _allowed;
    uint256 private _applicationCount;

    /// @notice Binds the grants to the Consortium (who may act) and the DataCatalog (what is shared how).
    constructor(IConsortium consortium_, IDataCatalog catalog_) {
        _consortium = consortium_;
        _catalog = catalog_;
    }

    // -------------------------------------------------------------------------------- mutations

    /// @inheritdoc IAccessGrants
    function applyFor(
        bytes32 resourceCode,
        bytes32 policyHash,
        bytes32 purposeHash,
        uint64 requestedExpiry,
        bytes32[] calldata templateDigests
    ) external returns (uint256 applicationId) {
        bytes32 applicant = _requireApplicant();
        (bytes32 provider, IDataCatalog.ShareType shareType) = _shareableResource(resourceCode);
        bool unconditional = shareType == IDataCatalog.ShareType.UNCONDITIONAL;
        _checkExpiry(
            requestedExpiry,
            unconditional ? uint64(block.timestamp) + MAX_UNCONDITIONAL_TERM : type(uint64).max
        );
        applicationId = ++_applicationCount;
        _storeTemplates(applicationId, templateDigests);
        Application storage a = _applications[applicationId];
        a.resourceCode = resourceCode;
        a.applicantOrgId = applicant;
        a.providerOrgId = provider;
        a.policyHash = policyHash;
        a.purposeHash = purposeHash;
        a.requestedExpiry = requestedExpiry;
        a.submittedAt = uint64(block.timestamp);
        a.status = ApplicationStatus.PENDING;
        emit ApplicationSubmitted(
            applicationId,
            resourceCode,
            applicant,
            policyHash,
            purposeHash,
            requestedExpiry,
            templateDigests
        );
        if (unconditional) {
            // An unconditional share carries no conditions of its own: the applicant's stated policy
            // is the agreement, and the defaults bound use so that every grant stays finite.
            _issue(applicationId, a, a.requestedExpiry, DEFAULT_MAX_USES, DEFAULT_PRIVACY_BUDGET, a.policyHash);
        }
    }

    /// @inheritdoc IAccessGrants
    function approve(
        uint256 applicationId,
        uint64 expiry,
        uint32 maxUses,
        uint64 privacyBudget,
        bytes32 agreementHash
    ) external {
        Application storage a = _pendingApplicationOfProvider(applicationId);
        // Re-checked here because the resource may have changed since the application was made.
        _shareableResource(a.resourceCode);
        _checkExpiry(expiry, type(uint64).max);
        if (maxUses == 0) revert AccessGrantsInvalidMaxUses(maxUses);
        _issue(applicationId, a, expiry, maxUses, privacyBudget, agreementHash);
    }

    /// @inheritdoc IAccessGrants
    function reject(uint256 applicationId, bytes32 reasonHash) external {
        Application storage a = _pendingApplicationOfProvider(applicationId);
        if (reasonHash == bytes32(0)) revert AccessGrantsMissingReason(applicationId);
        a.status = ApplicationStatus.REJECTED;
        a.decisionHash = reasonHash;
        a.decidedAt = uint64(block.timestamp);
        emit ApplicationRejected(applicationId, reasonHash);
    }

    /// @inheritdoc IAccessGrants
    function withdrawApplication(uint256 applicationId) external {
        Application storage a = _existingApplication(applicationId);
        if (_consortium.orgIdOf(msg.sender) != a.applicantOrgId) {
            revert AccessGrantsNotApplicationOwner(applicationId, msg.sender);
        }
        if (a.status != ApplicationStatus.PENDING) {
            revert AccessGrantsApplicationNotPending(applicationId, a.status);
        }
        a.status = ApplicationStatus.WITHDRAWN;
        a.decidedAt = uint64(block.timestamp);
        emit ApplicationWithdrawn(applicationId);
    }

    /// @inheritdoc IAccessGrants
    function revoke(uint256 grantId, bytes32 reasonHash) external {
        Grant storage g = _existingGrant(grantId);
        _requireProvider(g.resourceCode, g.providerOrgId);
        if (g.status == GrantStatus.REVOKED) revert AccessGrantsGrantRevoked(grantId);
        if (reasonHash == bytes32(0)) revert AccessGrantsMissingReason(grantId);
        g.status = GrantStatus.REVOKED;
        g.revokedAt = uint64(block.timestamp);
        emit GrantRevoked(grantId, reasonHash);
    }

    /// @inheritdoc IAccessGrants
    function consume(uint256 grantId, bytes32 templateDigest, uint64 budgetSpent) external {
        Grant storage g = _existingGrant(grantId);
        bytes32 resourceCode = g.resourceCode;
        _requireProvider(resourceCode, g.providerOrgId);
        // One storage slot holds every counter checked and written below.
        if (g.status == GrantStatus.REVOKED) revert AccessGrantsGrantRevoked(grantId);
        uint64 expiry = g.expiry;
        if (block.timestamp >= expiry) revert AccessGrantsGrantExpired(grantId, expiry);
        if (!_allowed[grantId][templateDigest]) revert AccessGrantsTemplateNotAllowed(grantId, templateDigest);
        uint32 usesLeft = g.usesLeft;
        if (usesLeft == 0) revert AccessGrantsGrantExhausted(grantId, g.maxUses);
        uint64 budgetLeft = g.budgetLeft;
        if (budgetSpent > budgetLeft) revert AccessGrantsBudgetExceeded(grantId, budgetSpent, budgetLeft);
        bytes32 grantee = g.granteeOrgId;
        if (!_consortium.isActiveOrg(grantee)) revert AccessGrantsGranteeInactive(grantId, grantee);
        _shareableResource(resourceCode);
        unchecked {
            usesLeft -= 1;
            budgetLeft -= budgetSpent;
        }
        g.usesLeft = usesLeft;
        g.budgetLeft = budgetLeft;
        emit GrantConsumed(grantId, templateDigest, budgetSpent, usesLeft, budgetLeft);
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc IAccessGrants
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IAccessGrants
    function catalog() external view returns (IDataCatalog) {
        return _catalog;
    }

    /// @inheritdoc IAccessGrants
    function applicationCount() external view returns (uint256) {
        return _applicationCount;
    }

    /// @inheritdoc IAccessGrants
    function application(uint256 applicationId) external view returns (Application memory) {
        return _existingApplication(applicationId);
    }

    /// @inheritdoc IAccessGrants
    function grant(uint256 grantId) external view returns (Grant memory) {
        return _existingGrant(grantId);
    }

    /// @inheritdoc IAccessGrants
    function allowedTemplates(uint256 id) external view returns (bytes32[] memory) {
        _existingApplication(id);
        return _templates[id];
    }

    /// @inheritdoc IAccessGrants
    function isUsable(uint256 grantId, bytes32 templateDigest) external view returns (bool) {
        Grant storage g = _grants[grantId];
        if (
            g.status != GrantStatus.ACTIVE ||
            block.timestamp >= g.expiry ||
            g.usesLeft == 0 ||
            !_allowed[grantId][templateDigest] ||
            !_consortium.isActiveOrg(g.granteeOrgId)
        ) {
            return false;
        }
        (, IDataCatalog.ShareType shareType, bool withdrawn, ) = _catalog.shareTerms(g.resourceCode);
        return !withdrawn && shareType != IDataCatalog.ShareType.NOT_SHAREABLE;
    }

    // --------------------------------------------------------------------------------- internal

    function _issue(
        uint256 id,
        Application storage a,
        uint64 expiry,
        uint32 maxUses,
        uint64 privacyBudget,
        bytes32 agreementHash
    ) private {
        uint64 nowTs = uint64(block.timestamp);
        a.status = ApplicationStatus.GRANTED;
        a.decisionHash = agreementHash;
        a.decidedAt = nowTs;
        _grants[id] = Grant({
            expiry: expiry,
            budgetLeft: privacyBudget,
            usesLeft: maxUses,
            maxUses: maxUses,
            status: GrantStatus.ACTIVE,
            privacyBudget: privacyBudget,
            grantedAt: nowTs,
            revokedAt: 0,
            resourceCode: a.resourceCode,
            providerOrgId: a.providerOrgId,
            granteeOrgId: a.applicantOrgId,
            agreementHash: agreementHash
        });
        emit GrantIssued(id, a.resourceCode, a.applicantOrgId, expiry, maxUses, privacyBudget, agreementHash);
    }

    function _requireApplicant() private view returns (bytes32 applicant) {
        IConsortium.Role role;
        (applicant, role, ) = _consortium.activeMember(msg.sender);
        if (role != IConsortium.Role.ENTERPRISE && role != IConsortium.Role.DEPARTMENT) {
            revert AccessGrantsNotApplicant(msg.sender);
        }
    }

    function _storeTemplates(uint256 id, bytes32[] calldata templateDigests) private {
        uint256 count = templateDigests.length;
        if (count == 0) revert AccessGrantsNoTemplates();
        if (count > MAX_TEMPLATES) revert AccessGrantsTooManyTemplates(count, MAX_TEMPLATES);
        mapping(bytes32 => bool) storage allowed = _allowed[id];
        for (uint256 i = 0; i < count; ++i) {
            bytes32 digest = templateDigests[i];
            if (digest == bytes32(0) || allowed[digest]) revert AccessGrantsInvalidTemplate(digest);
            allowed[digest] = true;
        }
        _templates[id] = templateDigests;
    }

    /// @dev The provider and share type of `resourceCode`, which must exist and be shareable now.
    function _shareableResource(
        bytes32 resourceCode
    ) private view returns (bytes32 provider, IDataCatalog.ShareType shareType) {
        bool withdrawn;
        (provider, shareType, withdrawn, ) = _catalog.shareTerms(resourceCode);
        if (provider == bytes32(0)) revert AccessGrantsUnknownResource(resourceCode);
        if (withdrawn) revert AccessGrantsResourceWithdrawn(resourceCode);
        if (shareType == IDataCatalog.ShareType.NOT_SHAREABLE) revert AccessGrantsResourceNotShareable(resourceCode);
    }

    function _checkExpiry(uint64 expiry, uint64 maxExpiry) private view {
        uint64 minExpiry = uint64(block.timestamp) + 1;
        if (expiry < minExpiry || expiry > maxExpiry) {
            revert AccessGrantsExpiryOutOfRange(expiry, minExpiry, maxExpiry);
        }
    }

    /// @dev Reverts unless the caller is the active DEPARTMENT account of `provider`.
    function _requireProvider(bytes32 resourceCode, bytes32 provider) private view {
        (bytes32 caller, IConsortium.Role role, ) = _consortium.activeMember(msg.sender);
        if (caller != provider || role != IConsortium.Role.DEPARTMENT) {
            revert AccessGrantsNotProvider(resourceCode, msg.sender);
        }
    }

    function _existingApplication(uint256 applicationId) private view returns (Application storage a) {
        a = _applications[applicationId];
        if (a.status == ApplicationStatus.NONE) revert AccessGrantsUnknownApplication(applicationId);
    }

    function _pendingApplicationOfProvider(uint256 applicationId) private view returns (Application storage a) {
        a = _existingApplication(applicationId);
        _requireProvider(a.resourceCode, a.providerOrgId);
        if (a.status != ApplicationStatus.PENDING) {
            revert AccessGrantsApplicationNotPending(applicationId, a.status);
        }
    }

    function _existingGrant(uint256 grantId) private view returns (Grant storage g) {
        g = _grants[grantId];
        if (g.status == GrantStatus.NONE) revert AccessGrantsUnknownGrant(grantId);
    }
}
