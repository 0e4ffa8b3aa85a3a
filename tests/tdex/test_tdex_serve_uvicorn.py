"""`tdex serve`: uvicorn gets our logging and a TCP_NODELAY socket; a bad keystore stops the start."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from tdex.commands.serve import app as serve_app
from tdex.serving import listen_socket


def test_listen_socket_sets_tcp_nodelay() -> None:
    """The shared listener (exchange and nodes) has TCP_NODELAY, which accepted sockets inherit."""
    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert sock.getsockname()[1] != 0
    finally:
        sock.close()


def test_serve_runs_uvicorn_without_its_log_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """uvicorn gets log_config=None, no access log of its own, and our pre-bound TCP_NODELAY socket."""
    seen: dict[str, Any] = {}

    def fake_run(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        assert sockets is not None
        [sock] = sockets
        seen["config"] = self.config
        seen["nodelay"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/exchange.db")
    monkeypatch.delenv("TDEX_CHAIN_URL", raising=False)
    monkeypatch.delenv("TDEX_LOG_OPERATOR_KEYSTORE", raising=False)
    result = CliRunner().invoke(serve_app, ["--port", "0"])
    assert result.exit_code == 0, result.output
    assert seen["config"].log_config is None and seen["config"].access_log is False
    assert seen["nodelay"] != 0
    assert "listening on http://127.0.0.1:" in result.output


def test_serve_refuses_a_log_operator_keystore_that_does_not_open(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A missing log operator keystore stops the start with status 2 and the setting's code."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/exchange.db")
    monkeypatch.delenv("TDEX_CHAIN_URL", raising=False)
    monkeypatch.setenv("TDEX_LOG_OPERATOR_KEYSTORE", str(tmp_path / "keys" / "nobody"))
    monkeypatch.setenv("TDEX_LOG_OPERATOR_PASSPHRASE", "whatever it is")
    result = CliRunner().invoke(serve_app, [])
    assert result.exit_code == 2
    assert "refusing to start: [config.log_operator_keystore]" in result.output
