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

import ledger
from exchange_api.app import create_app
from exchange_api.client import ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.ledger_writer import LedgerWriter
from exchange_api.loopback import serve_in_thread
from keys import canonical_json, sha256
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


def step_start_the_exchange_service(ctx: DemoContext) -> str:
    """The bureau starts the exchange on a loopback port; its relay anchors writes on the chain."""
    cast = _cast(ctx)
    bureau = cast["bureau"]
    workdir = Path(ctx.resources.enter_context(tempfile.TemporaryDirectory(prefix="tdex-demo-")))
    # The relay signs each organisation's writes with that organisation's own account key (the
    # demo holds every key in one process; in production each department runs its own signer).
    signers: dict[str, ledger.Signer] = {}
    settings = Settings(
        mode="development",
        database_url=f"sqlite:///{workdir / 'exchange.db'}",
        bureau_name=bureau.name,
        bureau_uscc=bureau.uscc,
        bureau_public_key=bureau.keys.signer.verify_key.did,
        relay_interval_s=0.05,
        sync_interval_s=0.5,
    )
    writer = LedgerWriter(_deployment(ctx), signers.get)
    app = create_app(settings, writer=writer, reader=writer)
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
    )
    ctx.expect(me["uscc"] == bureau.uscc and me["role"] == "ADMIN", "the bureau is the exchange's admin")
    return f"{url} (SQLite store, outbox relay to {_deployment(ctx).chain.name})"


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
    return f"{len(cast)} members, each anchored: {roster}"


STEPS = [
    step_start_local_chain,
    step_deploy_contracts,
    step_start_the_exchange_service,
    step_admit_the_consortium,
]
