"""A witness: cosigns a log's checkpoints only if each is consistent with the last it cosigned."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable, Mapping, Sequence

from tlog._checkpoint import Checkpoint
from tlog._note import NoteSigner, NoteVerifier, SignedNote, sign_note, verify_note
from tlog._verify import verify_consistency
from tlog.errors import (
    OldSizeMismatchError,
    SizeOutOfRangeError,
    SplitViewError,
    TlogError,
    TreeShrankError,
    UnknownLogError,
)


class Witness:
    """Cosigns checkpoints of the logs it follows, refusing any split view or rollback.

    ``logs`` maps each followed log's origin to the keys that sign its checkpoints. ``state``
    holds the last cosigned checkpoint per origin (restore it from storage on restart; without
    it the first checkpoint seen for a log is trusted as is). The cosignature is a note signature
    by ``signer`` over the checkpoint text: an Ed25519 note key, or a timestamped cosignature/v1
    key from :func:`~tlog.cosignature_v1_signer` as c2sp.org/tlog-witness requires.

    ``cosign`` is serialised by a lock, so two concurrent requests can never both be checked
    against the same old checkpoint and then both be signed.
    """

    def __init__(
        self,
        signer: NoteSigner,
        logs: Mapping[str, Iterable[NoteVerifier]],
        state: Mapping[str, Checkpoint] | None = None,
    ) -> None:
        self._signer = signer
        self._logs = {origin: tuple(verifiers) for origin, verifiers in logs.items()}
        self._state: dict[str, Checkpoint] = dict(state or {})
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The witness's key name, as it appears on its cosignatures."""
        return self._signer.name

    def last_cosigned(self, origin: str) -> Checkpoint | None:
        """Return the last checkpoint cosigned for ``origin``, if any."""
        with self._lock:
            return self._state.get(origin)

    def state(self) -> dict[str, Checkpoint]:
        """Return a copy of the last cosigned checkpoint per origin (to persist)."""
        with self._lock:
            return dict(self._state)

    def cosign(
        self,
        checkpoint_note: SignedNote | str | bytes,
        consistency_proof: Sequence[bytes],
        *,
        old_size: int | None = None,
    ) -> SignedNote:
        """Verify a log-signed checkpoint and its consistency with the last one cosigned, then cosign it.

        ``consistency_proof`` runs from the size of the last cosigned checkpoint for that origin
        (see :meth:`last_cosigned`) to the new size; it is ignored for a log's first checkpoint.
        ``old_size``, when given, is the size the requester believes was last cosigned (0 for
        none), as in tlog-witness's ``old`` line; it is compared under the same lock as the
        consistency check and the state update, so of two concurrent requests from one old size
        only the first can succeed. Returns the note with this witness's signature added.

        Raises
        ------
        MalformedNoteError, MalformedCheckpointError
            The note or its checkpoint body is malformed.
        UnknownLogError
            The origin is not a log this witness follows.
        SizeOutOfRangeError
            ``old_size`` is larger than the checkpoint's size.
        OldSizeMismatchError
            ``old_size`` is not the size last cosigned (``current`` carries that size).
        SignatureInvalidError, NoteUnverifiedError
            The note is not validly signed by the log's key.
        TreeShrankError
            The checkpoint is smaller than the one last cosigned.
        SplitViewError
            Same size with another root, or the proof does not show the new tree extends the old.
        """
        note = (
            checkpoint_note if isinstance(checkpoint_note, SignedNote) else SignedNote.parse(checkpoint_note)
        )
        claimed = Checkpoint.from_text(note.text)
        log_keys = self._logs.get(claimed.origin)
        if log_keys is None:
            raise UnknownLogError(claimed.origin)
        verify_note(note, log_keys)
        if old_size is not None and not 0 <= old_size <= claimed.size:
            raise SizeOutOfRangeError(old_size, claimed.size, "the old size must be in [0, checkpoint size]")
        with self._lock:
            previous = self._state.get(claimed.origin)
            current = previous.size if previous is not None else 0
            if old_size is not None and old_size != current:
                raise OldSizeMismatchError(claimed.origin, current, old_size)
            if previous is not None:
                self._check_extends(previous, claimed, consistency_proof)
            cosigned = sign_note(note, self._signer)
            self._state[claimed.origin] = claimed
        return cosigned

    @staticmethod
    def _check_extends(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
        if new.size < old.size:
            raise TreeShrankError(new.origin, old.size, new.size)
        if new.size == old.size:
            if not hmac.compare_digest(new.root, old.root):
                raise SplitViewError(new.origin, old.size, new.size, "root_differs")
            return
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except TlogError as err:
            raise SplitViewError(new.origin, old.size, new.size, err.code) from err
