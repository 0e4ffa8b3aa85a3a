"""Errors of the audit trail, each with a stable ``code``; HTTP statuses follow the exchange's classes.

Every class also derives from the exchange error whose HTTP status it should get, so
``exchange_api.problems`` stays the one place that decides statuses::

    AuditError(ExchangeError)              audit.error
    ├── EntryNotFound(NotFound)            audit.entry_not_found
    ├── CheckpointNotFound(NotFound)       audit.checkpoint_not_found
    ├── InvalidRange(InvalidInput)         audit.invalid_range
    ├── InvalidRecord(InvalidInput)        audit.invalid_record
    ├── NotCheckpointed(Conflict)          audit.not_checkpointed
    ├── LogOriginMismatch(Conflict)        audit.origin_mismatch
    ├── WitnessRefused                     audit.witness_refused   (reason: the witness's code)
    │   ├── WitnessUnreachable             audit.witness_unreachable
    │   ├── WitnessSizeConflict            audit.witness_size_conflict
    │   └── WitnessBadResponse             audit.witness_bad_response
    ├── WitnessConfigInvalid(ValueError)   audit.witness_config_invalid
    ├── WitnessRequestMalformed(InvalidInput)  audit.witness_request_malformed
    ├── AnchorFailed                       audit.anchor_failed
    ├── BundleMalformed                    audit.bundle_malformed
    └── BundleInvalid                      audit.bundle_invalid   (lists every failure)

This module imports nothing but :mod:`exchange_api.errors`, so the offline bundle verifier can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exchange_api.errors import Conflict, ExchangeError, InvalidInput, NotFound

__all__ = [
    "AnchorFailed",
    "AuditError",
    "BundleFailure",
    "BundleInvalid",
    "BundleMalformed",
    "CheckpointNotFound",
    "EntryNotFound",
    "InvalidRange",
    "InvalidRecord",
    "LogOriginMismatch",
    "NotCheckpointed",
    "WitnessBadResponse",
    "WitnessConfigInvalid",
    "WitnessRefused",
    "WitnessRequestMalformed",
    "WitnessSizeConflict",
    "WitnessUnreachable",
]


class AuditError(ExchangeError):
    """Root of every error raised by the audit trail."""

    code = "audit.error"


class EntryNotFound(AuditError, NotFound):
    """Raised when no entry has the requested index, or the caller may not see it."""

    code = "audit.entry_not_found"


class CheckpointNotFound(AuditError, NotFound):
    """Raised when no signed checkpoint exists yet (or none of the requested size)."""

    code = "audit.checkpoint_not_found"


class InvalidRange(AuditError, InvalidInput):
    """Raised when a tree size or index is outside the log (or two sizes are out of order)."""

    code = "audit.invalid_range"


class InvalidRecord(AuditError, InvalidInput):
    """Raised when a record lacks a field its registered kind requires, or has no canonical form."""

    code = "audit.invalid_record"


class NotCheckpointed(AuditError, Conflict):
    """Raised when an entry is not yet covered by a signed checkpoint, so no bundle can prove it."""

    code = "audit.not_checkpointed"


class LogOriginMismatch(AuditError, Conflict):
    """Raised when a store already holds a log under another origin than the one configured."""

    code = "audit.origin_mismatch"


class WitnessRefused(AuditError):
    """Raised when a witness refuses to cosign a checkpoint (``reason`` is the tlog error code)."""

    code = "audit.witness_refused"

    def __init__(self, witness: str, reason: str, detail: str) -> None:
        super().__init__(f"witness {witness} refused to cosign: {detail}", witness=witness, reason=reason)
        self.witness = witness
        self.reason = reason


class WitnessUnreachable(WitnessRefused):
    """Raised when a remote witness cannot be reached, times out or answers with a server error."""

    code = "audit.witness_unreachable"


class WitnessSizeConflict(WitnessRefused):
    """Raised when a remote witness last cosigned another size than the one the proof starts from.

    ``size`` is the witness's size (tlog-witness 409 with a ``text/x.tlog.size`` body); the caller
    retries with a consistency proof from it.
    """

    code = "audit.witness_size_conflict"

    def __init__(self, witness: str, size: int, detail: str) -> None:
        super().__init__(witness, "tlog.old_size_mismatch", detail)
        self.size = size
        self.extra["size"] = size


class WitnessBadResponse(WitnessRefused):
    """Raised when a remote witness answers 200 without a valid cosignature by its pinned key."""

    code = "audit.witness_bad_response"


class WitnessConfigInvalid(AuditError, ValueError):
    """Raised when a remote witness's URL, key or ``TDEX_WITNESSES`` entry is unusable.

    It is also a ValueError, so settings validation reports it like any other bad value.
    """

    code = "audit.witness_config_invalid"


class WitnessRequestMalformed(AuditError, InvalidInput):
    """Raised by a witness server when an add-checkpoint body is not ``old``, proof lines, blank, note."""

    code = "audit.witness_request_malformed"


class AnchorFailed(AuditError):
    """Raised when anchoring a checkpoint on chain fails for good (not a transient outage)."""

    code = "audit.anchor_failed"


class BundleMalformed(AuditError):
    """Raised when a document is not a `tdex.audit.bundle` (``field`` names where)."""

    code = "audit.bundle_malformed"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"malformed bundle: {field}: {detail}", field=field)
        self.field = field


@dataclass(frozen=True)
class BundleFailure:
    """One check of a bundle that failed: which field, a stable code and what was wrong."""

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} [{self.code}]"


class BundleInvalid(AuditError):
    """Raised when a proof bundle does not verify; ``failures`` names every check that failed."""

    code = "audit.bundle_invalid"

    def __init__(self, failures: Sequence[BundleFailure]) -> None:
        self.failures = tuple(failures)
        listed = "; ".join(str(f) for f in self.failures)
        super().__init__(f"bundle does not verify: {listed}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields that failed, in the order they were checked."""
        return tuple(f.field for f in self.failures)
