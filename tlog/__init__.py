"""Transparency log core: RFC 6962 Merkle tree, proofs, full audit, signed checkpoints, witness.

A blind core in the Trillian sense: it hashes, proves, verifies and signs bytes it is given,
and knows nothing of entries' meaning, storage or transport. It imports no other project
package. Errors live in :mod:`tlog.errors`, re-exported here::

    TlogError
    ├── InvalidHashError, IndexOutOfRangeError, SizeOutOfRangeError, SourceInconsistentError
    ├── ProofError ── ProofLengthError, InclusionMismatchError, ConsistencyMismatchError
    ├── MalformedNoteError, MalformedCheckpointError, InvalidNoteKeyError, AmbiguousVerifierError
    ├── SignatureInvalidError, NoteUnverifiedError
    ├── UnknownLogError, SplitViewError, TreeShrankError, OldSizeMismatchError
    └── EntryMismatchError, CheckpointContradictedError
"""

from tlog._audit import Contradiction, FullCheckReport, TreeHead, TreeHeadLike, full_check
from tlog._checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from tlog._cosignature import (
    COSIGNATURE_V1_HEADER,
    SIGNATURE_TYPE_COSIGNATURE_V1,
    CosignatureV1Signer,
    CosignatureV1Verifier,
    cosignature_v1_key_id,
    cosignature_v1_message,
    cosignature_v1_signer,
    cosignature_v1_timestamp,
    cosignature_v1_verifier,
)
from tlog._hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, merkle_root, node_hash
from tlog._note import (
    SIGNATURE_TYPE_ED25519,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    Signer,
    Verifier,
    ed25519_key_id,
    key_id,
    sign_note,
    verify_note,
)
from tlog._source import InMemoryLeafHashSource, LeafHashSource
from tlog._tree import MerkleTree
from tlog._verify import (
    consistency_proof_length,
    inclusion_proof_length,
    verify_consistency,
    verify_inclusion,
)
from tlog._witness import Witness
from tlog.errors import (
    AmbiguousVerifierError,
    CheckpointContradictedError,
    ConsistencyMismatchError,
    EntryMismatchError,
    InclusionMismatchError,
    IndexOutOfRangeError,
    InvalidHashError,
    InvalidNoteKeyError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteUnverifiedError,
    OldSizeMismatchError,
    ProofError,
    ProofLengthError,
    SignatureInvalidError,
    SizeOutOfRangeError,
    SourceInconsistentError,
    SplitViewError,
    TlogError,
    TreeShrankError,
    UnknownLogError,
)

__all__ = [
    "COSIGNATURE_V1_HEADER",
    "EMPTY_ROOT",
    "HASH_SIZE",
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "SIGNATURE_TYPE_ED25519",
    "AmbiguousVerifierError",
    "Checkpoint",
    "CheckpointContradictedError",
    "ConsistencyMismatchError",
    "Contradiction",
    "CosignatureV1Signer",
    "CosignatureV1Verifier",
    "EntryMismatchError",
    "FullCheckReport",
    "InMemoryLeafHashSource",
    "InclusionMismatchError",
    "IndexOutOfRangeError",
    "InvalidHashError",
    "InvalidNoteKeyError",
    "LeafHashSource",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "MerkleTree",
    "NoteSignature",
    "NoteSigner",
    "NoteUnverifiedError",
    "NoteVerifier",
    "OldSizeMismatchError",
    "ProofError",
    "ProofLengthError",
    "SignatureInvalidError",
    "SignedNote",
    "Signer",
    "SizeOutOfRangeError",
    "SourceInconsistentError",
    "SplitViewError",
    "TlogError",
    "TreeHead",
    "TreeHeadLike",
    "TreeShrankError",
    "UnknownLogError",
    "Verifier",
    "Witness",
    "consistency_proof_length",
    "cosignature_v1_key_id",
    "cosignature_v1_message",
    "cosignature_v1_signer",
    "cosignature_v1_timestamp",
    "cosignature_v1_verifier",
    "ed25519_key_id",
    "full_check",
    "inclusion_proof_length",
    "key_id",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "open_checkpoint",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]
