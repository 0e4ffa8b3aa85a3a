"""Serving an ASGI app with uvicorn on a socket we bind ourselves (the exchange and department nodes).

Binding first lets port 0 pick a free port with no race, lets the caller report the URL before
serving, and sets the socket options uvicorn does not: accepted connections inherit TCP_NODELAY.
"""

from __future__ import annotations

import socket

__all__ = ["listen_socket"]


def listen_socket(host: str, port: int, *, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free one) whose accepted connections skip Nagle."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it a keep-alive response leaves in two segments
        # and the second waits for the client's delayed ACK (~40 ms per request on loopback).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock
