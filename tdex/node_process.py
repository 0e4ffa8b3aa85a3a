"""Running a department node: wire keys, chain and directory into a `NodeService`, serve it, or start it
as its own process (the demo's and the tests' nodes run side by side on loopback, one process each).

`serve` binds the socket itself (port 0 picks a free one, with no race) and reports the URL before
serving. `start_node_process` hands the child its organisation's keys over a private pipe (the
demo's organisations have no keystore on disk); `tdex node serve` loads them from the keystore.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys import OrgKeys

__all__ = [
    "NodeProcess",
    "NodeSettings",
    "build_service",
    "serve",
    "start_node_process",
    "start_node_processes",
]

READY_PREFIX = "tdex-node listening on "


@dataclass(frozen=True)
class NodeSettings:
    """Where a node keeps its data, which chain and contracts it checks, whom it trusts, where it listens."""

    data_dir: Path
    rpc: str
    manifest: Mapping[str, Any]
    members: Mapping[str, Any]
    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = "warning"


def build_service(keys: OrgKeys, settings: NodeSettings) -> Any:
    """The node service over a chain connection (`ledger.connect(settings.rpc)` and the manifest)."""
    import ledger
    from sandbox.node import Directory, NodeService
    from tdex.node_chain import LedgerGrantChecker

    chain = ledger.connect(settings.rpc)
    deployment = ledger.attach(chain, ledger.Manifest.from_json(settings.manifest))
    checker = LedgerGrantChecker(deployment, ledger.Signer(keys.export_account_key()))
    directory = Directory.from_json(settings.members)
    return NodeService(keys, settings.data_dir, checker, directory)


def serve(keys: OrgKeys, settings: NodeSettings, ready: Callable[[str], None]) -> None:
    """Serve the node until SIGTERM or SIGINT; `ready(url)` is called once the socket listens."""
    import uvicorn

    from sandbox.node import create_app
    from tdex.serving import listen_socket

    service = build_service(keys, settings)
    sock = listen_socket(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(create_app(service), log_level=settings.log_level, access_log=False)
    server = uvicorn.Server(config)
    ready(f"http://{host}:{port}")
    server.run(sockets=[sock])


def child_main() -> None:
    """Entry point of a node process started by `start_node_process` (keys arrive on stdin)."""
    keys, settings = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our own parent, over a pipe

    def ready(url: str) -> None:
        print(READY_PREFIX + url, flush=True)

    serve(keys, settings, ready)


@dataclass
class NodeProcess:
    """A node running as its own process."""

    org: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the process at once (a node dropping out)."""
        if self.alive():
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill if it does not exit within 10 seconds."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def read_ready_line(process: subprocess.Popen[bytes], timeout: float, what: str) -> str:
    """Wait for the child's "listening on URL" line; raise RuntimeError if it exits or times out."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    buffer = b""
    while b"\n" not in buffer:
        readable, _, _ = select.select([fd], [], [], timeout)
        if not readable:
            process.kill()
            raise RuntimeError(f"{what} did not start within {timeout:g} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            process.wait(timeout=10)
            raise RuntimeError(f"{what} exited with status {process.returncode} before listening")
        buffer += chunk
    line = buffer.split(b"\n", 1)[0].decode()
    if not line.startswith(READY_PREFIX):
        process.kill()
        raise RuntimeError(f"{what} printed {line!r} instead of its URL")
    return line.removeprefix(READY_PREFIX).strip()


def _spawn(keys: OrgKeys, settings: NodeSettings) -> tuple[subprocess.Popen[bytes], Path]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "node.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from tdex.node_process import child_main; child_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    assert process.stdin is not None
    process.stdin.write(pickle.dumps((keys, settings)))
    process.stdin.close()
    return process, log_path


def start_node_processes(
    nodes: Sequence[tuple[OrgKeys, NodeSettings]], *, timeout: float = 120.0
) -> list[NodeProcess]:
    """Start several nodes at once (each process spends its start-up importing); return once all listen."""
    spawned = [(keys, *_spawn(keys, settings)) for keys, settings in nodes]
    started: list[NodeProcess] = []
    try:
        for keys, process, log_path in spawned:
            url = read_ready_line(process, timeout, f"node {keys.org} (log {log_path})")
            started.append(NodeProcess(keys.org, url, process, log_path))
    except BaseException:
        for _, process, _ in spawned:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        raise
    return started


def start_node_process(keys: OrgKeys, settings: NodeSettings, *, timeout: float = 120.0) -> NodeProcess:
    """Start a node for `keys`' organisation in a new process; returns once it listens."""
    return start_node_processes([(keys, settings)], timeout=timeout)[0]
