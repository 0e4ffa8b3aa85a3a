// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IAuditAnchor
 * @notice Checkpoints (tree size, root hash) of the off-chain append-only audit logs, anchored by
 * LOG_OPERATOR members. Each log's checkpoints are numbered from 0 and its tree size only grows.
 */
interface IAuditAnchor {
    struct Checkpoint {
        bytes32 rootHash;
        uint64 treeSize;
        uint64 anchoredAt;
        uint64 blockNumber;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active member with the LOG_OPERATOR capability.
    error AuditAnchorNotLogOperator(address account);
    /// @dev `newSize` is not larger than `previousSize`, the latest anchored size of `logId` (0 if none).
    error AuditAnchorTreeSizeNotGrowing(bytes32 logId, uint64 previousSize, uint64 newSize);
    /// @dev `logId` has no checkpoint yet.
    error AuditAnchorNoCheckpoint(bytes32 logId);
    /// @dev `logId` has no checkpoint `sequence`.
    error AuditAnchorUnknownCheckpoint(bytes32 logId, uint64 sequence);

    // ----------------------------------------------------------------------------------- events

    /// @notice Checkpoint `sequence` of log `logId` was anchored by `operator`.
    event CheckpointAnchored(
        bytes32 indexed logId,
        uint64 indexed sequence,
        uint64 treeSize,
        bytes32 rootHash,
        address operator
    );

    // -------------------------------------------------------------------------------- mutations

    /**
     * @notice Anchors the checkpoint (`treeSize`, `rootHash`) of log `logId`; returns its sequence
     * number within the log (from 0).
     * @dev Requirements: caller is an active member with LOG_OPERATOR; `treeSize` larger than the
     * log's latest anchored tree size (so the first one is at least 1).
     * Emits {CheckpointAnchored}.
     */
    function anchor(bytes32 logId, uint64 treeSize, bytes32 rootHash) external returns (uint64 sequence);

    // ------------------------------------------------------------------------------------ views

    /// @notice The Consortium asked about membership and capabilities.
    function consortium() external view returns (address);

    /// @notice Number of checkpoints anchored for `logId`.
    function checkpointCount(bytes32 logId) external view returns (uint64);

    /**
     * @notice The latest checkpoint of `logId` and its sequence number.
     * @dev Requirements: the log has a checkpoint, else {AuditAnchorNoCheckpoint}.
     */
    function latest(bytes32 logId) external view returns (uint64 sequence, Checkpoint memory checkpoint);

    /**
     * @notice Checkpoint `sequence` of `logId`.
     * @dev Requirements: it exists, else {AuditAnchorUnknownCheckpoint}.
     */
    function checkpointAt(bytes32 logId, uint64 sequence) external view returns (Checkpoint memory);
}
