"""A witness on its own premises over c2sp.org/tlog-witness: statuses, split views, restarts, races."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import tlog
from exchange_api.audit import (
    LogOperator,
    RemoteWitness,
    WitnessServer,
    create_witness_app,
    parse_witnesses,
    sign_and_cosign,
)
from exchange_api.audit.errors import (
    WitnessBadResponse,
    WitnessConfigInvalid,
    WitnessRefused,
    WitnessRequestMalformed,
    WitnessSizeConflict,
    WitnessUnreachable,
)
from keys import Ed25519SigningKey

ORIGIN = "tdex.test/audit"
NAME = "auditor.test/witness"
OPERATOR = LogOperator(ORIGIN, Ed25519SigningKey(b"\x11" * 32))
WITNESS_KEY = Ed25519SigningKey(b"\x22" * 32)


class Log:
    """An in-memory log: its tree is the ProofSource the anchorer would give sign_and_cosign."""

    def __init__(self, count: int, tag: bytes = b"") -> None:
        self.source = tlog.InMemoryLeafHashSource(tlog.leaf_hash(b"e%d" % i) for i in range(count))
        self.tree = tlog.MerkleTree(self.source)
        self.tag = tag

    def grow(self, to: int) -> None:
        self.source.extend(tlog.leaf_hash(self.tag + b"e%d" % i) for i in range(self.tree.size, to))
        self.tree.sync()

    def note(self, size: int, operator: LogOperator = OPERATOR) -> tlog.SignedNote:
        return tlog.sign_checkpoint(tlog.Checkpoint(ORIGIN, size, self.tree.root(size)), operator.signer)


def make_server(state: Path) -> WitnessServer:
    """The auditor's witness, following the test log, with its state in ``state``."""
    return WitnessServer(NAME, WITNESS_KEY, {ORIGIN: [OPERATOR.vkey]}, state)


@contextmanager
def serving(server: WitnessServer) -> Iterator[str]:
    """Run the witness app on a free loopback port in a thread; yield its URL; stop it."""
    with serving_app(create_witness_app(server)) as url:
        yield url


@contextmanager
def serving_app(app: Starlette) -> Iterator[str]:
    """Run an ASGI app on a free loopback port in a thread; yield its URL; stop it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections queue here until uvicorn accepts them: no wait needed
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def witness_url(tmp_path: Path) -> Iterator[str]:
    """A running witness with a fresh state file."""
    with serving(make_server(tmp_path / "witness.json")) as url:
        yield url


def body(old: int, proof: list[bytes], note: tlog.SignedNote | str) -> bytes:
    """An add-checkpoint request body."""
    text = note.format() if isinstance(note, tlog.SignedNote) else note
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"old {old}\n{lines}\n{text}".encode()


def post(url: str, data: bytes) -> httpx.Response:
    """POST an add-checkpoint body."""
    return httpx.post(url + "/add-checkpoint", content=data, timeout=10)


def remote(url: str) -> RemoteWitness:
    """The exchange's client for the witness."""
    return RemoteWitness(url, make_server_vkey())


def make_server_vkey() -> str:
    """The witness's cosignature/v1 verifier key, as its operator prints it."""
    from exchange_api.audit import format_vkey

    return format_vkey(NAME, WITNESS_KEY.verify_key, tlog.SIGNATURE_TYPE_COSIGNATURE_V1)


def test_cosigns_over_http(witness_url: str, tmp_path: Path) -> None:
    """The anchorer's flow: first checkpoint, then growth with a proof; cosignatures are cosignature/v1."""
    log = Log(10)
    with remote(witness_url) as witness:
        note = sign_and_cosign(log.tree, 10, OPERATOR, [witness])
        log.grow(25)
        note = sign_and_cosign(log.tree, 25, OPERATOR, [witness])
        assert witness.last_size(ORIGIN) == 25
        verifier = tlog.cosignature_v1_verifier(
            NAME, WITNESS_KEY.verify_key.public_bytes, WITNESS_KEY.verify_key
        )
        (sig,) = tlog.verify_note(note, [verifier])
        assert sig.key_id == verifier.key_id and tlog.cosignature_v1_timestamp(sig) > 0
        assert [s.name for s in note.signatures] == [ORIGIN, NAME]
    assert make_server(tmp_path / "witness.json").last_size(ORIGIN) == 25


def test_conflict_answers_the_size(witness_url: str) -> None:
    """An old size that is not the witness's gets 409 with text/x.tlog.size and the size."""
    log = Log(10)
    assert post(witness_url, body(0, [], log.note(10))).status_code == 200
    log.grow(12)
    answer = post(witness_url, body(3, log.tree.consistency_proof(3, 12), log.note(12)))
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("text/x.tlog.size")
    assert answer.text == "10\n"


def test_remote_witness_learns_the_size_from_a_conflict(witness_url: str) -> None:
    """A client that has never seen the witness is told its size and retries once with a proof."""
    log = Log(10)
    with remote(witness_url) as first:
        sign_and_cosign(log.tree, 10, OPERATOR, [first])
    log.grow(20)
    with remote(witness_url) as fresh:
        assert fresh.last_size(ORIGIN) is None
        with pytest.raises(WitnessSizeConflict) as caught:
            fresh.cosign(log.note(20), [])
        assert (caught.value.code, caught.value.size, fresh.last_size(ORIGIN)) == (
            "audit.witness_size_conflict",
            10,
            10,
        )
        note = sign_and_cosign(log.tree, 20, OPERATOR, [fresh])
        assert fresh.last_size(ORIGIN) == 20 and len(note.signatures) == 2


def test_wrong_proof_is_unprocessable(witness_url: str) -> None:
    """A consistency proof that does not verify gets 422, and RemoteWitness reports a split view."""
    log = Log(10)
    assert post(witness_url, body(0, [], log.note(10))).status_code == 200
    log.grow(16)
    proof = log.tree.consistency_proof(10, 16)
    bogus = [bytes(32)] * len(proof)
    answer = post(witness_url, body(10, bogus, log.note(16)))
    assert answer.status_code == 422
    assert answer.text.startswith("tlog.split_view: ")
    short = post(witness_url, body(10, proof[:-1], log.note(16)))
    assert short.status_code == 422 and "tlog.proof_length" in short.text


def test_split_view_is_caught_over_http(witness_url: str) -> None:
    """Two different trees shown to the witness: the fork is refused at the same size and when it grows."""
    honest, forked = Log(10), Log(10, tag=b"fork")
    honest.grow(11)
    forked.grow(11)
    with remote(witness_url) as witness:
        sign_and_cosign(honest.tree, 11, OPERATOR, [witness])
        same_size = post(witness_url, body(11, [], forked.note(11)))
        assert same_size.status_code == 409 and same_size.text.startswith("tlog.split_view: ")
        assert not same_size.headers["content-type"].startswith("text/x.tlog.size")
        forked.grow(12)
        for size in (11, 12):
            with pytest.raises(WitnessRefused) as caught:
                sign_and_cosign(forked.tree, size, OPERATOR, [witness])
            assert (caught.value.code, caught.value.reason) == ("audit.witness_refused", "tlog.split_view")
        assert witness.last_size(ORIGIN) == 11


def test_unknown_origin_and_bad_signatures(witness_url: str) -> None:
    """An unknown log gets 404; a checkpoint not signed by the log's key gets 403."""
    stranger = tlog.sign_checkpoint(tlog.Checkpoint("other.test/log", 1, bytes(32)), OPERATOR.signer)
    answer = post(witness_url, body(0, [], stranger))
    assert answer.status_code == 404 and answer.text.startswith("tlog.unknown_log: ")
    impostor = LogOperator(ORIGIN, Ed25519SigningKey(b"\x33" * 32))
    answer = post(witness_url, body(0, [], Log(3).note(3, impostor)))
    assert answer.status_code == 403 and answer.text.startswith("tlog.note_unverified: ")
    good = Log(3).note(3)
    sig = good.signatures[0]
    forged = tlog.SignedNote(good.text, (tlog.NoteSignature(sig.name, sig.key_id, bytes(64)),))
    answer = post(witness_url, body(0, [], forged))
    assert answer.status_code == 403 and answer.text.startswith("tlog.signature_invalid: ")


NOTE = Log(3).note(3).format()
HASH = base64.b64encode(bytes(32)).decode()
SHORT = base64.b64encode(bytes(31)).decode()


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "audit.witness_request_malformed"),
        (b"\xff\xfe", 400, "audit.witness_request_malformed"),
        (f"old 0\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),  # no blank line
        (f"old 01\n\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),
        (f"old -1\n\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),
        (f"new 0\n\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),
        (f"old 0\n{HASH}\n\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),  # proof with old 0
        (f"old 2\nnot-base64\n\n{NOTE}".encode(), 400, "audit.witness_request_malformed"),
        (
            f"old 2\n{base64.b64encode(bytes(31)).decode()}\n\n{NOTE}".encode(),
            400,
            "audit.witness_request_malformed",
        ),
        (("old 2\n" + f"{HASH}\n" * 64 + f"\n{NOTE}").encode(), 400, "audit.witness_request_malformed"),
        (b"old 0\n\nnot a note\n", 400, "audit.witness_request_malformed"),
        (f"old 4\n{HASH}\n\n{NOTE}".encode(), 400, "tlog.size_out_of_range"),  # old above the size
    ],
)
def test_malformed_bodies(witness_url: str, data: bytes, status: int, code: str) -> None:
    """Each malformed body gets 400 with a code and a message naming what was wrong."""
    answer = post(witness_url, data)
    assert answer.status_code == status
    assert answer.text.startswith(f"{code}: ")


def test_oversized_body_and_wrong_method(witness_url: str) -> None:
    """Bodies beyond the limit get 413; only POST is served."""
    answer = post(witness_url, b"old 0\n" + b"A" * (65 * 1024))
    assert answer.status_code == 413 and answer.text.startswith("witness.body_too_large: ")
    assert httpx.get(witness_url + "/add-checkpoint", timeout=10).status_code == 405


def test_state_survives_a_restart(tmp_path: Path) -> None:
    """A restarted witness still knows the size it cosigned and refuses a rewrite of it."""
    state = tmp_path / "witness.json"
    log, forked = Log(10), Log(10, tag=b"fork")
    log.grow(12)
    with serving(make_server(state)) as url:
        assert post(url, body(0, [], log.note(12))).status_code == 200
    with serving(make_server(state)) as url:
        answer = post(url, body(0, [], log.note(12)))
        assert (answer.status_code, answer.text) == (409, "12\n")
        forked.grow(12)
        assert post(url, body(12, [], forked.note(12))).status_code == 409
        log.grow(14)
        assert post(url, body(12, log.tree.consistency_proof(12, 14), log.note(14))).status_code == 200


def test_concurrent_requests_from_one_old_size(witness_url: str) -> None:
    """Two simultaneous requests from the same old size: one is cosigned, the other gets 409."""
    log = Log(10)
    assert post(witness_url, body(0, [], log.note(10))).status_code == 200
    log.grow(20)
    start = threading.Barrier(2)
    answers: dict[int, httpx.Response] = {}

    def send(size: int) -> None:
        data = body(10, log.tree.consistency_proof(10, size), log.note(size))
        start.wait()
        answers[size] = post(witness_url, data)

    threads = [threading.Thread(target=send, args=(size,)) for size in (15, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers.values()) == [200, 409]
    (won,) = [size for size, answer in answers.items() if answer.status_code == 200]
    (lost,) = [answer for answer in answers.values() if answer.status_code == 409]
    assert lost.headers["content-type"].startswith("text/x.tlog.size")
    assert lost.text == f"{won}\n"


def test_unreachable_witness_is_a_typed_refusal() -> None:
    """No witness listening: WitnessUnreachable, and sign_and_cosign reports it when none cosigns."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port any more
    log = Log(4)
    with RemoteWitness(f"http://127.0.0.1:{port}", make_server_vkey(), timeout_s=2) as witness:
        with pytest.raises(WitnessUnreachable) as caught:
            witness.cosign(log.note(4), [])
        assert caught.value.code == "audit.witness_unreachable"
        with pytest.raises(WitnessUnreachable):
            sign_and_cosign(log.tree, 4, OPERATOR, [witness])


def test_answer_by_another_key_is_rejected(witness_url: str) -> None:
    """A cosignature that does not verify against the pinned key is a bad response."""
    from exchange_api.audit import format_vkey

    other = format_vkey(NAME, Ed25519SigningKey(b"\x44" * 32).verify_key, tlog.SIGNATURE_TYPE_COSIGNATURE_V1)
    with RemoteWitness(witness_url, other) as witness:
        with pytest.raises(WitnessBadResponse) as caught:
            witness.cosign(Log(4).note(4), [])
        assert (caught.value.code, caught.value.reason) == (
            "audit.witness_bad_response",
            "tlog.note_unverified",
        )
        assert witness.last_size(ORIGIN) is None


def test_parse_witnesses() -> None:
    """TDEX_WITNESSES: name=url=vkey entries separated by whitespace; mistakes are named."""
    vkey = make_server_vkey()
    other = format_other_vkey("auditor.b/w")
    found = parse_witnesses(
        f"  {NAME}=http://127.0.0.1:8400={vkey}\n auditor.b/w=https://w.b.example/x?a=b={other} "
    )
    try:
        assert [(w.name, w.url, w.vkey) for w in found] == [
            (NAME, "http://127.0.0.1:8400", vkey),
            ("auditor.b/w", "https://w.b.example/x?a=b", other),
        ]
    finally:
        for witness in found:
            witness.close()
    assert parse_witnesses(" \n") == []
    for bad in (
        f"{NAME}={vkey}",
        f"other.name=http://127.0.0.1:1={vkey}",
        f"{NAME}=ftp://127.0.0.1:1={vkey}",
        f"{NAME}=http://127.0.0.1:1=not-a-key",
        f"{NAME}=http://127.0.0.1:1={vkey} {NAME}=http://127.0.0.1:2={vkey}",
    ):
        with pytest.raises(WitnessConfigInvalid) as caught:
            parse_witnesses(bad)
        assert caught.value.code == "audit.witness_config_invalid"
        assert isinstance(caught.value, ValueError)


def format_other_vkey(name: str) -> str:
    """A cosignature/v1 verifier key of another witness."""
    from exchange_api.audit import format_vkey

    return format_vkey(name, Ed25519SigningKey(b"\x55" * 32).verify_key, tlog.SIGNATURE_TYPE_COSIGNATURE_V1)


def foreign_witness(status: int, text: str) -> Starlette:
    """A stand-in witness that answers every add-checkpoint with ``status`` and ``text``."""

    async def answer(request: Request) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse(text, status)

    return Starlette(routes=[Route("/add-checkpoint", answer, methods=["POST"])])


@pytest.mark.parametrize(
    ("status", "text", "error", "reason"),
    [
        (503, "down for maintenance", WitnessUnreachable, "audit.witness_unreachable"),
        (200, "x" * (65 * 1024), WitnessBadResponse, "audit.witness_bad_response"),
        (200, "\u2014 auditor.test/witness AAAA\n", WitnessBadResponse, "tlog.note_malformed"),
        (409, "not a size", WitnessRefused, "http.409"),
        (400, "bad request", WitnessRefused, "http.400"),
    ],
)
def test_foreign_answers_are_typed(status: int, text: str, error: type[WitnessRefused], reason: str) -> None:
    """Server errors, oversized or unverifiable answers and uncoded refusals each get their typed error."""
    with serving_app(foreign_witness(status, text)) as url, remote(url) as witness:
        with pytest.raises(error) as caught:
            witness.cosign(Log(4).note(4), [])
        assert type(caught.value) is error and caught.value.reason == reason
        assert witness.last_size(ORIGIN) is None


# A witness for the parser property below; it never reaches its state file (nothing is cosigned).
PARSE_SERVER = WitnessServer(NAME, WITNESS_KEY, {ORIGIN: [OPERATOR.vkey]}, Path("/nonexistent/state.json"))
BODIES = st.binary(max_size=400) | st.text(max_size=400).map(str.encode)


@settings(max_examples=200, deadline=None)
@given(BODIES | BODIES.map(lambda rest: b"old 0\n\n" + rest) | BODIES.map(lambda rest: NOTE.encode() + rest))
def test_any_body_is_refused_with_a_typed_error(data: bytes) -> None:
    """Arbitrary bodies never crash the witness: each is refused as malformed or by a tlog check."""
    with pytest.raises((WitnessRequestMalformed, tlog.TlogError)):
        PARSE_SERVER.add_checkpoint(data)
