"""A witness an auditor runs on its own premises: c2sp.org/tlog-witness ``add-checkpoint`` over HTTP.

:class:`WitnessServer` is the witness itself: the blind ``tlog.Witness`` (which does every
consistency and split-view check) with a cosignature/v1 key, and its last cosigned checkpoint per
log in a JSON file of its own, written atomically before any cosignature leaves.
:func:`create_witness_app` puts it behind a small Starlette app and :func:`serve_witness` runs
that app (loopback by default). Nothing here touches the exchange's database.

The protocol fixes the statuses and plain-text bodies (not RFC 9457 problems), so this module
maps errors to them itself, in :func:`_refusal`; every error body is ``<code>: <what was wrong>``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from exchange_api.audit._remote_witness import ADD_CHECKPOINT_PATH, SIZE_CONTENT_TYPE
from exchange_api.audit._witness_state import load_witness_state, save_witness_state
from exchange_api.audit.bundle import format_vkey, parse_vkey
from exchange_api.audit.errors import WitnessConfigInvalid, WitnessRequestMalformed
from keys import Ed25519SigningKey
from tlog import (
    SIGNATURE_TYPE_COSIGNATURE_V1,
    Checkpoint,
    NoteSignature,
    NoteUnverifiedError,
    OldSizeMismatchError,
    ProofError,
    SignatureInvalidError,
    SignedNote,
    SplitViewError,
    TlogError,
    TreeShrankError,
    UnknownLogError,
    Witness,
    cosignature_v1_signer,
)

__all__ = ["MAX_BODY", "WitnessServer", "create_witness_app", "serve_witness"]

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
"""Largest add-checkpoint body accepted: 63 proof lines and a note with 100 signatures fit easily."""

MAX_PROOF_LINES = 63  # tlog-witness: a client MUST NOT send more
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")


class WitnessServer:
    """One witness key, the logs it follows (origin → log verifier keys) and its state file.

    Cosignatures are cosignature/v1 (timestamped by ``clock``). Requests for one origin are
    serialised by a lock held from the old-size check until the state is on disk, so two
    concurrent requests from one old size cannot both be cosigned (the second gets 409).
    """

    def __init__(
        self,
        name: str,
        key: Ed25519SigningKey,
        logs: Mapping[str, Sequence[str]],
        state_path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not logs:
            raise WitnessConfigInvalid("a witness needs at least one log to follow")
        self._name = name
        self._key = key
        self._path = Path(state_path)
        signer = cosignature_v1_signer(name, key.verify_key.public_bytes, key, clock)
        self._key_id = signer.key_id
        verifiers = {origin: [parse_vkey(v) for v in vkeys] for origin, vkeys in logs.items()}
        self._witness = Witness(signer, verifiers, load_witness_state(self._path))
        self._origin_locks = {origin: threading.Lock() for origin in logs}
        self._save_lock = threading.Lock()

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self._name

    @property
    def vkey(self) -> str:
        """The witness's cosignature/v1 verifier key (type 0x04), for operators and auditors to pin."""
        return format_vkey(self._name, self._key.verify_key, SIGNATURE_TYPE_COSIGNATURE_V1)

    def last_size(self, origin: str) -> int:
        """The size last cosigned for ``origin`` (0 when none)."""
        last = self._witness.last_cosigned(origin)
        return last.size if last is not None else 0

    def add_checkpoint(self, body: bytes) -> tuple[NoteSignature, ...]:
        """Handle one add-checkpoint body; return this witness's cosignature(s) of its checkpoint.

        Raises
        ------
        WitnessRequestMalformed
            The body is not ``old`` line, proof lines, blank line, signed note.
        TlogError
            What ``tlog.Witness.cosign`` raises: unknown log, bad signature, old size mismatch,
            split view, and so on; :func:`create_witness_app` maps each to its status.
        OSError
            The new state could not be written; nothing was returned to the requester.
        """
        old, proof, note = _parse_request(body)
        origin = Checkpoint.from_text(note.text).origin
        lock = self._origin_locks.get(origin)
        if lock is None:
            raise UnknownLogError(origin)
        with lock:
            cosigned = self._witness.cosign(note, proof, old_size=old)
            # If writing fails the in-memory state is ahead of the file; that is safe, because no
            # cosignature of the unsaved checkpoint has left, and after a restart the witness is
            # back at a state it did sign.
            with self._save_lock:
                save_witness_state(self._path, self._witness.state())
        return tuple(s for s in cosigned.signatures if (s.name, s.key_id) == (self._name, self._key_id))


def _parse_request(body: bytes) -> tuple[int, list[bytes], SignedNote]:
    """Split an add-checkpoint body into old size, consistency proof and signed note."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRequestMalformed("the body is not UTF-8") from None
    head, sep, note_text = text.partition("\n\n")
    if not sep:
        raise WitnessRequestMalformed("no empty line between the old size and proof and the checkpoint")
    old_line, *proof_lines = head.split("\n")
    match = _OLD_LINE.fullmatch(old_line)
    if match is None:
        raise WitnessRequestMalformed(
            f"the first line must be 'old <size>' in decimal, got {old_line[:40]!r}"
        )
    old = int(match.group(1))
    if len(proof_lines) > MAX_PROOF_LINES:
        raise WitnessRequestMalformed(f"{len(proof_lines)} proof lines, at most {MAX_PROOF_LINES} allowed")
    if old == 0 and proof_lines:
        raise WitnessRequestMalformed("the consistency proof must be empty when the old size is 0")
    proof = [_proof_hash(i, line) for i, line in enumerate(proof_lines)]
    try:
        note = SignedNote.parse(note_text)
        Checkpoint.from_text(note.text)
    except TlogError as err:
        raise WitnessRequestMalformed(f"the checkpoint is malformed: {err}") from err
    return old, proof, note


def _proof_hash(position: int, line: str) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != line:
        raise WitnessRequestMalformed(f"proof line {position + 1} is not the base64 of a 32-byte hash")
    return raw


def _refusal(err: Exception) -> Response:
    """The tlog-witness answer to a refused request: its status, and ``code: message`` as body."""
    if isinstance(err, OldSizeMismatchError):
        # The one body a client reads: the size to retry from.
        return PlainTextResponse(f"{err.current}\n", 409, media_type=SIZE_CONTENT_TYPE)
    if isinstance(err, WitnessRequestMalformed):
        status, code = 400, err.code
    elif isinstance(err, TlogError):
        code = err.code
        if isinstance(err, UnknownLogError):
            status = 404
        elif isinstance(err, SignatureInvalidError | NoteUnverifiedError):
            status = 403
        elif isinstance(err, SplitViewError):
            # Same size with another root is a conflict (409); a proof that fails is 422.
            status = 409 if err.reason == "root_differs" else 422
        elif isinstance(err, TreeShrankError):
            status = 409
        elif isinstance(err, ProofError):
            status = 422
        else:  # SizeOutOfRangeError (old above the checkpoint size), malformed hashes
            status = 400
    elif isinstance(err, OSError):
        status, code = 500, "witness.state_not_saved"
    else:
        status, code = 500, "witness.internal_error"
    return PlainTextResponse(f"{code}: {err}\n", status)


def create_witness_app(server: WitnessServer, *, max_body: int = MAX_BODY) -> Starlette:
    """The witness's HTTP app: ``POST /add-checkpoint`` (c2sp.org/tlog-witness) and nothing else."""

    async def add_checkpoint(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            return PlainTextResponse(f"witness.body_too_large: more than {max_body} bytes\n", 413)
        chunks: list[bytes] = []
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body:
                return PlainTextResponse(f"witness.body_too_large: more than {max_body} bytes\n", 413)
            chunks.append(chunk)
        try:
            # Signing and the fsync of the state block, so they run off the event loop.
            signatures = await run_in_threadpool(server.add_checkpoint, b"".join(chunks))
        except Exception as err:  # every refusal becomes its protocol status; see _refusal
            if not isinstance(err, TlogError | WitnessRequestMalformed):
                logger.exception("witness %s failed on a request", server.name)
            elif isinstance(err, SplitViewError):
                # Evidence of log misbehaviour (the note is log-signed): keep it in the log.
                logger.warning("witness %s refused a split view: %s", server.name, err)
            return _refusal(err)
        return PlainTextResponse("".join(sig.line() + "\n" for sig in signatures))

    return Starlette(routes=[Route(ADD_CHECKPOINT_PATH, add_checkpoint, methods=["POST"])])


def serve_witness(
    server: WitnessServer,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[str], None] | None = None,
    *,
    log_level: str = "warning",
) -> None:
    """Serve the witness until SIGTERM or SIGINT; ``ready(url)`` is called once the socket listens.

    The socket is bound here (port 0 picks a free one with no race) and loopback is the default,
    so exposing a witness beyond the machine is a deliberate choice.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(create_witness_app(server), log_level=log_level, access_log=False)
    if ready is not None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        ready(f"http://{shown}:{bound_port}")
    uvicorn.Server(config).run(sockets=[sock])
