// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title ICreditLedger
 * @notice Public-credit events (公共信用) recorded by CREDIT_RECORDER members about subjects known
 * only by a keyed subject reference. Events are numbered from 1; the event count at a block is the
 * checkpoint a score "as of checkpoint N" is computed over. Nothing is ever erased: a dispute and
 * its answer are recorded, and a correction is a new event naming the one it corrects, which stays
 * readable with status CORRECTED. Weights and scoring are the off-chain model's business; the
 * ledger only bounds weights to ±MAX_WEIGHT.
 *
 * Disputes are filed by a CREDIT_RECORDER on the subject's behalf (e.g. the credit bureau's intake
 * desk), carrying the hash of the subject's signed dispute request: subjects are identified by a
 * keyed reference the chain cannot link to an account, and many are not consortium members. Only
 * the recording organisation answers a dispute or corrects its event (谁记录、谁负责).
 */
interface ICreditLedger {
    /// @dev 行政许可, 行政处罚, 纳税信用, 合同履约, 表彰奖励, 严重失信主体名单.
    enum Category {
        ADMINISTRATIVE_LICENCE,
        ADMINISTRATIVE_PENALTY,
        TAX_GRADE,
        CONTRACT_PERFORMANCE,
        COMMENDATION,
        SERIOUS_DISHONESTY
    }

    /// @dev NONE means no such event. ACTIVE → DISPUTED → UPHELD; ACTIVE, DISPUTED or UPHELD → CORRECTED.
    enum EventStatus {
        NONE,
        ACTIVE,
        DISPUTED,
        UPHELD,
        CORRECTED
    }

    struct CreditEvent {
        bytes32 subjectRef;
        bytes32 recorderOrgId;
        bytes32 evidenceHash;
        address recorder;
        Category category;
        EventStatus status;
        int32 weight;
        uint64 effectiveFrom;
        uint64 effectiveUntil;
        uint64 recordedAt;
        uint64 corrects;
        uint64 correctedBy;
    }

    struct Dispute {
        bytes32 filedByOrgId;
        bytes32 groundsHash;
        bytes32 decisionHash;
        uint64 filedAt;
        uint64 resolvedAt;
    }

    // ----------------------------------------------------------------------------------- errors

    /// @dev `account` is not an active member with the CREDIT_RECORDER capability.
    error CreditLedgerNotRecorder(address account);
    /// @dev The subject reference is zero.
    error CreditLedgerInvalidSubject(bytes32 subjectRef);
    /// @dev The evidence hash is zero.
    error CreditLedgerMissingEvidence(bytes32 subjectRef);
    /// @dev `weight` is outside ±MAX_WEIGHT.
    error CreditLedgerWeightOutOfRange(int32 weight);
    /// @dev `effectiveUntil` is neither zero (open-ended) nor after `effectiveFrom`.
    error CreditLedgerInvalidPeriod(uint64 effectiveFrom, uint64 effectiveUntil);
    /// @dev No event has id `eventId`.
    error CreditLedgerUnknownEvent(uint64 eventId);
    /// @dev `account` does not act for the organisation that recorded `eventId`.
    error CreditLedgerNotEventRecorder(uint64 eventId, address account);
    /// @dev Event `eventId` is in `status`, which does not allow the operation.
    error CreditLedgerInvalidEventStatus(uint64 eventId, EventStatus status);
    /// @dev A dispute of `eventId` gives no grounds hash, or an answer no decision hash.
    error CreditLedgerMissingReason(uint64 eventId);

    // ----------------------------------------------------------------------------------- events

    /// @notice Event `eventId` about `subjectRef` was recorded by `recorderOrgId`; `corrects` is the
    /// event it corrects, 0 for none.
    event CreditEventRecorded(
        uint64 indexed eventId,
        bytes32 indexed subjectRef,
        bytes32 indexed recorderOrgId,
        Category category,
        int32 weight,
        bytes32 evidenceHash,
        uint64 effectiveFrom,
        uint64 effectiveUntil,
        uint64 corrects
    );
    /// @notice Event `eventId` was disputed, filed by `filedByOrgId` with the grounds hashed as `groundsHash`.
    event CreditEventDisputed(uint64 indexed eventId, bytes32 indexed filedByOrgId, bytes32 groundsHash);
    /// @notice The dispute of event `eventId` was rejected and the event upheld, for the decision `decisionHash`.
    event CreditDisputeRejected(uint64 indexed eventId, bytes32 decisionHash);
    /// @notice Event `eventId` was corrected by event `correctionId`, for the decision `decisionHash`.
    event CreditEventCorrected(uint64 indexed eventId, uint64 indexed correctionId, bytes32 decisionHash);

    // -------------------------------------------------------------------------------- mutations

    /**
     * @notice Records a credit event about `subjectRef`; returns its id (ids start at 1).
     * @dev Requirements: caller is an active CREDIT_RECORDER; `subjectRef` and `evidenceHash`
     * non-zero; |`weight`| <= MAX_WEIGHT; `effectiveUntil` zero or after `effectiveFrom`.
     * Emits {CreditEventRecorded}.
     */
    function record(
        bytes32 subjectRef,
        Category category,
        int32 weight,
        bytes32 evidenceHash,
        uint64 effectiveFrom,
        uint64 effectiveUntil
    ) external returns (uint64 eventId);

    /**
     * @notice Files the subject's dispute of event `eventId` (on its behalf; see the contract notice).
     * @dev Requirements: caller is an active CREDIT_RECORDER; the event is ACTIVE; `groundsHash`
     * non-zero (the hash of the subject's signed dispute request).
     * Emits {CreditEventDisputed}.
     */
    function dispute(uint64 eventId, bytes32 groundsHash) external;

    /**
     * @notice Rejects the dispute of event `eventId`: the event stands (UPHELD).
     * @dev Requirements: caller is an active CREDIT_RECORDER acting for the event's recorder; the
     * event is DISPUTED; `decisionHash` non-zero.
     * Emits {CreditDisputeRejected}.
     */
    function uphold(uint64 eventId, bytes32 decisionHash) external;

    /**
     * @notice Corrects event `eventId` with a new event of the same subject and category (the
     * answer to a dispute, or credit repair 信用修复); returns the correction's id.
     * @dev Requirements: caller is an active CREDIT_RECORDER acting for the event's recorder; the
     * event is ACTIVE, DISPUTED or UPHELD; `decisionHash` and `evidenceHash` non-zero; the new
     * weight and period obey the rules of {record}.
     * Emits {CreditEventRecorded} for the correction and {CreditEventCorrected}.
     */
    function correct(
        uint64 eventId,
        int32 weight,
        bytes32 evidenceHash,
        uint64 effectiveFrom,
        uint64 effectiveUntil,
        bytes32 decisionHash
    ) external returns (uint64 correctionId);

    // ------------------------------------------------------------------------------------ views

    /// @notice The Consortium asked about membership and capabilities.
    function consortium() external view returns (address);

    /// @notice Largest absolute weight the ledger accepts.
    function MAX_WEIGHT() external view returns (int32);

    /// @notice Number of events recorded so far (the highest id; the current checkpoint).
    function eventCount() external view returns (uint64);

    /**
     * @notice Event `eventId`.
     * @dev Requirements: it exists, else {CreditLedgerUnknownEvent}.
     */
    function creditEvent(uint64 eventId) external view returns (CreditEvent memory);

    /**
     * @notice The dispute of event `eventId` (all zero if it was never disputed).
     * @dev Requirements: the event exists, else {CreditLedgerUnknownEvent}.
     */
    function disputeOf(uint64 eventId) external view returns (Dispute memory);

    /// @notice Number of events recorded about `subjectRef`, corrections included.
    function subjectEventCount(bytes32 subjectRef) external view returns (uint256);

    /// @notice The id of the `index`-th event (from 0) recorded about `subjectRef`.
    function subjectEventAt(bytes32 subjectRef, uint256 index) external view returns (uint64);
}
