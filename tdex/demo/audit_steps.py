"""Demo, last chapter: the auditor checks the whole trail, a proof bundle offline, and catches tampering.

Everything the earlier chapters did through the exchange is an entry of its Merkle audit log. All
along, the exchange's anchorer signed checkpoints as the audit log operator (an account of its own),
the auditor's witness cosigned each over HTTP after checking consistency, and one AuditAnchor
transaction anchored every entry since the previous one.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy

import ledger
from exchange_api.audit import (
    Anchorer,
    AuditLog,
    RemoteWitness,
    TrustedKeys,
    WitnessServer,
    export_bundle,
    log_id_for,
    tamper_entry,
    verify_bundle_file,
    verify_trail,
)
from exchange_api.audit._store import log_size
from tdex.demo._runner import DemoContext


def _engine(ctx: DemoContext) -> sqlalchemy.Engine:
    if "audit_engine" not in ctx.state:
        engine = sqlalchemy.create_engine(ctx.state["exchange_database_url"])
        ctx.resources.callback(engine.dispose)
        ctx.state["audit_engine"] = engine
    audit_engine: sqlalchemy.Engine = ctx.state["audit_engine"]
    return audit_engine


def step_exchange_anchors_the_trail_cosigned_by_the_auditor(ctx: DemoContext) -> str:
    """The exchange's own anchorer has signed, had cosigned (by the auditor's witness, over HTTP) and
    anchored checkpoints all along; the auditor finds every entry so far under an anchor on chain."""
    deployment: ledger.Deployment = ctx.state["deployment"]
    app = ctx.state["exchange_app"]
    anchorer: Anchorer = app.state.anchorer
    witness: RemoteWitness = ctx.state["witness"]
    server: WitnessServer = ctx.state["witness_server"]
    _, _, operator = ctx.state["log_operator"]
    log = AuditLog(app.state.sessions)
    with log.sessions() as session:
        size = log_size(session)
    ctx.expect(size > 0, "the exchange logged its operations")
    # Nobody ticks the anchorer: the step only waits for its policy (3 s) to cover what is logged.
    deadline = time.monotonic() + 60
    status = anchorer.status()
    while status.anchored_size < size:
        ctx.expect(
            time.monotonic() < deadline,
            f"the exchange anchored all {size} entries within 60 s "
            f"(anchored {status.anchored_size}; last error {status.last_error})",
        )
        time.sleep(0.1)
        status = anchorer.status()
    log_id = log_id_for(operator.origin)
    checkpoint = deployment.anchor.latest(log_id)
    ctx.expect(checkpoint.tree_size >= size, f"the chain holds a checkpoint of at least {size} entries")
    ctx.expect(
        server.last_size(operator.origin) >= checkpoint.tree_size,
        "the auditor's witness cosigned the anchored checkpoint",
    )
    ctx.state["audit_trusted"] = TrustedKeys.from_vkeys([operator.vkey], [witness.vkey])
    ctx.state["audit_log"] = log
    count = deployment.anchor.checkpoint_count(log_id)
    return (
        f"{checkpoint.tree_size} entries in checkpoint {checkpoint.sequence}, cosigned over HTTP by "
        f"{witness.name}; {count} anchor txs sent by the exchange itself"
    )


def step_auditor_verifies_the_whole_trail(ctx: DemoContext) -> str:
    """The auditor recomputes the whole tree from the store and compares it with the chain's anchors."""
    deployment: ledger.Deployment = ctx.state["deployment"]
    report = verify_trail(_engine(ctx), anchor=deployment.anchor, trusted=ctx.state["audit_trusted"])
    ctx.expect(report.ok, "the trail agrees with every anchored checkpoint: " + "; ".join(report.lines()))
    ctx.expect(report.checkpoints_checked >= 1, "at least one anchored checkpoint was compared")
    return f"{report.entries} entries recomputed; {report.checkpoints_checked} anchored checkpoint(s) agree"


def step_auditor_verifies_a_proof_bundle_offline(ctx: DemoContext) -> str:
    """A proof bundle for one grant decision is exported and verified with no access to the store."""
    workdir: Path = ctx.state["exchange_workdir"]
    path = workdir / "bundle.json"
    log: AuditLog = ctx.state["audit_log"]
    with log.sessions() as session:
        index = log_size(session) // 2
    export_bundle(log, index, path)
    chain: ledger.Chain = ctx.state["chain"]
    rpc = chain.name if chain.name.startswith("http") else None
    report = verify_bundle_file(path, trusted=ctx.state["audit_trusted"], rpc=rpc)
    where = (
        "and its anchor found on chain"
        if report.anchored_on_chain
        else "(in-process chain: anchor not re-read)"
    )
    ctx.expect(report.tree_size > index, "the bundle proves the entry in an anchored tree")
    ctx.expect(rpc is None or report.anchored_on_chain, "the bundle's anchor is on chain")
    return f"entry {index} ({report.kind}) proven in tree {report.tree_size} {where}"


def step_tampering_behind_the_service_is_caught(ctx: DemoContext) -> str:
    """One stored entry is changed behind the service's back; the full check names it."""
    deployment: ledger.Deployment = ctx.state["deployment"]
    engine = _engine(ctx)
    log: AuditLog = ctx.state["audit_log"]
    with log.sessions() as session:
        victim = log_size(session) // 3
    what = tamper_entry(engine, victim, "modify")
    report = verify_trail(engine, anchor=deployment.anchor, trusted=ctx.state["audit_trusted"])
    ctx.expect(not report.ok, "the check fails after tampering")
    ctx.expect(
        report.first_bad_index == victim, f"the check names entry {victim} (it said {report.first_bad_index})"
    )
    return f"{what} → check names entry {report.first_bad_index}: {report.first_bad_reason}"


STEPS = [
    step_exchange_anchors_the_trail_cosigned_by_the_auditor,
    step_auditor_verifies_the_whole_trail,
    step_auditor_verifies_a_proof_bundle_offline,
    step_tampering_behind_the_service_is_caught,
]
