// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IDataCatalog
 * @notice The government data-resource catalogue on chain: one resource per `resourceCode`, owned
 * by the active DEPARTMENT that registered it ("who owns it provides it and answers for it").
 * Only digests live here; the full catalogue fields stay off chain.
 *
 * Versions are traceable: every version record has a hash (see {versionHash}) and each new version
 * names the hash of the version it replaces. Withdrawal is final.
 */
interface IDataCatalog {
    /// @dev 无条件共享 / 有条件共享 / 不予共享.
    enum ShareType {
        UNCONDITIONAL,
        CONDITIONAL,
        NOT_SHAREABLE
    }

    /// @dev 无条件开放 / 依申请开放 / 不予开放.
    enum OpenType {
        OPEN,
        ON_APPLICATION,
        NOT_OPEN
    }

    /// @notice The current state of a resource.
    struct Resource {
        bytes32 resourceCode;
        bytes32 providerOrgId;
        ShareType shareType;
        OpenType openType;
        bool withdrawn;
        uint32 version;
        uint64 registeredAt;
        uint64 updatedAt;
        bytes32 metadataHash;
        bytes32 schemaHash;
        bytes32 previousVersionHash;
        bytes32 versionHash;
        bytes32 withdrawalReasonHash;
    }

    /// @notice One published version of a resource.
    struct Version {
        ShareType shareType;
        OpenType openType;
        uint64 publishedAt;
        bytes32 metadataHash;
        bytes32 schemaHash;
        bytes32 previousVersionHash;
        bytes32 versionHash;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active DEPARTMENT member.
    error DataCatalogNotDepartment(address account);
    /// @dev `resourceCode` is zero.
    error DataCatalogInvalidResourceCode(bytes32 resourceCode);
    /// @dev `resourceCode` is already registered.
    error DataCatalogResourceExists(bytes32 resourceCode);
    /// @dev `resourceCode` is not registered.
    error DataCatalogUnknownResource(bytes32 resourceCode);
    /// @dev `resourceCode` has no version `version`.
    error DataCatalogUnknownVersion(bytes32 resourceCode, uint32 version);
    /// @dev `account` does not act for the provider of `resourceCode`.
    error DataCatalogNotProvider(bytes32 resourceCode, address account);
    /// @dev The new version names `given` as its predecessor but the current version hash is `expected`.
    error DataCatalogPreviousVersionMismatch(bytes32 resourceCode, bytes32 expected, bytes32 given);
    /// @dev `resourceCode` was withdrawn and can no longer change.
    error DataCatalogResourceWithdrawn(bytes32 resourceCode);
    /// @dev The metadata hash for `resourceCode` is zero.
    error DataCatalogMissingMetadata(bytes32 resourceCode);
    /// @dev The withdrawal of `resourceCode` gives no reason hash.
    error DataCatalogMissingReason(bytes32 resourceCode);

    // ----------------------------------------------------------------------------------- events

    /// @notice Resource `resourceCode` was registered by provider `providerOrgId` as version 1.
    event ResourceRegistered(
        bytes32 indexed resourceCode,
        bytes32 indexed providerOrgId,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash,
        bytes32 versionHash
    );
    /// @notice Version `version` of `resourceCode` was published, chained to `previousVersionHash`.
    event ResourceVersionPublished(
        bytes32 indexed resourceCode,
        uint32 indexed version,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash,
        bytes32 previousVersionHash,
        bytes32 versionHash
    );
    /// @notice Resource `resourceCode` was withdrawn for the reason hashed as `reasonHash`.
    event ResourceWithdrawn(bytes32 indexed resourceCode, bytes32 reasonHash);

    // -------------------------------------------------------------------------------- mutations

    /**
     * @notice Registers `resourceCode` as version 1, provided by the caller's organisation; returns
     * the version hash.
     * @dev Requirements: caller is an active DEPARTMENT; `resourceCode` non-zero and not yet
     * registered (else {DataCatalogResourceExists} naming the code); `metadataHash` non-zero.
     * Emits {ResourceRegistered} and {ResourceVersionPublished} for version 1.
     */
    function register(
        bytes32 resourceCode,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash
    ) external returns (bytes32 newVersionHash);

    /**
     * @notice Publishes the next version of `resourceCode`; returns its number and hash.
     * @dev Requirements: caller is an active DEPARTMENT acting for the provider; resource registered
     * and not withdrawn; `previousVersionHash` equals the current version hash; `metadataHash`
     * non-zero. Grants issued earlier follow the resource's current share type.
     * Emits {ResourceVersionPublished}.
     */
    function publishVersion(
        bytes32 resourceCode,
        bytes32 previousVersionHash,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash
    ) external returns (uint32 version, bytes32 newVersionHash);

    /**
     * @notice Withdraws `resourceCode` for good: no new applications, existing grants stop working.
     * @dev Requirements: caller is an active DEPARTMENT acting for the provider; resource registered
     * and not withdrawn; `reasonHash` non-zero.
     * Emits {ResourceWithdrawn}.
     */
    function withdraw(bytes32 resourceCode, bytes32 reasonHash) external;

    // ------------------------------------------------------------------------------------ views

    /// @notice The Consortium this catalogue asks about membership.
    function consortium() external view returns (address);

    /**
     * @notice The current record of `resourceCode`.
     * @dev Requirements: resource registered, else {DataCatalogUnknownResource}.
     */
    function resource(bytes32 resourceCode) external view returns (Resource memory);

    /**
     * @notice Version `version` (from 1) of `resourceCode`.
     * @dev Requirements: that version exists, else {DataCatalogUnknownVersion}.
     */
    function resourceVersion(bytes32 resourceCode, uint32 version) external view returns (Version memory);

    /**
     * @notice What AccessGrants needs, in one cheap call: the provider, share type, withdrawal flag
     * and current version of `resourceCode`. `providerOrgId` is zero when it is not registered.
     */
    function shareTerms(
        bytes32 resourceCode
    ) external view returns (bytes32 providerOrgId, ShareType shareType, bool withdrawn, uint32 version);

    /// @notice Whether `resourceCode` is registered.
    function exists(bytes32 resourceCode) external view returns (bool);

    /**
     * @notice The hash a version record gets: keccak256(abi.encode(resourceCode, version,
     * providerOrgId, shareType, openType, metadataHash, schemaHash, previousVersionHash)).
     * Pure, so off-chain code can check its own computation.
     */
    function versionHash(
        bytes32 resourceCode,
        uint32 version,
        bytes32 providerOrgId,
        ShareType shareType,
        OpenType openType,
        bytes32 metadataHash,
        bytes32 schemaHash,
        bytes32 previousVersionHash
    ) external pure returns (bytes32);
}
