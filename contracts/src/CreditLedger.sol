// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IConsortium} from "./IConsortium.sol";
import {ICreditLedger} from "./ICreditLedger.sol";

/**
 * @title CreditLedger
 * @notice Append-only public-credit events, disputes and corrections. See {ICreditLedger}.
 */
contract CreditLedger is ICreditLedger {
    int32 public constant MAX_WEIGHT = 1_000;

    IConsortium private immutable _consortium;
    uint32 private immutable _creditRecorder;

    mapping(uint64 eventId => CreditEvent) private _events;
    mapping(uint64 eventId => Dispute) private _disputes;
    mapping(bytes32 subjectRef => uint64[]) private _bySubject;
    uint64 private _eventCount;

    /// @notice Binds the ledger to the Consortium that says who is a CREDIT_RECORDER.
    constructor(IConsortium consortium_) {
        _consortium = consortium_;
        _creditRecorder = consortium_.CREDIT_RECORDER();
    }

    // -------------------------------------------------------------------------------- mutations

    /// @inheritdoc ICreditLedger
    function record(
        bytes32 subjectRef,
        Category category,
        int32 weight,
        bytes32 evidenceHash,
        uint64 effectiveFrom,
        uint64 effectiveUntil
    ) external returns (uint64 eventId) {
        if (subjectRef == bytes32(0)) revert CreditLedgerInvalidSubject(subjectRef);
        CreditEvent memory draft;
        draft.recorderOrgId = _requireRecorder();
        draft.subjectRef = subjectRef;
        draft.category = category;
        draft.weight = weight;
        draft.evidenceHash = evidenceHash;
        draft.effectiveFrom = effectiveFrom;
        draft.effectiveUntil = effectiveUntil;
        eventId = _append(draft);
    }

    /// @inheritdoc ICreditLedger
    function dispute(uint64 eventId, bytes32 groundsHash) external {
        bytes32 filer = _requireRecorder();
        CreditEvent storage e = _existing(eventId);
        if (e.status != EventStatus.ACTIVE) revert CreditLedgerInvalidEventStatus(eventId, e.status);
        if (groundsHash == bytes32(0)) revert CreditLedgerMissingReason(eventId);
        e.status = EventStatus.DISPUTED;
        _disputes[eventId] = Dispute({
            filedByOrgId: filer,
            groundsHash: groundsHash,
            decisionHash: bytes32(0),
            filedAt: uint64(block.timestamp),
            resolvedAt: 0
        });
        emit CreditEventDisputed(eventId, filer, groundsHash);
    }

    /// @inheritdoc ICreditLedger
    function uphold(uint64 eventId, bytes32 decisionHash) external {
        CreditEvent storage e = _ownEvent(eventId);
        if (e.status != EventStatus.DISPUTED) revert CreditLedgerInvalidEventStatus(eventId, e.status);
        if (decisionHash == bytes32(0)) revert CreditLedgerMissingReason(eventId);
        e.status = EventStatus.UPHELD;
        Dispute storage d = _disputes[eventId];
        d.decisionHash = decisionHash;
        d.resolvedAt = uint64(block.timestamp);
        emit CreditDisputeRejected(eventId, decisionHash);
    }

    /// @inheritdoc ICreditLedger
    function correct(
        uint64 eventId,
        int32 weight,
        bytes32 evidenceHash,
        uint64 effectiveFrom,
        uint64 effectiveUntil,
        bytes32 decisionHash
    ) external returns (uint64 correctionId) {
        CreditEvent storage e = _ownEvent(eventId);
        EventStatus status = e.status;
        if (status == EventStatus.CORRECTED) revert CreditLedgerInvalidEventStatus(eventId, status);
        if (decisionHash == bytes32(0)) revert CreditLedgerMissingReason(eventId);
        // A memory draft keeps the stack shallow: the correction copies subject, category and recorder.
        CreditEvent memory draft;
        draft.recorderOrgId = e.recorderOrgId;
        draft.subjectRef = e.subjectRef;
        draft.category = e.category;
        draft.weight = weight;
        draft.evidenceHash = evidenceHash;
        draft.effectiveFrom = effectiveFrom;
        draft.effectiveUntil = effectiveUntil;
        draft.corrects = eventId;
        correctionId = _append(draft);
        e.status = EventStatus.CORRECTED;
        e.correctedBy = correctionId;
        if (status == EventStatus.DISPUTED) {
            Dispute storage d = _disputes[eventId];
            d.decisionHash = decisionHash;
            d.resolvedAt = uint64(block.timestamp);
        }
        emit CreditEventCorrected(eventId, correctionId, decisionHash);
    }

    // ------------------------------------------------------------------------------------ views

    /// @inheritdoc ICreditLedger
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc ICreditLedger
    function eventCount() external view returns (uint64) {
        return _eventCount;
    }

    /// @inheritdoc ICreditLedger
    function creditEvent(uint64 eventId) external view returns (CreditEvent memory) {
        return _existing(eventId);
    }

    /// @inheritdoc ICreditLedger
    function disputeOf(uint64 eventId) external view returns (Dispute memory) {
        _existing(eventId);
        return _disputes[eventId];
    }

    /// @inheritdoc ICreditLedger
    function subjectEventCount(bytes32 subjectRef) external view returns (uint256) {
        return _bySubject[subjectRef].length;
    }

    /// @inheritdoc ICreditLedger
    function subjectEventAt(bytes32 subjectRef, uint256 index) external view returns (uint64) {
        return _bySubject[subjectRef][index];
    }

    // --------------------------------------------------------------------------------- internal

    function _requireRecorder() private view returns (bytes32 recorder) {
        uint32 capabilities;
        (recorder, , capabilities) = _consortium.activeMember(msg.sender);
        if (capabilities & _creditRecorder == 0) revert CreditLedgerNotRecorder(msg.sender);
    }

    function _existing(uint64 eventId) private view returns (CreditEvent storage e) {
        e = _events[eventId];
        if (e.status == EventStatus.NONE) revert CreditLedgerUnknownEvent(eventId);
    }

    /// @dev The event `eventId`, which the caller's organisation recorded.
    function _ownEvent(uint64 eventId) private view returns (CreditEvent storage e) {
        bytes32 caller = _requireRecorder();
        e = _existing(eventId);
        if (e.recorderOrgId != caller) revert CreditLedgerNotEventRecorder(eventId, msg.sender);
    }

    /// @dev Validates and stores `draft` (its recorder org, subject, category, weight, evidence, period
    /// and `corrects`) as the next event, recorded now by the caller.
    function _append(CreditEvent memory draft) private returns (uint64 eventId) {
        if (draft.evidenceHash == bytes32(0)) revert CreditLedgerMissingEvidence(draft.subjectRef);
        if (draft.weight > MAX_WEIGHT || draft.weight < -MAX_WEIGHT) revert CreditLedgerWeightOutOfRange(draft.weight);
        if (draft.effectiveUntil != 0 && draft.effectiveUntil <= draft.effectiveFrom) {
            revert CreditLedgerInvalidPeriod(draft.effectiveFrom, draft.effectiveUntil);
        }
        eventId = ++_eventCount;
        draft.recorder = msg.sender;
        draft.status = EventStatus.ACTIVE;
        draft.recordedAt = uint64(block.timestamp);
        _events[eventId] = draft;
        _bySubject[draft.subjectRef].push(eventId);
        emit CreditEventRecorded(
            eventId,
            draft.subjectRef,
            draft.recorderOrgId,
            draft.category,
            draft.weight,
            draft.evidenceHash,
            draft.effectiveFrom,
            draft.effectiveUntil,
            draft.corrects
        );
    }
}
