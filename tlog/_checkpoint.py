"""Checkpoints (c2sp.org/tlog-checkpoint): origin, tree size and root hash as a signed note body."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tlog._hashing import HASH_SIZE
from tlog._note import NoteSigner, NoteVerifier, SignedNote, sign_note, verify_note
from tlog.errors import MalformedCheckpointError

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 1 << 64


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: ``origin`` (log identity), tree ``size``, ``root`` hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size < _MAX_SIZE:
            raise MalformedCheckpointError(f"tree size {self.size!r} is not an integer in [0, 2**64)")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise MalformedCheckpointError("root hash must be 32 bytes")
        for index, line in enumerate(self.extensions):
            _check_line(f"extension line {index}", line)

    def to_text(self) -> str:
        """Return the note text: origin, size, base64 root and extension lines, each ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(line + "\n" for line in (self.origin, str(self.size), root, *self.extensions))

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly (no leading zeros, canonical base64, no empty lines)."""
        if not text.endswith("\n"):
            raise MalformedCheckpointError("text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpointError("needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise MalformedCheckpointError(f"tree size {size_text!r} is not a decimal without leading zeros")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error as err:
            raise MalformedCheckpointError("root hash is not base64") from err
        if base64.b64encode(root).decode("ascii") != root_text:
            raise MalformedCheckpointError("root hash is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, *signers: NoteSigner) -> SignedNote:
    """Return the checkpoint as a note signed by each of ``signers`` (the log's key first)."""
    return sign_note(checkpoint.to_text(), *signers)


def open_checkpoint(note: SignedNote | str | bytes, verifiers: Iterable[NoteVerifier]) -> Checkpoint:
    """Verify a signed checkpoint note against trusted keys and return the checkpoint.

    Raises the errors of :meth:`SignedNote.parse`, :func:`verify_note` and
    :meth:`Checkpoint.from_text`.
    """
    if not isinstance(note, SignedNote):
        note = SignedNote.parse(note)
    verify_note(note, verifiers)
    return Checkpoint.from_text(note.text)


def _check_line(what: str, line: str) -> None:
    if not isinstance(line, str) or not line:
        raise MalformedCheckpointError(f"{what} must be a non-empty string")
    if any(ch < " " for ch in line):
        raise MalformedCheckpointError(f"{what} must not contain newlines or control characters")
