"""Errors raised by the transparency log core, each with a stable machine-readable ``code``.

Exception tree::

    TlogError                          tlog.error
    ├── InvalidHashError               tlog.invalid_hash
    ├── IndexOutOfRangeError           tlog.index_out_of_range
    ├── SizeOutOfRangeError            tlog.size_out_of_range
    ├── SourceInconsistentError        tlog.source_inconsistent
    ├── ProofError                     tlog.proof_invalid
    │   ├── ProofLengthError           tlog.proof_length
    │   ├── InclusionMismatchError     tlog.inclusion_mismatch
    │   └── ConsistencyMismatchError   tlog.consistency_mismatch
    ├── MalformedNoteError             tlog.note_malformed
    ├── MalformedCheckpointError       tlog.checkpoint_malformed
    ├── InvalidNoteKeyError            tlog.key_invalid
    ├── AmbiguousVerifierError         tlog.verifier_ambiguous
    ├── SignatureInvalidError          tlog.signature_invalid
    ├── NoteUnverifiedError            tlog.note_unverified
    ├── UnknownLogError                tlog.unknown_log
    ├── SplitViewError                 tlog.split_view
    ├── TreeShrankError                tlog.tree_shrank
    ├── OldSizeMismatchError           tlog.old_size_mismatch
    ├── EntryMismatchError             tlog.entry_mismatch
    └── CheckpointContradictedError    tlog.checkpoint_contradicted
"""

from __future__ import annotations

from typing import ClassVar


class TlogError(Exception):
    """Root of every error raised by ``tlog``; catch this to catch them all."""

    code: ClassVar[str] = "tlog.error"


class InvalidHashError(TlogError):
    """Raised when a value that must be a 32-byte SHA-256 hash is not one."""

    code = "tlog.invalid_hash"

    def __init__(self, what: str, length: int) -> None:
        self.what = what
        self.length = length
        super().__init__(f"{what} must be a 32-byte hash, got {length} bytes")


class IndexOutOfRangeError(TlogError):
    """Raised when a leaf index is not inside a tree of the given size."""

    code = "tlog.index_out_of_range"

    def __init__(self, index: int, size: int) -> None:
        self.index = index
        self.size = size
        super().__init__(f"leaf index {index} is not in a tree of size {size}")


class SizeOutOfRangeError(TlogError):
    """Raised when a tree size is negative, beyond what is known, or sizes are out of order."""

    code = "tlog.size_out_of_range"

    def __init__(self, size: int, limit: int, detail: str) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"tree size {size} is out of range: {detail}")


class SourceInconsistentError(TlogError):
    """Raised when a leaf-hash source shrinks or answers a read with the wrong hashes."""

    code = "tlog.source_inconsistent"

    def __init__(self, detail: str) -> None:
        super().__init__(f"leaf-hash source is inconsistent: {detail}")


class ProofError(TlogError):
    """Raised when an inclusion or consistency proof does not verify (base of the proof errors)."""

    code = "tlog.proof_invalid"


class ProofLengthError(ProofError):
    """Raised when a proof has the wrong number of hashes for the sizes it claims to cover."""

    code = "tlog.proof_length"

    def __init__(self, kind: str, expected: int, got: int) -> None:
        self.kind = kind
        self.expected = expected
        self.got = got
        super().__init__(f"{kind} proof must have {expected} hashes, got {got}")


class InclusionMismatchError(ProofError):
    """Raised when an inclusion proof leads to a root other than the expected one."""

    code = "tlog.inclusion_mismatch"

    def __init__(self, index: int, size: int) -> None:
        self.index = index
        self.size = size
        super().__init__(
            f"inclusion proof for leaf {index} in tree of size {size} does not lead to the given root"
        )


class ConsistencyMismatchError(ProofError):
    """Raised when a consistency proof does not reproduce one of the two roots (``which``)."""

    code = "tlog.consistency_mismatch"

    def __init__(self, size1: int, size2: int, which: str) -> None:
        self.size1 = size1
        self.size2 = size2
        self.which = which
        super().__init__(f"consistency proof from size {size1} to size {size2} does not reproduce {which}")


class MalformedNoteError(TlogError):
    """Raised when text is not a well-formed signed note."""

    code = "tlog.note_malformed"

    def __init__(self, detail: str) -> None:
        super().__init__(f"malformed signed note: {detail}")


class MalformedCheckpointError(TlogError):
    """Raised when a note body is not a well-formed checkpoint (origin, size, root, extensions)."""

    code = "tlog.checkpoint_malformed"

    def __init__(self, detail: str) -> None:
        super().__init__(f"malformed checkpoint: {detail}")


class InvalidNoteKeyError(TlogError):
    """Raised when a note key has an invalid name or key ID."""

    code = "tlog.key_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(f"invalid note key: {detail}")


class AmbiguousVerifierError(TlogError):
    """Raised when two configured verifiers share both key name and key ID."""

    code = "tlog.verifier_ambiguous"

    def __init__(self, name: str, key_id: bytes) -> None:
        self.name = name
        self.key_id = key_id
        super().__init__(f"more than one verifier for key {name}+{key_id.hex()}")


class SignatureInvalidError(TlogError):
    """Raised when a signature by a known key does not verify."""

    code = "tlog.signature_invalid"

    def __init__(self, name: str, key_id: bytes) -> None:
        self.name = name
        self.key_id = key_id
        super().__init__(f"signature by known key {name}+{key_id.hex()} does not verify")


class NoteUnverifiedError(TlogError):
    """Raised when a note carries no signature by any of the trusted keys."""

    code = "tlog.note_unverified"

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        super().__init__(f"note has no signature by a trusted key (trusted: {', '.join(names) or 'none'})")


class UnknownLogError(TlogError):
    """Raised when a witness is asked to cosign a checkpoint of a log it does not follow."""

    code = "tlog.unknown_log"

    def __init__(self, origin: str) -> None:
        self.origin = origin
        super().__init__(f"no log with origin {origin!r} is configured")


class SplitViewError(TlogError):
    """Raised when a checkpoint contradicts one already cosigned: a fork or an inconsistent proof.

    ``reason`` is ``"root_differs"`` for two roots at one size, else the code of the proof error.
    """

    code = "tlog.split_view"

    def __init__(self, origin: str, old_size: int, new_size: int, reason: str) -> None:
        self.origin = origin
        self.old_size = old_size
        self.new_size = new_size
        self.reason = reason
        super().__init__(
            f"split view of {origin!r}: checkpoint of size {new_size} contradicts the cosigned "
            f"checkpoint of size {old_size} ({reason})"
        )


class TreeShrankError(TlogError):
    """Raised when a checkpoint is smaller than one already cosigned for the same log."""

    code = "tlog.tree_shrank"

    def __init__(self, origin: str, old_size: int, new_size: int) -> None:
        self.origin = origin
        self.old_size = old_size
        self.new_size = new_size
        super().__init__(
            f"log {origin!r} shrank: checkpoint of size {new_size} is older than the cosigned size {old_size}"
        )


class OldSizeMismatchError(TlogError):
    """Raised when a cosigning request's old size is not the size the witness last cosigned.

    ``current`` is the witness's size (0 when it never cosigned this log), which the requester
    should retry from (tlog-witness answers this with 409 and that size).
    """

    code = "tlog.old_size_mismatch"

    def __init__(self, origin: str, current: int, claimed: int) -> None:
        self.origin = origin
        self.current = current
        self.claimed = claimed
        super().__init__(f"old size {claimed} for {origin!r} is not the size last cosigned, {current}")


class EntryMismatchError(TlogError):
    """Raised when a stored entry does not hash to its stored leaf hash (or one of them is missing)."""

    code = "tlog.entry_mismatch"

    def __init__(self, index: int) -> None:
        self.index = index
        super().__init__(f"entry {index} does not match its stored leaf hash")


class CheckpointContradictedError(TlogError):
    """Raised when the recomputed tree disagrees with a checkpoint."""

    code = "tlog.checkpoint_contradicted"

    def __init__(self, size: int, first_bad_from: int) -> None:
        self.size = size
        self.first_bad_from = first_bad_from
        where = (
            f"the first altered entry is at an index in [{first_bad_from}, {size})"
            if first_bad_from < size
            else "another checkpoint of that size matches, so the checkpoints disagree"
        )
        super().__init__(f"stored log contradicts the checkpoint of size {size}; {where}")
