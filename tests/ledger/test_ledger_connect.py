"""Connecting: backend names, malformed URLs, unreachable chains, the Anvil process life cycle."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from ledger_support import FAST_RETRY

import ledger
from ledger._anvil import AnvilProcess, _free_port
from ledger._backends import Backend
from ledger.errors import AnvilError, BadUrl, Unreachable, Unsupported


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "localhost:8545",
        "ftp://127.0.0.1:8545",
        "http://",
        "http://127.0.0.1:99999",
        "http://[::1",
        "ganache",
    ],
)
def test_malformed_url_is_bad_url(url: str) -> None:
    """A target that is neither a backend name nor a well-formed http(s) URL raises BadUrl."""
    with pytest.raises(BadUrl) as caught:
        ledger.connect(url)
    assert caught.value.code == "ledger.bad_url"


def test_closed_port_is_unreachable() -> None:
    """Nothing listening: Unreachable names the URL."""
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(Unreachable) as caught:
        ledger.connect(url, retry=FAST_RETRY, timeout=2)
    assert caught.value.code == "ledger.unreachable"
    assert url in str(caught.value)


@pytest.fixture
def web_page() -> Iterator[str]:
    """An HTTP server that answers every request with an HTML 404 page (not a JSON-RPC node)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html>not here</html>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_web_page_is_not_a_chain(web_page: str) -> None:
    """Something that answers HTTP but not JSON-RPC is reported as no chain at that URL."""
    with pytest.raises(Unreachable) as caught:
        ledger.connect(web_page, retry=FAST_RETRY)
    assert "JSON-RPC" in str(caught.value)


def test_eth_tester_chain_id_is_fixed() -> None:
    """Asking eth-tester for a chain id is refused rather than ignored."""
    with pytest.raises(Unsupported):
        ledger.connect("eth-tester", chain_id=5)


class _StubBackend(Backend):
    """A node that only describes itself: a QBFT-style genesis with validator data in extraData."""

    def __init__(self, extra_data: str) -> None:
        self.extra_data = extra_data

    def request(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return "0x539"
        if method == "web3_clientVersion":
            return "besu/v25.6.0/linux-x86_64/openjdk-java-21"
        if method == "eth_getBlockByNumber":
            return {"hash": "0x" + "ab" * 32, "extraData": self.extra_data, "gasLimit": "0x1fffffffffffff"}
        raise AssertionError(method)


def test_poa_detected_from_extra_data() -> None:
    """A genesis extraData longer than 32 bytes marks a PoA chain and injects web3's PoA middleware."""
    from web3.middleware import ExtraDataToPOAMiddleware

    chain = ledger.Chain(_StubBackend("0x" + "00" * 97), kind="rpc", name="http://127.0.0.1:1")
    assert chain.poa
    assert ExtraDataToPOAMiddleware in chain.web3.middleware_onion
    plain = ledger.Chain(_StubBackend("0x" + "00" * 32), kind="rpc", name="http://127.0.0.1:1")
    assert not plain.poa


def test_dev_helpers_refused_on_a_real_chain() -> None:
    """Time travel and dev funding on a non-dev node raise Unsupported naming the chain."""
    chain = ledger.Chain(_StubBackend("0x"), kind="rpc", name="http://besu:8545")
    assert not chain.is_dev
    with pytest.raises(Unsupported) as caught:
        chain.advance_time(60)
    assert caught.value.code == "ledger.unsupported"
    assert "http://besu:8545" in str(caught.value)
    with pytest.raises(Unsupported):
        chain.fund("0x" + "11" * 20)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.anvil
def test_anvil_stops_on_close_and_on_exceptions() -> None:
    """The node started by connect("anvil") is gone after the block, also when the block raised."""
    with ledger.connect("anvil", chain_id=4242) as chain:
        pid = chain.anvil_pid
        assert pid is not None and not _gone(pid)
        assert chain.chain_id == 4242
        assert chain.kind == "anvil"
    assert _gone(pid)
    with pytest.raises(RuntimeError), ledger.connect("anvil") as failing:
        pid = failing.anvil_pid
        assert pid is not None
        raise RuntimeError("boom")
    assert _gone(pid)


@pytest.mark.anvil
def test_anvil_process_stop_is_idempotent() -> None:
    """Stopping twice is harmless and leaves no process."""
    node = AnvilProcess()
    node.start()
    pid = node.pid
    assert pid is not None
    node.stop()
    node.stop()
    assert _gone(pid)
    assert node.pid is None


def test_missing_anvil_binary_is_reported(tmp_path: Any) -> None:
    """A wrong Anvil path raises AnvilError naming it."""
    with pytest.raises(AnvilError) as caught:
        AnvilProcess(binary=tmp_path / "anvil")
    assert caught.value.code == "ledger.anvil"
    assert str(tmp_path) in str(caught.value)


@pytest.mark.anvil
def test_anvil_that_cannot_start_is_reported(anvil_node: AnvilProcess) -> None:
    """Asking for a port already in use fails with the node's own message, and no process is left."""
    node = AnvilProcess(port=anvil_node.port, startup_timeout=10)
    with pytest.raises(AnvilError) as caught:
        node.start()
    assert "in use" in str(caught.value)
    assert node.pid is None
