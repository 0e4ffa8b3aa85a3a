"""Demo, chapter 1: a local chain, the contracts and the bureau's exchange service.

Every step checks what it did by reading the chain back (not by trusting its own return values).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import ledger
from exchange_api.anchoring import anchorer_factory
from exchange_api.app import create_app
from exchange_api.audit import DEFAULT_ORIGIN, LogOperator, RemoteWitness, WitnessServer, create_witness_app
from exchange_api.client import ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.ledger_writer import LedgerWriter
from exchange_api.loopback import serve_in_thread
from keys import Ed25519SigningKey, OrgKeys, canonical_json, sha256
from ledger.ids import org_id
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member, make_cast


def _hash(record: Any) -> bytes:
    return sha256(canonical_json(record))


def _deployment(ctx: DemoContext) -> ledger.Deployment:
    deployment: ledger.Deployment = ctx.state["deployment"]
    return deployment


def _cast(ctx: DemoContext) -> dict[str, Member]:
    cast: dict[str, Member] = ctx.state["cast"]
    return cast


def step_start_local_chain(ctx: DemoContext) -> str:
    """Start (or connect to) the chain the demo runs on."""
    chain = ctx.resources.enter_context(ledger.connect(ctx.backend))
    ctx.state["chain"] = chain
    ctx.expect(chain.block_number() >= 0, "the chain answers")
    return f"{chain.name}, chain id {chain.chain_id}"


def step_deploy_contracts(ctx: DemoContext) -> str:
    """The bureau deploys the four contracts with itself as the bootstrap admin."""
    chain: ledger.Chain = ctx.state["chain"]
    cast = make_cast()
    ctx.state["cast"] = cast
    chain.fund([m.keys.account_address for m in cast.values()])
    bureau = cast["bureau"]
    admin = ledger.Admin(org_id(bureau.uscc), bureau.keys.account_address, int(bureau.capabilities))
    deployment = ledger.deploy(chain, bureau.signer, [admin])
    ctx.state["deployment"] = deployment
    for name, address in deployment.addresses.items():
        ctx.expect(bool(chain.code(address)), f"{name} has code at {address}")
    return ", ".join(f"{n} {a[:10]}…" for n, a in deployment.addresses.items())


# The bureau's audit-log unit: a consortium member of its own, so that the account anchoring the
# audit log (LOG_OPERATOR) is never the one the relay signs the bureau's writes with (their nonces
# would collide). Its Ed25519 key signs the checkpoints. The code passes the GB 32100 checks.
LOG_OPERATOR_NAME = "市大数据管理局审计日志"
LOG_OPERATOR_USCC = "1133010000000006XH"


def _start_witness(ctx: DemoContext, operator: LogOperator, workdir: Path) -> RemoteWitness:
    """The auditor's witness on its own loopback port; the exchange reaches it over HTTP only."""
    auditor = _cast(ctx)["auditor"]
    key = auditor.keys.signer
    ctx.expect(isinstance(key, Ed25519SigningKey), "the auditor cosigns with Ed25519 (C2SP notes)")
    assert isinstance(key, Ed25519SigningKey)
    server = WitnessServer(
        "auditor.tdex.demo", key, {operator.origin: [operator.vkey]}, workdir / "witness-state.json"
    )
    # Mounted under /witness on an app of its own: the witness's URL is a prefix, as on a real host.
    host = FastAPI()
    host.mount("/witness", create_witness_app(server))
    url = ctx.resources.enter_context(serve_in_thread(host)) + "/witness"
    ctx.state["witness_server"] = server
    # Closed after the exchange stops (the stack unwinds in reverse), before the server goes.
    return ctx.resources.enter_context(RemoteWitness(url, server.vkey))


def step_start_the_exchange_service(ctx: DemoContext) -> str:
    """The bureau starts the exchange on a loopback port: its relay anchors writes on the chain, its
    anchorer the audit log (cosigned by the auditor's witness over HTTP)."""
    cast = _cast(ctx)
    bureau = cast["bureau"]
    deployment = _deployment(ctx)
    workdir = Path(ctx.resources.enter_context(tempfile.TemporaryDirectory(prefix="tdex-demo-")))
    # The relay signs each organisation's writes with that organisation's own account key (the
    # demo holds every key in one process; in production each department runs its own signer).
    signers: dict[str, ledger.Signer] = {}
    log_keys = OrgKeys.generate("audit-log", uscc=LOG_OPERATOR_USCC)
    log_signer = ledger.Signer(log_keys.export_account_key())
    deployment.chain.fund([log_keys.account_address])
    operator_key = log_keys.signer
    assert isinstance(operator_key, Ed25519SigningKey)
    operator = LogOperator(DEFAULT_ORIGIN, operator_key)
    witness = _start_witness(ctx, operator, workdir)
    settings = Settings(
        mode="development",
        database_url=f"sqlite:///{workdir / 'exchange.db'}",
        bureau_name=bureau.name,
        bureau_uscc=bureau.uscc,
        bureau_public_key=bureau.keys.signer.verify_key.did,
        relay_interval_s=0.05,
        sync_interval_s=0.5,
        log_origin=DEFAULT_ORIGIN,
        # A checkpoint once the oldest unanchored entry is 3 s old: several anchors during the demo,
        # the first after the log operator's admission has landed (until then the chain refuses).
        anchor_max_delay_s=3.0,
        anchor_interval_s=0.2,
    )
    anchorer = anchorer_factory(
        settings, operator_key=operator_key, witnesses=[witness], anchor=deployment.anchor, signer=log_signer
    )
    writer = LedgerWriter(deployment, signers.get)
    app = create_app(settings, writer=writer, reader=writer, anchorer=anchorer)
    url = ctx.resources.enter_context(serve_in_thread(app))
    clients = {m.handle: ctx.resources.enter_context(ExchangeClient(url, m.keys)) for m in cast.values()}
    me = clients["bureau"].me()
    signers[me["id"]] = bureau.signer
    ctx.state.update(
        exchange_url=url,
        exchange_app=app,
        exchange_database_url=settings.database_url,
        exchange_workdir=workdir,
        clients=clients,
        signers=signers,
        org_ids={"bureau": me["id"]},
        log_operator=(log_keys, log_signer, operator),
        witness=witness,
    )
    ctx.expect(me["uscc"] == bureau.uscc and me["role"] == "ADMIN", "the bureau is the exchange's admin")
    return (
        f"{url} (SQLite store, outbox relay to {deployment.chain.name}; audit anchorer, "
        f"witness {witness.url})"
    )


def wait_anchored(
    ctx: DemoContext, fetch: Callable[[], dict[str, Any]], what: str, field: str = "anchor"
) -> Any:
    """Poll `fetch()` until its `field` anchor is confirmed; fail the step if it fails or times out."""
    deadline = time.monotonic() + 60
    while True:
        record = fetch()
        status = record[field]["status"]
        if status == "anchored":
            return record
        ctx.expect(status != "failed", f"{what} was anchored (relay error: {record[field].get('error')})")
        ctx.expect(time.monotonic() < deadline, f"{what} was anchored within 60 s (still {status})")
        time.sleep(0.05)


def step_admit_the_consortium(ctx: DemoContext) -> str:
    """Through the exchange, the bureau admits three departments, a bank, a logistics firm and an auditor."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    clients: dict[str, ExchangeClient] = ctx.state["clients"]
    signers: dict[str, ledger.Signer] = ctx.state["signers"]
    org_ids: dict[str, str] = ctx.state["org_ids"]
    for member in cast.values():
        if member.handle == "bureau":
            continue
        org = clients["bureau"].admit(
            {
                "name": member.name,
                "uscc": member.uscc,
                "role": member.role.name,
                "capabilities": [str(c.name) for c in ledger.Capability if c & member.capabilities],
                "public_keys": [member.keys.signer.verify_key.did],
                "chain_account": member.keys.account_address,
            }
        )
        org_ids[member.handle] = org["id"]
        signers[org["id"]] = member.signer
    log_keys, log_signer, _ = ctx.state["log_operator"]
    log_org = clients["bureau"].admit(
        {
            "name": LOG_OPERATOR_NAME,
            "uscc": LOG_OPERATOR_USCC,
            "role": ledger.Role.DEPARTMENT.name,
            "capabilities": [ledger.Capability.LOG_OPERATOR.name],
            "public_keys": [log_keys.signer.verify_key.did],
            "chain_account": log_keys.account_address,
        }
    )
    signers[log_org["id"]] = log_signer
    fetch_log = partial(clients["bureau"].call, "GET", f"/orgs/{log_org['id']}")
    wait_anchored(ctx, fetch_log, "the audit log operator's admission")
    ctx.expect(
        deployment.consortium.has_capability(log_keys.account_address, int(ledger.Capability.LOG_OPERATOR)),
        "the audit log operator's own account holds LOG_OPERATOR on chain",
    )
    for member in cast.values():
        name = member.handle
        if name != "bureau":
            fetch = partial(clients["bureau"].call, "GET", f"/orgs/{org_ids[name]}")
            wait_anchored(ctx, fetch, f"{name}'s admission")
        on_chain = deployment.consortium.member_of(member.keys.account_address)
        ctx.expect(on_chain.is_active, f"{name} is an active member on chain")
        ctx.expect(on_chain.role == member.role, f"{name} has role {member.role.name} on chain")
        ctx.expect(on_chain.capabilities == member.capabilities, f"{name} has its capabilities on chain")
    roster = ", ".join(f"{m.handle} ({m.role.name})" for m in cast.values())
    return f"{len(cast)} members and the audit log operator, each anchored: {roster}"


STEPS = [
    step_start_local_chain,
    step_deploy_contracts,
    step_start_the_exchange_service,
    step_admit_the_consortium,
]
