"""The public surface of ``tlog`` and the stability of its error codes."""

from __future__ import annotations

import inspect

import tlog
from tlog import errors

PUBLIC = {
    # hashing
    "EMPTY_ROOT", "HASH_SIZE", "leaf_hash", "node_hash", "merkle_root",
    # tree and storage
    "LeafHashSource", "InMemoryLeafHashSource", "MerkleTree",
    # verification
    "verify_inclusion", "verify_consistency", "inclusion_proof_length", "consistency_proof_length",
    # audit
    "full_check", "FullCheckReport", "Contradiction", "TreeHead", "TreeHeadLike",
    # notes and checkpoints
    "SIGNATURE_TYPE_ED25519", "Signer", "Verifier", "NoteSigner", "NoteVerifier", "NoteSignature",
    "SignedNote", "key_id", "ed25519_key_id", "sign_note", "verify_note",
    "Checkpoint", "sign_checkpoint", "open_checkpoint",
    # witness cosignatures (cosignature/v1)
    "SIGNATURE_TYPE_COSIGNATURE_V1", "COSIGNATURE_V1_HEADER", "CosignatureV1Signer",
    "CosignatureV1Verifier", "cosignature_v1_key_id", "cosignature_v1_message", "cosignature_v1_signer",
    "cosignature_v1_timestamp", "cosignature_v1_verifier",
    # witness
    "Witness",
    # errors
    "TlogError", "InvalidHashError", "IndexOutOfRangeError", "SizeOutOfRangeError",
    "SourceInconsistentError", "ProofError", "ProofLengthError", "InclusionMismatchError",
    "ConsistencyMismatchError", "MalformedNoteError", "MalformedCheckpointError", "InvalidNoteKeyError",
    "AmbiguousVerifierError", "SignatureInvalidError", "NoteUnverifiedError", "UnknownLogError",
    "SplitViewError", "TreeShrankError", "OldSizeMismatchError", "EntryMismatchError",
    "CheckpointContradictedError",
}  # fmt: skip


def test_public_surface_is_locked() -> None:
    """``tlog.__all__`` is exactly the documented public API, and every name resolves."""
    assert set(tlog.__all__) == PUBLIC
    assert len(tlog.__all__) == len(PUBLIC)
    for name in tlog.__all__:
        assert hasattr(tlog, name), name


def test_every_error_has_a_unique_stable_code() -> None:
    """Every error class derives from TlogError and has its own ``tlog.``-prefixed code."""
    classes = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, Exception)]
    codes = [cls.code for cls in classes]
    assert all(issubclass(cls, tlog.TlogError) for cls in classes)
    assert all(code.startswith("tlog.") for code in codes)
    assert len(set(codes)) == len(codes)
    assert tlog.InclusionMismatchError.code == "tlog.inclusion_mismatch"
    assert issubclass(tlog.ConsistencyMismatchError, tlog.ProofError)


def test_error_tree_is_documented() -> None:
    """The exception tree in ``tlog.errors`` names every error class and code."""
    doc = errors.__doc__ or ""
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, tlog.TlogError):
            assert cls.__name__ in doc and cls.code in doc, cls.__name__


def test_tlog_imports_no_other_project_package() -> None:
    """The core stays blind: none of its modules import another tdex package."""
    import pathlib

    root = pathlib.Path(tlog.__file__).parent
    forbidden = ("keys", "ledger", "sandbox", "exchange_api", "tdex", "contracts")
    for path in root.glob("*.py"):
        text = path.read_text()
        for name in forbidden:
            assert f"import {name}" not in text and f"from {name}" not in text, (path.name, name)
