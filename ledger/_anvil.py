"""A local Anvil node as a child process: found in node_modules, on a free loopback port, stopped cleanly."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ledger._backends import HttpBackend, JsonRpcError, TransportError
from ledger.errors import AnvilError

__all__ = ["AnvilProcess", "find_anvil"]

# The well-known first dev account of Anvil's default mnemonic ("test test ... junk"); public test
# key material, never funded outside a dev chain.
ANVIL_DEV_KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")

_REPO_ROOT = Path(__file__).resolve().parent.parent


def find_anvil(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The native Anvil binary: ``explicit`` if given, else the npm package's, else ``anvil`` on PATH.

    The native binary is used rather than ``node_modules/.bin/anvil``: that one is a Node.js
    launcher, and stopping the launcher would leave the real node running.
    """
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise AnvilError(f"no Anvil binary at {path}")
        return path
    for root in (Path.cwd(), _REPO_ROOT):
        for candidate in sorted(root.glob("node_modules/@foundry-rs/anvil-*/bin/anvil")):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise AnvilError(
        "Anvil not found: run `make install` (npm ci installs @foundry-rs/anvil) or put anvil on PATH"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux only: the kernel sends SIGTERM to the child when the thread that forked it ends, so a
    # killed test run cannot leave an orphan node behind.
    import ctypes

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class AnvilProcess:
    """One Anvil node on 127.0.0.1 with automine; use as a context manager or call ``stop``.

    Parameters
    ----------
    chain_id:
        Chain id of the node (Anvil's default 31337 when None).
    binary:
        Path of the Anvil binary (found by ``find_anvil`` when None).
    port:
        Port to listen on; a free one is chosen when None.
    extra_args:
        More command-line flags, e.g. ``("--code-size-limit", "49152")``.
    startup_timeout:
        Seconds to wait for the node to answer ``eth_chainId``.
    """

    def __init__(
        self,
        *,
        chain_id: int | None = None,
        binary: str | os.PathLike[str] | None = None,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        self.binary = find_anvil(binary)
        self.chain_id = chain_id
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self.port: int = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def url(self) -> str:
        """The node's JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running node, None when stopped."""
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> AnvilProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the node and return once it answers JSON-RPC; raises AnvilError when it does not."""
        if self.process is not None:
            return
        attempts = 1 if self._requested_port else 3
        last_error: AnvilError | None = None
        for _ in range(attempts):
            # A free port can be taken between our probe and Anvil's bind; then Anvil exits at once
            # and another port is tried.
            self.port = self._requested_port or _free_port()
            if self._requested_port and not _port_is_free(self.port):
                # Otherwise the readiness probe would be answered by whatever already listens there.
                raise AnvilError(f"cannot start Anvil on 127.0.0.1:{self.port}: the port is in use")
            try:
                self._spawn()
                self._wait_ready()
                atexit.register(self.stop)
                return
            except AnvilError as exc:
                last_error = exc
                self.stop()
        assert last_error is not None
        raise last_error

    def _spawn(self) -> None:
        args = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--quiet"]
        if self.chain_id is not None:
            args += ["--chain-id", str(self.chain_id)]
        args += list(self.extra_args)
        self._log = tempfile.NamedTemporaryFile(prefix="tdex-anvil-", suffix=".log")  # noqa: SIM115
        use_pdeathsig = (
            sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()
        )
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if use_pdeathsig else None,
            )
        except OSError as exc:
            raise AnvilError(f"cannot start Anvil at {self.binary}: {exc}") from exc

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        with contextlib.suppress(OSError):
            return Path(self._log.name).read_text(errors="replace")[-2000:].strip()
        return ""

    def _wait_ready(self) -> None:
        assert self.process is not None
        probe = HttpBackend(self.url, timeout=2.0)
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.005
        try:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise AnvilError(f"Anvil exited with code {code} while starting: {self._log_tail()}")
                try:
                    probe.request("eth_chainId", [])
                except (TransportError, JsonRpcError):
                    pass
                else:
                    if self.process.poll() is None:
                        return
                if time.monotonic() > deadline:
                    raise AnvilError(
                        f"Anvil did not answer on {self.url} within {self.startup_timeout:.0f} s: "
                        f"{self._log_tail()}"
                    )
                # Polling with a short, growing pause between probes (the node is usually up in
                # tens of milliseconds).
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        finally:
            probe.close()

    def stop(self) -> None:
        """Stop the node (SIGTERM, then SIGKILL after 5 s) and wait for it; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            with contextlib.suppress(Exception):
                atexit.unregister(self.stop)
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None
