// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title ICertificateRegistry
 * @notice Anchors of electronic certificates (电子证照) issued as W3C Verifiable Credentials by
 * CERT_ISSUER members, and the versions of their Bitstring Status Lists. A blind store: the
 * credential, its subject's identifier and the reasons stay off chain; only their digests and a
 * keyed subject reference live here.
 *
 * A certificate belongs to the issuing organisation (`issuerOrgId`), so status changes keep working
 * after the issuer rotates its account; `anchoredBy` keeps the account that anchored it, which the
 * credential names as its issuer's chain account. Revocation is final. Each status list's versions
 * are numbered from 1 and every version stays readable, so "which list was current at time T" can
 * be proven from `statusListAt`.
 */
interface ICertificateRegistry {
    /// @dev NONE means not anchored.
    enum CertificateStatus {
        NONE,
        ACTIVE,
        SUSPENDED,
        REVOKED
    }

    struct Certificate {
        bytes32 issuerOrgId;
        address anchoredBy;
        CertificateStatus status;
        uint64 validFrom;
        uint64 validUntil;
        uint64 anchoredAt;
        uint64 updatedAt;
        bytes32 subjectRef;
        bytes32 documentHash;
        bytes32 reasonHash;
    }

    struct StatusListVersion {
        bytes32 listHash;
        address anchoredBy;
        uint64 anchoredAt;
        uint64 blockNumber;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active member with the CERT_ISSUER capability.
    error CertificateRegistryNotIssuer(address account);
    /// @dev `anchorId` is zero.
    error CertificateRegistryInvalidAnchorId(bytes32 anchorId);
    /// @dev `anchorId` is already anchored (an id is used once).
    error CertificateRegistryAlreadyAnchored(bytes32 anchorId);
    /// @dev Nothing is anchored under `anchorId`.
    error CertificateRegistryUnknownCertificate(bytes32 anchorId);
    /// @dev The subject reference or the document hash of `anchorId` is zero.
    error CertificateRegistryMissingDigest(bytes32 anchorId);
    /// @dev `validUntil` is neither zero (open-ended) nor after `validFrom`.
    error CertificateRegistryInvalidValidity(bytes32 anchorId, uint64 validFrom, uint64 validUntil);
    /// @dev `account` does not act for the organisation that issued `anchorId`.
    error CertificateRegistryNotCertificateIssuer(bytes32 anchorId, address account);
    /// @dev `anchorId` is revoked; revocation is final.
    error CertificateRegistryCertificateRevoked(bytes32 anchorId);
    /// @dev `status` is NONE or the certificate's current status.
    error CertificateRegistryInvalidStatus(bytes32 anchorId, CertificateStatus status);
    /// @dev A suspension or revocation of `anchorId` gives no reason hash.
    error CertificateRegistryMissingReason(bytes32 anchorId);
    /// @dev `listId` is zero or `listHash` is zero.
    error CertificateRegistryInvalidStatusList(bytes32 listId, bytes32 listHash);
    /// @dev `account` does not act for the organisation that publishes status list `listId`.
    error CertificateRegistryNotListOwner(bytes32 listId, address account);
    /// @dev Version `given` of `listId` is not the next one, `expected`.
    error CertificateRegistryVersionNotNext(bytes32 listId, uint64 expected, uint64 given);
    /// @dev Status list `listId` has no version `version` (versions start at 1).
    error CertificateRegistryUnknownListVersion(bytes32 listId, uint64 version);
    /// @dev A batch of status changes is empty or longer than `max`.
    error CertificateRegistryInvalidBatch(uint256 length, uint256 max);

    // ----------------------------------------------------------------------------------- events

    /// @notice Certificate `anchorId` of subject `subjectRef` was anchored by issuer `issuerOrgId`.
    event CertificateAnchored(
        bytes32 indexed anchorId,
        bytes32 indexed issuerOrgId,
        bytes32 indexed subjectRef,
        bytes32 documentHash,
        uint64 validFrom,
        uint64 validUntil,
        address anchoredBy
    );
    /// @notice Certificate `anchorId` went from `previousStatus` to `status` for the reason hashed as `reasonHash`.
    event CertificateStatusChanged(
        bytes32 indexed anchorId,
        CertificateStatus previousStatus,
        CertificateStatus status,
        bytes32 reasonHash
    );
    /// @notice Version `version` of status list `listId`, published by `issuerOrgId`, was anchored.
    event StatusListAnchored(
        bytes32 indexed listId,
        uint64 indexed version,
        bytes32 indexed issuerOrgId,
        bytes32 listHash
    );

    // -------------------------------------------------------------------------------- mutations

    /**
     * @notice Anchors a certificate issued by the caller's organisation, ACTIVE from now.
     * @dev Requirements: caller is an active CERT_ISSUER; `anchorId` non-zero and not yet anchored;
     * `subjectRef` and `documentHash` non-zero; `validUntil` zero or after `validFrom`.
     * Emits {CertificateAnchored}.
     */
    function anchor(
        bytes32 anchorId,
        bytes32 subjectRef,
        bytes32 documentHash,
        uint64 validFrom,
        uint64 validUntil
    ) external;

    /**
     * @notice Sets the status of certificate `anchorId`: ACTIVE (lifting a suspension), SUSPENDED or
     * REVOKED.
     * @dev Requirements: caller is an active CERT_ISSUER acting for the certificate's issuer; the
     * certificate exists and is not revoked; `status` is not NONE and differs from the current one;
     * `reasonHash` non-zero for SUSPENDED and REVOKED.
     * Emits {CertificateStatusChanged}.
     */
    function setStatus(bytes32 anchorId, CertificateStatus status, bytes32 reasonHash) external;

    /**
     * @notice `setStatus` for up to MAX_BATCH certificates with one status and reason (e.g. a list
     * update that flips many entries at once). All or nothing.
     * @dev Requirements: 1 <= `anchorIds.length` <= MAX_BATCH; those of {setStatus} for each.
     * Emits {CertificateStatusChanged} for each.
     */
    function setStatusBatch(bytes32[] calldata anchorIds, CertificateStatus status, bytes32 reasonHash) external;

    /**
     * @notice Anchors version `version` of status list `listId` (the hash of its encodedList). The
     * first version makes the caller's organisation the list's publisher.
     * @dev Requirements: caller is an active CERT_ISSUER, acting for the list's publisher after
     * version 1; `listId` and `listHash` non-zero; `version` is the latest plus one (1 for a new list).
     * Emits {StatusListAnchored}.
     */
    function anchorStatusList(bytes32 listId, uint64 version, bytes32 listHash) external;

    // ------------------------------------------------------------------------------------ views

    /// @notice The Consortium asked about membership and capabilities.
    function consortium() external view returns (address);

    /// @notice Most certificates one `setStatusBatch` call changes.
    function MAX_BATCH() external view returns (uint256);

    /// @notice Whether anything is anchored under `anchorId`.
    function exists(bytes32 anchorId) external view returns (bool);

    /**
     * @notice The anchored certificate `anchorId`.
     * @dev Requirements: it exists, else {CertificateRegistryUnknownCertificate}.
     */
    function certificate(bytes32 anchorId) external view returns (Certificate memory);

    /// @notice Number of certificates anchored for `subjectRef` (for look-up by subject, 一次认证全省通行).
    function certificateCount(bytes32 subjectRef) external view returns (uint256);

    /// @notice The anchor id of the `index`-th certificate (from 0) anchored for `subjectRef`.
    function certificateOf(bytes32 subjectRef, uint256 index) external view returns (bytes32);

    /// @notice The organisation that publishes status list `listId`; zero if it has no version.
    function statusListPublisher(bytes32 listId) external view returns (bytes32);

    /// @notice Number of anchored versions of status list `listId` (the latest version number).
    function statusListVersionCount(bytes32 listId) external view returns (uint64);

    /**
     * @notice Version `version` (from 1) of status list `listId`.
     * @dev Requirements: it exists, else {CertificateRegistryUnknownListVersion}.
     */
    function statusListAt(bytes32 listId, uint64 version) external view returns (StatusListVersion memory);
}
