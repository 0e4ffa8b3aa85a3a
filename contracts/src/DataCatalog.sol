// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsortium} from "./IConsortium.sol";
import {IDataCatalog} from "./IDataCatalog.sol";

/**
 * @title DataCatalog
 * @notice The catalogue of data resources, each owned by its provider department. See {IDataCatalog}.
 */
contract DataCatalog is IDataCatalog {
    IConsortium private immutable _consortium;

    mapping(bytes32 resourceCode => Resource) private _resources;
    mapping(bytes32 resourceCode => mapping(uint32 version => Version)) private _versions;

    /// @notice Binds the catalogue to the Consortium that says who is a department.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
    }

    // -------------------------------------------------------------------------------- mutations

    /// @inheritdoc IDataCatalog
    function register(
        bytes32 resourceCode,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash
    ) external returns (bytes32 newVersionHash) {
        bytes32 provider = _requireDepartment();
        if (resourceCode == bytes32(0)) revert DataCatalogInvalidResourceCode(resourceCode);
        Resource storage r = _resources[resourceCode];
        if (r.version != 0) revert DataCatalogResourceExists(resourceCode);
        if (metadataHash == bytes32(0)) revert DataCatalogMissingMetadata(resourceCode);
        r.resourceCode = resourceCode;
        r.providerOrgId = provider;
        r.registeredAt = uint64(block.timestamp);
        newVersionHash = _publish(r, 1, shareType, openType, metadataHash, schemaHash, bytes32(0));
        emit ResourceRegistered(resourceCode, provider, shareType, openType, metadataHash, schemaHash, newVersionHash);
        emit ResourceVersionPublished(
            resourceCode,
            1,
            shareType,
            openType,
            metadataHash,
            schemaHash,
            bytes32(0),
            newVersionHash
        );
    }

    /// @inheritdoc IDataCatalog
    function publishVersion(
        bytes32 resourceCode,
        bytes32 previousVersionHash,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash
    ) external returns (uint32 version, bytes32 newVersionHash) {
        Resource storage r = _ownResource(resourceCode);
        if (previousVersionHash != r.versionHash) {
            revert DataCatalogPreviousVersionMismatch(resourceCode, r.versionHash, previousVersionHash);
        }
        if (metadataHash == bytes32(0)) revert DataCatalogMissingMetadata(resourceCode);
        version = r.version + 1;
        newVersionHash = _publish(r, version, shareType, openType, metadataHash, schemaHash, previousVersionHash);
        emit ResourceVersionPublished(
            resourceCode,
            version,
            shareType,
            openType,
            metadataHash,
            schemaHash,
            previousVersionHash,
            newVersionHash
        );
    }

    /// @inheritdoc IDataCatalog
    function withdraw(bytes32 resourceCode, bytes32 reasonHash) external {
        Resource storage r = _ownResource(resourceCode);
        if (reasonHash == bytes32(0)) revert DataCatalogMissingReason(resourceCode);
        r.withdrawn = true;
        r.withdrawalReasonHash = reasonHash;
        r.updatedAt = uint64(block.timestamp);
        emit ResourceWithdrawn(resourceCode, reasonHash);
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc IDataCatalog
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IDataCatalog
    function resource(bytes32 resourceCode) external view returns (Resource memory) {
        Resource memory r = _resources[resourceCode];
        if (r.version == 0) revert DataCatalogUnknownResource(resourceCode);
        return r;
    }

    /// @inheritdoc IDataCatalog
    function resourceVersion(bytes32 resourceCode, uint32 version) external view returns (Version memory) {
        Version memory v = _versions[resourceCode][version];
        if (v.versionHash == bytes32(0)) revert DataCatalogUnknownVersion(resourceCode, version);
        return v;
    }

    /// @inheritdoc IDataCatalog
    function shareTerms(
        bytes32 resourceCode
    ) external view returns (bytes32 providerOrgId, ShareType shareType, bool withdrawn, uint32 version) {
        Resource storage r = _resources[resourceCode];
        return (r.providerOrgId, r.shareType, r.withdrawn, r.version);
    }

    /// @inheritdoc IDataCatalog
    function exists(bytes32 resourceCode) external view returns (bool) {
        return _resources[resourceCode].version != 0;
    }

    /// @inheritdoc IDataCatalog
    function versionHash(
        bytes32 resourceCode,
        uint32 version,
        bytes32 providerOrgId,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash,
        bytes32 previousVersionHash
    ) public pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    resourceCode,
                    version,
                    providerOrgId,
                    shareType,
                    openType,
                    metadataHash,
                    schemaHash,
                    previousVersionHash
                )
            );
    }

    // --------------------------------------------------------------------------------- internal

    function _requireDepartment() private view returns (bytes32 orgId) {
        IConsortium.Role role;
        (orgId, role, ) = _consortium.activeMember(msg.sender);
        if (role != IConsortium.Role.DEPARTMENT) revert DataCatalogNotDepartment(msg.sender);
    }

    /// @dev The resource `resourceCode` if the caller is its provider's active department and it may change.
    function _ownResource(bytes32 resourceCode) private view returns (Resource storage r) {
        bytes32 caller = _requireDepartment();
        r = _resources[resourceCode];
        if (r.version == 0) revert DataCatalogUnknownResource(resourceCode);
        if (r.providerOrgId != caller) revert DataCatalogNotProvider(resourceCode, msg.sender);
        if (r.withdrawn) revert DataCatalogResourceWithdrawn(resourceCode);
    }

    function _publish(
        Resource storage r,
        uint32 version,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash,
        bytes32 previousVersionHash
    ) private returns (bytes32 hash) {
        hash = versionHash(
            r.resourceCode,
            version,
            r.providerOrgId,
            shareType,
            openType,
            metadataHash,
            schemaHash,
            previousVersionHash
        );
        uint64 nowTs = uint64(block.timestamp);
        r.shareType = shareType;
        r.openType = openType;
        r.version = version;
        r.updatedAt = nowTs;
        r.metadataHash = metadataHash;
        r.schemaHash = schemaHash;
        r.previousVersionHash = previousVersionHash;
        r.versionHash = hash;
        _versions[r.resourceCode][version] = Version({
            shareType: shareType,
            openType: openType,
            publishedAt: nowTs,
            metadataHash: metadataHash,
            schemaHash: schemaHash,
            previousVersionHash: previousVersionHash,
            versionHash: hash
        });
    }
}
