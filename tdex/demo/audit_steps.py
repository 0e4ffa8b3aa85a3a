"""Demo, last chapter: the auditor checks the whole trail, a proof bundle offline, and catches tampering.

Everything the earlier chapters did through the exchange is an entry of its Merkle audit log. The
bureau signs a checkpoint, the auditor cosigns it after checking consistency, and one AuditAnchor
transaction anchors every entry so far.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy

import ledger
from exchange_api.audit import (
    Anchorer,
    AnchorPolicy,
    AuditLog,
    LedgerAnchorTarget,
    LocalWitness,
    LogOperator,
    TrustedKeys,
    export_bundle,
    log_id_for,
    tamper_entry,
    verify_bundle_file,
    verify_trail,
)
from exchange_api.audit._store import log_origin, log_size
from keys import Ed25519SigningKey
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member


def _engine(ctx: DemoContext) -> sqlalchemy.Engine:
    if "audit_engine" not in ctx.state:
        engine = sqlalchemy.create_engine(ctx.state["exchange_database_url"])
        ctx.resources.callback(engine.dispose)
        ctx.state["audit_engine"] = engine
    audit_engine: sqlalchemy.Engine = ctx.state["audit_engine"]
    return audit_engine


def _ed25519(ctx: DemoContext, member: Member) -> Ed25519SigningKey:
    key = member.keys.signer
    ctx.expect(
        isinstance(key, Ed25519SigningKey), f"{member.handle} signs checkpoints with Ed25519 (C2SP notes)"
    )
    assert isinstance(key, Ed25519SigningKey)
    return key


def step_bureau_anchors_the_trail_cosigned_by_the_auditor(ctx: DemoContext) -> str:
    """The bureau signs a checkpoint of the log, the auditor cosigns it, one transaction anchors it."""
    cast: dict[str, Member] = ctx.state["cast"]
    deployment: ledger.Deployment = ctx.state["deployment"]
    workdir: Path = ctx.state["exchange_workdir"]
    log = AuditLog(ctx.state["exchange_app"].state.sessions)
    with log.sessions() as session:
        origin, size = log_origin(session), log_size(session)
    ctx.expect(size > 0, "the exchange logged its operations")
    operator = LogOperator(origin, _ed25519(ctx, cast["bureau"]))
    auditor_key = _ed25519(ctx, cast["auditor"])
    witness = LocalWitness(
        "auditor.tdex.demo",
        auditor_key,
        {origin: [operator.vkey]},
        state_path=workdir / "witness.json",
    )
    anchorer = Anchorer(
        log,
        operator,
        [witness],
        LedgerAnchorTarget(deployment.anchor, cast["bureau"].signer),
        AnchorPolicy(max_entries=10_000, max_delay_s=3600),
    )
    result = anchorer.tick(force=True)
    ctx.expect(result.error is None, f"the checkpoint was signed and anchored ({result.error})")
    ctx.expect(result.anchored is not None, "a checkpoint was anchored")
    checkpoint = deployment.anchor.latest(log_id_for(origin))
    ctx.expect(checkpoint.tree_size == size, f"the chain holds the checkpoint of all {size} entries")
    ctx.state["audit_trusted"] = TrustedKeys.from_vkeys([operator.vkey], [witness.vkey])
    ctx.state["audit_log"] = log
    count = deployment.anchor.checkpoint_count(log_id_for(origin))
    return f"{size} entries in checkpoint {checkpoint.sequence}, cosigned by the auditor; {count} anchor txs"


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
    step_bureau_anchors_the_trail_cosigned_by_the_auditor,
    step_auditor_verifies_the_whole_trail,
    step_auditor_verifies_a_proof_bundle_offline,
    step_tampering_behind_the_service_is_caught,
]
