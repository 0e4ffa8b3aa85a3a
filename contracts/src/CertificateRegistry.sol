// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ICertificateRegistry} from "./ICertificateRegistry.sol";
import {IConsortium} from "./IConsortium.sol";

/**
 * @title CertificateRegistry
 * @notice Anchors of electronic certificates and their status-list versions. See {ICertificateRegistry}.
 */
contract CertificateRegistry is ICertificateRegistry {
    uint256 public constant MAX_BATCH = 1_000;

    IConsortium private immutable _consortium;
    uint32 private immutable _certIssuer;

    mapping(bytes32 anchorId => Certificate) private _certificates;
    mapping(bytes32 subjectRef => bytes32[]) private _bySubject;
    mapping(bytes32 listId => bytes32 publisherOrgId) private _listPublisher;
    mapping(bytes32 listId => uint64) private _listVersions;
    mapping(bytes32 listId => mapping(uint64 version => StatusListVersion)) private _lists;

    /// @notice Binds the registry to the Consortium that says who is a CERT_ISSUER.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
        _certIssuer = consortium_.CERT_ISSUER();
    }

    // -------------------------------------------------------------------------------- mutations

    /// @inheritdoc ICertificateRegistry
    function anchor(
        bytes32 anchorId,
        bytes32 subjectRef,
        bytes32 documentHash,
        uint64 validFrom,
        uint64 validUntil
    ) external {
        bytes32 issuer = _requireIssuer();
        if (anchorId == bytes32(0)) revert CertificateRegistryInvalidAnchorId(anchorId);
        Certificate storage c = _certificates[anchorId];
        if (c.status != CertificateStatus.NONE) revert CertificateRegistryAlreadyAnchored(anchorId);
        if (subjectRef == bytes32(0) || documentHash == bytes32(0)) revert CertificateRegistryMissingDigest(anchorId);
        if (validUntil != 0 && validUntil <= validFrom) {
            revert CertificateRegistryInvalidValidity(anchorId, validFrom, validUntil);
        }
        uint64 nowTs = uint64(block.timestamp);
        _certificates[anchorId] = Certificate({
            issuerOrgId: issuer,
            anchoredBy: msg.sender,
            status: CertificateStatus.ACTIVE,
            validFrom: validFrom,
            validUntil: validUntil,
            anchoredAt: nowTs,
            updatedAt: nowTs,
            subjectRef: subjectRef,
            documentHash: documentHash,
            reasonHash: bytes32(0)
        });
        _bySubject[subjectRef].push(anchorId);
        emit CertificateAnchored(anchorId, issuer, subjectRef, documentHash, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc ICertificateRegistry
    function setStatus(bytes32 anchorId, CertificateStatus status, bytes32 reasonHash) external {
        _setStatus(_requireIssuer(), anchorId, status, reasonHash);
    }

    /// @inheritdoc ICertificateRegistry
    function setStatusBatch(bytes32[] calldata anchorIds, CertificateStatus status, bytes32 reasonHash) external {
        uint256 count = anchorIds.length;
        if (count == 0 || count > MAX_BATCH) revert CertificateRegistryInvalidBatch(count, MAX_BATCH);
        bytes32 issuer = _requireIssuer();
        for (uint256 i = 0; i < count; ++i) {
            _setStatus(issuer, anchorIds[i], status, reasonHash);
        }
    }

    /// @inheritdoc ICertificateRegistry
    function anchorStatusList(bytes32 listId, uint64 version, bytes32 listHash) external {
        bytes32 issuer = _requireIssuer();
        if (listId == bytes32(0) || listHash == bytes32(0)) {
            revert CertificateRegistryInvalidStatusList(listId, listHash);
        }
        uint64 latest = _listVersions[listId];
        if (latest == 0) {
            _listPublisher[listId] = issuer;
        } else if (_listPublisher[listId] != issuer) {
            revert CertificateRegistryNotListOwner(listId, msg.sender);
        }
        if (version != latest + 1) revert CertificateRegistryVersionNotNext(listId, latest + 1, version);
        _listVersions[listId] = version;
        _lists[listId][version] = StatusListVersion({
            listHash: listHash,
            anchoredBy: msg.sender,
            anchoredAt: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        emit StatusListAnchored(listId, version, issuer, listHash);
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc ICertificateRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc ICertificateRegistry
    function exists(bytes32 anchorId) external view returns (bool) {
        return _certificates[anchorId].status != CertificateStatus.NONE;
    }

    /// @inheritdoc ICertificateRegistry
    function certificate(bytes32 anchorId) external view returns (Certificate memory) {
        return _existing(anchorId);
    }

    /// @inheritdoc ICertificateRegistry
    function certificateCount(bytes32 subjectRef) external view returns (uint256) {
        return _bySubject[subjectRef].length;
    }

    /// @inheritdoc ICertificateRegistry
    function certificateOf(bytes32 subjectRef, uint256 index) external view returns (bytes32) {
        return _bySubject[subjectRef][index];
    }

    /// @inheritdoc ICertificateRegistry
    function statusListPublisher(bytes32 listId) external view returns (bytes32) {
        return _listPublisher[listId];
    }

    /// @inheritdoc ICertificateRegistry
    function statusListVersionCount(bytes32 listId) external view returns (uint64) {
        return _listVersions[listId];
    }

    /// @inheritdoc ICertificateRegistry
    function statusListAt(bytes32 listId, uint64 version) external view returns (StatusListVersion memory) {
        if (version == 0 || version > _listVersions[listId]) {
            revert CertificateRegistryUnknownListVersion(listId, version);
        }
        return _lists[listId][version];
    }

    // --------------------------------------------------------------------------------- internal

    function _requireIssuer() private view returns (bytes32 issuer) {
        uint32 capabilities;
        (issuer, , capabilities) = _consortium.activeMember(msg.sender);
        if (capabilities & _certIssuer == 0) revert CertificateRegistryNotIssuer(msg.sender);
    }

    function _existing(bytes32 anchorId) private view returns (Certificate storage c) {
        c = _certificates[anchorId];
        if (c.status == CertificateStatus.NONE) revert CertificateRegistryUnknownCertificate(anchorId);
    }

    function _setStatus(bytes32 issuer, bytes32 anchorId, CertificateStatus status, bytes32 reasonHash) private {
        Certificate storage c = _existing(anchorId);
        if (c.issuerOrgId != issuer) revert CertificateRegistryNotCertificateIssuer(anchorId, msg.sender);
        CertificateStatus previous = c.status;
        if (previous == CertificateStatus.REVOKED) revert CertificateRegistryCertificateRevoked(anchorId);
        if (status == CertificateStatus.NONE || status == previous) {
            revert CertificateRegistryInvalidStatus(anchorId, status);
        }
        if (status != CertificateStatus.ACTIVE && reasonHash == bytes32(0)) {
            revert CertificateRegistryMissingReason(anchorId);
        }
        c.status = status;
        c.reasonHash = reasonHash;
        c.updatedAt = uint64(block.timestamp);
        emit CertificateStatusChanged(anchorId, previous, status, reasonHash);
    }
}
