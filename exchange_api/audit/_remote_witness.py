"""A witness on an auditor's own premises, reached over c2sp.org/tlog-witness ``add-checkpoint``.

:class:`RemoteWitness` is the :class:`~exchange_api.audit.WitnessClient` the anchorer uses for a
witness that runs elsewhere (``tdex audit witness serve``); :func:`parse_witnesses` reads the
operator's ``TDEX_WITNESSES`` setting into a list of them. The witness's answer is trusted only
after its cosignature verifies against the pinned verifier key.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Sequence
from types import TracebackType

import httpx

from exchange_api.audit.bundle import parse_vkey
from exchange_api.audit.errors import (
    WitnessBadResponse,
    WitnessConfigInvalid,
    WitnessRefused,
    WitnessSizeConflict,
    WitnessUnreachable,
)
from tlog import Checkpoint, SignedNote, TlogError, verify_note

__all__ = ["ADD_CHECKPOINT_PATH", "SIZE_CONTENT_TYPE", "RemoteWitness", "parse_witnesses"]

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Content type of a 409 body that carries the witness's current tree size (tlog-witness)."""

_MAX_RESPONSE = 64 * 1024  # a few signature lines; anything longer is not a witness answering


class RemoteWitness:
    """A :class:`~exchange_api.audit.WitnessClient` speaking tlog-witness to ``url``.

    ``url`` is the witness's submission prefix (``POST <url>/add-checkpoint``); ``vkey`` its
    pinned verifier key (a cosignature/v1 key, type 0x04, or a plain Ed25519 note key); its key
    name is the witness's name. The size the witness last cosigned is cached per origin: learnt
    from each cosignature and from 409 answers, which :func:`~exchange_api.audit.sign_and_cosign`
    then retries once with a proof from that size.
    """

    def __init__(self, url: str, vkey: str, *, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise WitnessConfigInvalid(f"witness URL {url!r} is not http:// or https://")
        if timeout_s <= 0:
            raise WitnessConfigInvalid(f"witness timeout {timeout_s!r} must be positive")
        try:
            self._verifier = parse_vkey(vkey)
        except (ValueError, TlogError) as err:
            raise WitnessConfigInvalid(f"witness key {vkey!r}: {err}") from err
        self._url = url.rstrip("/")
        self._vkey = vkey.strip()
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()
        # One client per witness: keep-alive connections, as tlog-witness asks clients to use.
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)

    @property
    def name(self) -> str:
        """The witness's key name (from its verifier key)."""
        return self._verifier.name

    @property
    def vkey(self) -> str:
        """The witness's pinned verifier key text."""
        return self._vkey

    @property
    def url(self) -> str:
        """The witness's submission prefix."""
        return self._url

    def last_size(self, origin: str) -> int | None:
        """The size this witness last cosigned for ``origin``, as far as this client has learnt."""
        with self._lock:
            return self._sizes.get(origin)

    def cosign(self, note: SignedNote, proof: Sequence[bytes]) -> SignedNote:
        """Send ``note`` with the consistency ``proof`` from :meth:`last_size` and add the cosignature.

        Raises
        ------
        WitnessSizeConflict
            The witness last cosigned another size (now returned by :meth:`last_size`).
        WitnessRefused
            The witness refused (``reason`` is its error code, e.g. ``tlog.split_view``).
        WitnessUnreachable
            No answer, a timeout, or a server error.
        WitnessBadResponse
            A 200 answer without a valid cosignature by the pinned key.
        """
        checkpoint = Checkpoint.from_text(note.text)
        old = self.last_size(checkpoint.origin) or 0
        body = (
            f"old {old}\n"
            + "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
            + "\n"
            + note.format()
        )
        try:
            status, content_type, answer = self._post(body.encode())
        except httpx.HTTPError as err:
            raise WitnessUnreachable(self.name, "audit.witness_unreachable", f"{self._url}: {err}") from err
        if status == 200:
            cosigned = self._add_cosignatures(note, answer)
            with self._lock:
                self._sizes[checkpoint.origin] = checkpoint.size
            return cosigned
        text = answer.decode("utf-8", "replace").strip()
        if status == 409 and content_type == SIZE_CONTENT_TYPE:
            size = _size(text)
            if size is None:
                raise WitnessBadResponse(self.name, "audit.witness_bad_response", f"409 size body {text!r}")
            with self._lock:
                self._sizes[checkpoint.origin] = size
            raise WitnessSizeConflict(self.name, size, f"it last cosigned size {size}, not {old}")
        if 400 <= status < 500:
            code, _, message = text.partition(": ")
            # The witness names its refusal with a stable code first; a foreign witness may not.
            reason = code if code and " " not in code and message else f"http.{status}"
            raise WitnessRefused(self.name, reason, f"{status}: {text}")
        raise WitnessUnreachable(
            self.name, "audit.witness_unreachable", f"{self._url} answered {status}: {text}"
        )

    def _post(self, body: bytes) -> tuple[int, str, bytes]:
        """POST an add-checkpoint body; return status, media type and the answer (capped)."""
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        with self._http.stream(
            "POST", self._url + ADD_CHECKPOINT_PATH, content=body, headers=headers
        ) as response:
            # Read with a cap: a witness is trusted for its signature, not for the size of its answer.
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) > _MAX_RESPONSE:
                    raise WitnessBadResponse(self.name, "audit.witness_bad_response", "answer too long")
            media_type = response.headers.get("content-type", "").split(";")[0].strip()
            return response.status_code, media_type, answer

    def _add_cosignatures(self, note: SignedNote, answer: bytes) -> SignedNote:
        """The note with the answer's signature lines by the pinned key (replacing older ones)."""
        try:
            answered = SignedNote.parse(note.text.encode() + b"\n" + answer)
            verified = verify_note(answered, [self._verifier])
        except TlogError as err:
            raise WitnessBadResponse(self.name, err.code, f"cosignature does not verify: {err}") from err
        ours = {(sig.name, sig.key_id) for sig in verified}
        kept = tuple(sig for sig in note.signatures if (sig.name, sig.key_id) not in ours)
        return SignedNote(note.text, kept + verified)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> RemoteWitness:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteWitness({self._url!r}, {self._vkey!r})"


def parse_witnesses(text: str, *, timeout_s: float = 5.0) -> list[RemoteWitness]:
    """Read ``TDEX_WITNESSES``: ``name=url=vkey`` entries separated by whitespace.

    ``name`` must be the key name of ``vkey`` (so a mix-up between two witnesses' lines is caught
    at start-up, not at the first checkpoint); names must be distinct. Empty text gives no witness.

    Raises
    ------
    WitnessConfigInvalid
        An entry is malformed (named in the message).
    """
    witnesses: list[RemoteWitness] = []
    try:
        for entry in text.split():
            witnesses.append(_parse_entry(entry, {w.name for w in witnesses}, timeout_s))
    except WitnessConfigInvalid:
        for witness in witnesses:
            witness.close()
        raise
    return witnesses


def _parse_entry(entry: str, seen: set[str], timeout_s: float) -> RemoteWitness:
    name, sep, rest = entry.partition("=")
    # The URL may contain "=" (a query); a verifier key never does (33-byte keys need no padding).
    url, sep2, vkey = rest.rpartition("=")
    if not (sep and sep2 and name and url and vkey):
        raise WitnessConfigInvalid(f"witness entry {entry!r} is not name=url=vkey")
    witness = RemoteWitness(url, vkey, timeout_s=timeout_s)
    problem = None
    if witness.name != name:
        problem = f"witness entry {entry!r}: the key is named {witness.name!r}, not {name!r}"
    elif name in seen:
        problem = f"witness {name!r} is listed twice"
    if problem is not None:
        witness.close()
        raise WitnessConfigInvalid(problem)
    return witness


def _size(text: str) -> int | None:
    canonical = text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))
    return int(text) if canonical else None
