"""The exchange anchors its own audit log: a background anchorer built from settings, started with the app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anchoring_support import WAIT_S, FlakyTarget, Ticks
from api_support import Clock
from audit_support import ORIGIN, entry
from eth_hash.auto import keccak
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

import ledger
from exchange_api.anchoring import anchorer_for
from exchange_api.app import create_app
from exchange_api.audit import (
    Anchorer,
    LocalWitness,
    LogOperator,
    append_entries,
    log_id_for,
    verify_trail,
)
from exchange_api.audit._anchoring import AnchoringStatus
from exchange_api.audit._models import AuditCheckpointRow
from exchange_api.core.config import Settings
from exchange_api.core.db import session_scope
from keys import Ed25519SigningKey, Keystore

PASSPHRASE = "anchor test passphrase"


@dataclass
class Service:
    """A running exchange app with its own anchorer on eth-tester."""

    app: FastAPI
    http: TestClient
    anchorer: Anchorer
    target: FlakyTarget
    ticks: Ticks
    deployment: ledger.Deployment
    clock: Clock
    operator: LogOperator
    witness: LocalWitness

    def append(self, count: int, start: int) -> None:
        """Append ``count`` entries stamped with the service clock's now."""
        with session_scope(self.app.state.sessions) as session:
            append_entries(session, [entry(i, at=self.clock()) for i in range(start, start + count)])

    def wait_anchored(self) -> None:
        """Block until an anchor transaction was sent and the tick that sent it has recorded it."""
        assert self.target.anchored.wait(WAIT_S)
        self.ticks.wait(1)

    def status(self) -> AnchoringStatus:
        """The anchorer's status now."""
        return self.anchorer.status()

    def rows(self) -> list[AuditCheckpointRow]:
        """Every stored checkpoint, smallest first."""
        with self.app.state.sessions() as session:
            return list(session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.size)))


@pytest.fixture
def service(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Service]:
    """The app with an anchorer from settings: a log operator keystore whose account holds LOG_OPERATOR."""
    policy: dict[str, Any] = getattr(request, "param", {})
    store = Keystore(tmp_path / "keys", kdf_profile="fast-test")
    keys = store.create("logop", PASSPHRASE)
    assert isinstance(keys.signer, Ed25519SigningKey)
    operator = LogOperator(ORIGIN, keys.signer)
    witness = LocalWitness(
        "auditor.test", Ed25519SigningKey.generate(), {ORIGIN: [operator.vkey]}, tmp_path / "witness.json"
    )
    settings = Settings(
        mode="test",
        database_url=f"sqlite:///{tmp_path}/exchange.db",
        log_operator_keystore=str(tmp_path / "keys" / "logop"),
        log_operator_passphrase=PASSPHRASE,
        log_operator_kdf_profile="fast-test",
        log_origin=ORIGIN,
        anchor_max_entries=policy.get("max_entries", 5),
        anchor_max_delay_s=policy.get("max_delay_s", 3600.0),
        anchor_interval_s=0.01,
    )
    clock = Clock()
    with ledger.connect("eth-tester") as chain:
        deployer = ledger.Signer.generate()
        # The anchoring account is the log operator's own, not the deployer's (nor any relay's).
        anchor_account = ledger.Signer(keys.export_account_key())
        chain.fund([deployer.address, anchor_account.address])
        admin = ledger.Admin(keccak(b"bureau"), anchor_account.address, ledger.Capability.LOG_OPERATOR)
        deployment = ledger.deploy(chain, deployer, [admin])
        factory = anchorer_for(settings, deployment, [deployer.address], witnesses=[witness], clock=clock)
        app = create_app(settings, anchorer=factory, clock=clock)
        with TestClient(app, base_url="http://testserver") as http:
            anchorer: Anchorer = app.state.anchorer
            assert anchorer.target is not None
            target = FlakyTarget(anchorer.target)
            anchorer.target = target
            yield Service(app, http, anchorer, target, Ticks(anchorer), deployment, clock, operator, witness)
        assert not anchorer.status().running  # the lifespan stopped the loop


def test_anchors_on_its_own_after_max_entries(service: Service) -> None:
    """Below max_entries nothing is signed; the entry that reaches it gets the log anchored unprompted."""
    service.append(4, start=0)
    service.ticks.wait(3)
    assert service.rows() == [] and service.status().anchored_size == 0
    service.append(1, start=4)
    service.wait_anchored()
    [row] = service.rows()
    assert (row.size, row.status) == (5, "anchored")
    on_chain = service.deployment.anchor.latest(log_id_for(ORIGIN))
    assert on_chain.tree_size == 5 and bytes(on_chain.root_hash) == bytes(row.root)
    status = service.status()
    assert (status.log_size, status.anchored_size, status.lag_s, status.pending_checkpoints) == (5, 5, 0.0, 0)


@pytest.mark.parametrize("service", [{"max_entries": 1000, "max_delay_s": 60.0}], indirect=True)
def test_anchors_on_its_own_after_max_delay(service: Service) -> None:
    """A few entries wait until the oldest is max_delay_s old, then are anchored without a tick by hand."""
    service.append(3, start=0)
    service.ticks.wait(3)
    assert service.rows() == []
    assert service.status().lag_s < 60
    service.clock.advance(seconds=61)
    service.wait_anchored()
    assert [(r.size, r.status) for r in service.rows()] == [(3, "anchored")]
    assert service.deployment.anchor.latest(log_id_for(ORIGIN)).tree_size == 3


def test_chain_down_then_up_anchors_later_and_loses_nothing(service: Service) -> None:
    """While the chain is down checkpoints wait (lag and failures show); once up, the newest covers all."""
    service.target.down = True
    service.append(5, start=0)
    service.ticks.wait(3)
    service.append(5, start=5)
    service.ticks.wait(2)
    rows = service.rows()
    assert [(r.size, r.status) for r in rows] == [(5, "pending"), (10, "pending")]
    assert rows[0].attempts >= 1 and "the chain is down" in (rows[0].last_error or "")
    status = service.status()
    assert status.anchored_size == 0 and status.pending_checkpoints == 2 and status.failures >= 1
    metrics = service.http.get("/metrics").text
    assert "tdex_audit_pending_checkpoints 2" in metrics
    assert "tdex_audit_unanchored_entries 10" in metrics
    ready = service.http.get("/readyz").json()
    assert ready["checks"]["anchoring"]["pending_checkpoints"] == 2
    assert "the chain is down" in ready["checks"]["anchoring"]["last_error"]

    service.target.down = False
    service.wait_anchored()
    assert [(r.size, r.status) for r in service.rows()] == [(5, "superseded"), (10, "anchored")]
    assert service.deployment.anchor.checkpoint_count(log_id_for(ORIGIN)) == 1
    assert service.deployment.anchor.latest(log_id_for(ORIGIN)).tree_size == 10
    service.ticks.wait(1)  # the loop clears its failure count once the anchoring pass has returned
    status = service.status()
    assert (status.anchored_size, status.lag_s, status.failures) == (10, 0.0, 0)
    assert "tdex_audit_anchoring_lag_seconds 0" in service.http.get("/metrics").text
    report = verify_trail(service.app.state.engine, anchor=service.deployment.anchor)
    assert report.ok and report.entries == 10
