"""A real chain (Anvil) stopped mid-workflow: the service keeps working, every write lands once after."""

from __future__ import annotations

import contextlib
import datetime as dt
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import ROLES, World, application, build_world, entry, make_uscc

import ledger
from exchange_api.ledger_writer import LedgerWriter
from exchange_api.models import OutboxEntry
from ledger import ids

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


class Outage:
    """A TCP proxy in front of the node: `stop()` is the chain going away, `start()` it coming back."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Accept connections (on the same port as before, if there was one)."""
        listener = socket.socket()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen()
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(), so the port is free to bind again.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    (b if src is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()


@pytest.fixture
def anvil_world(tmp_path: Any) -> Iterator[tuple[World, ledger.Deployment, Outage]]:
    """The exchange relaying through a cuttable proxy to Anvil, each member with its own key."""
    with ledger.connect("anvil") as direct:
        signers = {name: ledger.Signer.generate() for name in ROLES}
        direct.fund([s.address for s in signers.values()])
        bureau = signers["bureau"]
        dep = ledger.deploy(direct, bureau, [ledger.Admin(ids.org_id(make_uscc(1)), bureau.address)])
        outage = Outage(int(direct.name.rsplit(":", 1)[1]))
        outage.start()
        proxied = ledger.connect(
            f"http://127.0.0.1:{outage.port}", retry=ledger.RetryPolicy(attempts=1), timeout=2.0
        )
        by_org: dict[str, ledger.Signer] = {}
        writer = LedgerWriter(ledger.attach(proxied, dep.manifest), by_org.get)
        try:
            for world in build_world(
                f"sqlite:///{tmp_path}/exchange.db",
                writer=writer,
                accounts={name: s.address for name, s in signers.items()},
                on_admitted=lambda name, org_id: by_org.__setitem__(org_id, signers[name]),
            ):
                assert world.relay.drain().failed == 0
                yield world, dep, outage
        finally:
            outage.stop()
            proxied.close()


def test_chain_stopped_mid_workflow(anvil_world: tuple[World, ledger.Deployment, Outage]) -> None:
    """Writes made while the chain is away wait as pending anchors and each lands exactly once after."""
    world, dep, outage = anvil_world
    dept, bank = world["dept_a"].client, world["bank"].client
    dept.register(entry())
    first = bank.apply(application())
    assert world.relay.drain().failed == 0
    outage.stop()
    expires = (world.clock() + dt.timedelta(days=30)).isoformat()
    approved = dept.approve(first["id"], {"expires_at": expires, "max_uses": 5, "privacy_budget": "1"})
    second = world["logistics"].client.apply(application())
    dept.reject(second["id"], "用途不明确")
    dept.publish_version("301001/000001", {k: v for k, v in entry(name="第二版").items() if k != "code"})
    assert bank.grant(approved["grant_id"])["status"] == "pending_anchor"
    stats = world.relay.run_once()
    assert stats.unavailable and stats.waiting == 4
    outage.start()
    world.clock.advance(minutes=5)  # past the back-off
    stats = world.relay.drain()
    assert stats.failed == 0, stats.errors
    assert bank.grant(approved["grant_id"])["usable"] is True
    assert dep.grants.application_count() == 2
    assert dep.catalog.resource(ids.resource_id("301001/000001")).version == 2
    assert dep.grants.application(2).status == ledger.ApplicationStatus.REJECTED
    with world.app.state.sessions() as session:
        rows = session.query(OutboxEntry).all()
        assert {r.status for r in rows} == {"anchored"}
        assert len({r.tx_hash for r in rows}) == len(rows) == 6 + 5  # five admissions first
