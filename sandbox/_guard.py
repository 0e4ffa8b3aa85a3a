"""No network, no processes, no threads while a computation template runs (an audit-hook guard).

Python cannot sandbox code it runs in-process; templates are reviewed code pinned by digest, and
this guard is defence in depth: it turns an accidental or smuggled socket, subprocess or thread
into `NetworkForbidden` instead of a silent leak. The hook is installed once per process (audit
hooks cannot be removed) and is inert outside `no_network()`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sandbox.errors import NetworkForbidden

_ACTIVE: ContextVar[bool] = ContextVar("tdex_sandbox_no_network", default=False)
_FORBIDDEN = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "_thread.start_new_thread",
    "urllib.Request",
    "http.client.connect",
)
_installed = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _ACTIVE.get() and event.startswith(_FORBIDDEN):
        raise NetworkForbidden(event)


@contextmanager
def no_network() -> Iterator[None]:
    """Within the block, opening sockets, starting processes or threads raises `NetworkForbidden`."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
