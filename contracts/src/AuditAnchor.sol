// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAuditAnchor} from "./IAuditAnchor.sol";
import {IConsortium} from "./IConsortium.sol";

/**
 * @title AuditAnchor
 * @notice Append-only store of audit-log checkpoints. See {IAuditAnchor}.
 */
contract AuditAnchor is IAuditAnchor {
    IConsortium private immutable _consortium;
    uint32 private immutable _logOperator;

    mapping(bytes32 logId => mapping(uint64 sequence => Checkpoint)) private _checkpoints;
    // Count and latest size share one slot so that `anchor` reads and writes a single word of log state.
    struct LogState {
        uint64 count;
        uint64 latestTreeSize;
    }
    mapping(bytes32 logId => LogState) private _logs;

    /// @notice Binds the anchor to the Consortium that says who is a LOG_OPERATOR.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
        _logOperator = consortium_.LOG_OPERATOR();
    }

    /// @inheritdoc IAuditAnchor
    function anchor(bytes32 logId, uint64 treeSize, bytes32 rootHash) external returns (uint64 sequence) {
        if (!_consortium.hasCapability(msg.sender, _logOperator)) revert AuditAnchorNotLogOperator(msg.sender);
        LogState memory log = _logs[logId];
        if (treeSize <= log.latestTreeSize) {
            revert AuditAnchorTreeSizeNotGrowing(logId, log.latestTreeSize, treeSize);
        }
        sequence = log.count;
        _checkpoints[logId][sequence] = Checkpoint({
            rootHash: rootHash,
            treeSize: treeSize,
            anchoredAt: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        _logs[logId] = LogState({count: sequence + 1, latestTreeSize: treeSize});
        emit CheckpointAnchored(logId, sequence, treeSize, rootHash, msg.sender);
    }

    /// @inheritdoc IAuditAnchor
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IAuditAnchor
    function checkpointCount(bytes32 logId) external view returns (uint64) {
        return _logs[logId].count;
    }

    /// @inheritdoc IAuditAnchor
    function latest(bytes32 logId) external view returns (uint64 sequence, Checkpoint memory checkpoint) {
        uint64 count = _logs[logId].count;
        if (count == 0) revert AuditAnchorNoCheckpoint(logId);
        sequence = count - 1;
        checkpoint = _checkpoints[logId][sequence];
    }

    /// @inheritdoc IAuditAnchor
    function checkpointAt(bytes32 logId, uint64 sequence) external view returns (Checkpoint memory) {
        if (sequence >= _logs[logId].count) revert AuditAnchorUnknownCheckpoint(logId, sequence);
        return _checkpoints[logId][sequence];
    }
}
