"""The audit trail of a running exchange: every state change logged, proofs and bundles over HTTP."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_support import TEMPLATE, World, application, entry
from audit_support import ORIGIN
from sqlalchemy import select

from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    AuditLog,
    LocalWitness,
    LogOperator,
    TrustedKeys,
    check_store,
    verify_bundle,
)
from exchange_api.audit._models import AuditEntryRow
from exchange_api.client import ApiProblem
from exchange_api.models import Event
from keys import Ed25519SigningKey
from tlog import verify_consistency, verify_inclusion


def _problem(call: Callable[[], Any]) -> ApiProblem:
    with pytest.raises(ApiProblem) as caught:
        call()
    return caught.value


def _workflow(world: World) -> dict[str, Any]:
    """Register, apply, review, approve, revoke, then drain the outbox: most kinds of state change."""
    dept, bank = world["dept_a"].client, world["bank"].client
    dept.register(entry())
    app = bank.apply(application(templates=[TEMPLATE]))
    dept.review(app["id"])
    decision = {
        "expires_at": (world.clock() + dt.timedelta(days=30)).isoformat(),
        "max_uses": 10,
        "privacy_budget": "1.0",
        "templates": [TEMPLATE],
    }
    approved = dept.approve(app["id"], decision)
    world.relay.drain()
    dept.revoke(approved["grant_id"], "用途已完成")
    world.relay.drain()
    return approved


def _sign(world: World, tmp_path: Path) -> tuple[Anchorer, TrustedKeys]:
    operator = LogOperator(ORIGIN, Ed25519SigningKey.generate())
    witness = LocalWitness(
        "auditor.test", Ed25519SigningKey.generate(), {ORIGIN: [operator.vkey]}, tmp_path / "w.json"
    )
    log: AuditLog = AuditLog(world.app.state.sessions)
    anchorer = Anchorer(log, operator, [witness], None, AnchorPolicy())
    assert anchorer.tick(force=True).signed is not None
    return anchorer, TrustedKeys.from_vkeys([operator.vkey], [witness.vkey])


def test_every_state_change_is_logged(world: World) -> None:
    """Each recorded event has exactly one audit entry, in order, with the same record (both stores)."""
    _workflow(world)
    with world.app.state.sessions() as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        entries = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.idx)).all()
    assert [e.kind for e in events] == [e.kind for e in entries]
    assert [e.record for e in events] == [json.loads(e.record_json) for e in entries]
    kinds = {e.kind for e in entries}
    assert {
        "org.bootstrapped",
        "org.admitted",
        "catalog.registered",
        "application.submitted",
        "application.under_review",
        "application.approved",
        "grant.revoked",
        "chain.anchored",
    } <= kinds
    assert check_store(world.app.state.engine).ok


def test_failed_request_logs_nothing(sqlite_world: World) -> None:
    """A refused state change rolls back its entry with it: the log only holds committed changes."""
    world = sqlite_world
    with world.app.state.sessions() as session:
        before = session.scalar(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx.desc()).limit(1))
    _problem(lambda: world["bank"].client.register(entry()))
    with world.app.state.sessions() as session:
        after = session.scalar(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx.desc()).limit(1))
    assert before == after


def test_proofs_over_http(sqlite_world: World, tmp_path: Path) -> None:
    """Checkpoint, inclusion and consistency proofs served over HTTP verify with tlog."""
    world = sqlite_world
    _sign(world, tmp_path)
    auditor = world["auditor"].client
    first = auditor.call("GET", "/audit/checkpoints/latest")
    _workflow(world)
    _sign(world, tmp_path / "second")
    latest = auditor.call("GET", "/audit/checkpoints/latest")
    assert latest["size"] > first["size"] and latest["status"] == "pending" and latest["anchor"] is None
    proof = auditor.call("GET", "/audit/proofs/inclusion", params={"index": 3, "size": latest["size"]})
    verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        3,
        latest["size"],
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(latest["root"]),
    )
    consistency = auditor.call("GET", "/audit/proofs/consistency", params={"first": first["size"]})
    verify_consistency(
        first["size"],
        latest["size"],
        [bytes.fromhex(p) for p in consistency["proof"]],
        bytes.fromhex(first["root"]),
        bytes.fromhex(latest["root"]),
    )
    listed = auditor.call("GET", "/audit/checkpoints")
    assert [c["size"] for c in listed["items"]] == [first["size"], latest["size"]]
    bad = _problem(
        lambda: auditor.call(
            "GET", "/audit/proofs/inclusion", params={"index": 0, "size": latest["size"] + 5}
        )
    )
    assert (bad.status, bad.problem["code"]) == (422, "audit.invalid_range")


def test_bundle_over_http_verifies_offline(sqlite_world: World, tmp_path: Path) -> None:
    """A bundle fetched over HTTP verifies offline except for the missing anchor (nothing anchored here)."""
    world = sqlite_world
    _workflow(world)
    _, trusted = _sign(world, tmp_path)
    bundle = world["auditor"].client.call("GET", "/audit/bundles/2")
    assert bundle["kind"] == "tdex.audit.bundle" and bundle["record"]["kind"] == "org.admitted"
    with pytest.raises(Exception) as caught:
        verify_bundle(bundle, trusted=trusted)
    assert getattr(caught.value, "fields", None) == ("anchor",)
    no_record = world["auditor"].client.call("GET", "/audit/bundles/2", params={"record": "false"})
    assert "record" not in no_record


def test_not_checkpointed_yet(sqlite_world: World) -> None:
    """Before any checkpoint, bundles and the latest checkpoint answer with a clear problem."""
    auditor = sqlite_world["auditor"].client
    assert (
        _problem(lambda: auditor.call("GET", "/audit/bundles/0")).problem["code"] == "audit.not_checkpointed"
    )
    missing = _problem(lambda: auditor.call("GET", "/audit/checkpoints/latest"))
    assert (missing.status, missing.problem["code"]) == (404, "audit.checkpoint_not_found")


def test_members_see_only_their_own_entries(sqlite_world: World) -> None:
    """An enterprise sees the entries concerning it; another entry is reported as not found."""
    world = sqlite_world
    _workflow(world)
    bank, logistics = world["bank"], world["logistics"]
    mine = bank.client.call("GET", "/audit/trail")["entries"]
    assert mine and all(f"org:{bank.org_id}" in e["refs"] for e in mine)
    assert not logistics.client.call("GET", "/audit/trail", params={"org": bank.org_id})["entries"]
    other = next(e for e in world["auditor"].client.call("GET", "/audit/trail")["entries"] if e["index"] == 0)
    hidden = _problem(lambda: bank.client.call("GET", f"/audit/entries/{other['index']}"))
    assert (hidden.status, hidden.problem["code"]) == (404, "audit.entry_not_found")
    assert bank.client.call("GET", f"/audit/entries/{mine[0]['index']}")["index"] == mine[0]["index"]


def test_trail_queries_and_csv(sqlite_world: World) -> None:
    """The trail filters by grant, resource and kind, and exports the same rows as CSV."""
    world = sqlite_world
    approved = _workflow(world)
    auditor = world["auditor"].client
    by_grant = auditor.call("GET", "/audit/trail", params={"grant": approved["grant_id"]})["entries"]
    assert {"application.approved", "grant.revoked"} <= {e["kind"] for e in by_grant}
    by_resource = auditor.call("GET", "/audit/trail", params={"resource": "301001/000001"})["entries"]
    assert by_resource[0]["kind"] == "catalog.registered"
    revoked = auditor.call("GET", "/audit/trail", params={"kind": "grant.revoked"})["entries"]
    assert len(revoked) == 1 and revoked[0]["record"]["reason"] == "用途已完成"
    response = auditor.request("GET", "/audit/trail", params={"grant": approved["grant_id"], "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["index"]) for r in rows] == [e["index"] for e in by_grant]
    page = auditor.call("GET", "/audit/trail", params={"limit": 2})
    assert len(page["entries"]) == 2 and page["next_after"] == page["entries"][-1]["index"]
    future = (world.clock() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not auditor.call("GET", "/audit/trail", params={"since": future})["entries"]


def test_risks_are_for_overseers(sqlite_world: World) -> None:
    """Risk signals are listed for auditors and refused to an enterprise."""
    world = sqlite_world
    refused = _problem(lambda: world["bank"].client.call("GET", "/audit/risks"))
    assert (refused.status, refused.problem["code"]) == (403, "auth.forbidden")
    assert "signals" in world["auditor"].client.call("GET", "/audit/risks")
