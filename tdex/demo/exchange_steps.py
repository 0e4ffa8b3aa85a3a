"""Demo, chapter 2: the catalogue and the three answers to applications, through the exchange's HTTP API.

Departments and enterprises act as they would: over HTTP, each request signed with its own key.
Each step then reads the chain to check that what the exchange stored is what was anchored.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import partial
from typing import Any

import ledger
from exchange_api.client import ApiProblem, ExchangeClient
from keys import canonical_json, sha256
from ledger.errors import revert_class
from ledger.ids import resource_id
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member
from tdex.demo.chain_steps import wait_anchored

# The template the applications ask for: a private count in the sandbox.
TEMPLATE = "0x" + sha256(canonical_json({"kind": "tdex.template", "name": "agg.count", "version": 1})).hex()

ITEMS = {
    "tax": [("统一社会信用代码", "string"), ("纳税信用等级", "string"), ("评价年度", "integer")],
    "market": [("企业名称", "string"), ("统一社会信用代码", "string"), ("注册资本", "decimal")],
    "hrss": [("人员标识", "string"), ("缴费月份", "string"), ("缴费金额", "decimal")],
}

# One resource per share type (共享类型), with the catalogue's fields (GB/T 21063, 编制指南 2017).
RESOURCES: dict[str, dict[str, Any]] = {
    "tax": {
        "code": "201002/000001",
        "name": "企业纳税信用等级",
        "summary": "本市企业年度纳税信用评价结果（A/B/M/C/D）。",
        "share_type": "unconditional",
        "share_conditions": None,
        "open_type": "on_application",
        "update_cycle": "annual",
    },
    "market": {
        "code": "301001/000001",
        "name": "企业登记基础信息",
        "summary": "本市市场主体登记注册的基础信息，包括名称、统一社会信用代码和注册资本。",
        "share_type": "conditional",
        "share_conditions": "仅用于信贷审批与物流资质核验，不得向第三方提供",
        "open_type": "not_open",
        "update_cycle": "daily",
    },
    "hrss": {
        "code": "202003/000001",
        "name": "个人社会保险缴费明细",
        "summary": "参保人员按月缴费明细。",
        "share_type": "not_shareable",
        "share_conditions": "《社会保险法》第八十一条：社会保险行政部门应当依法为用人单位和个人的信息保密",
        "open_type": "not_open",
        "update_cycle": "monthly",
    },
}


def _entry(provider: str) -> dict[str, Any]:
    spec = RESOURCES[provider]
    classification = spec["code"].split("/")[0]
    return {
        **spec,
        "classification": {
            "category": classification[0],
            "item": classification[1:3],
            "catalog": classification[3:6],
        },
        "format": "database",
        "items": [{"name": n, "data_type": t} for n, t in ITEMS[provider]],
        "share_methods": [] if spec["share_type"] == "not_shareable" else ["interface"],
        "release_date": "2025-01-15",
        "data_grade": "important" if provider == "hrss" else "general",
        "related_codes": [],
    }


def _clients(ctx: DemoContext) -> dict[str, ExchangeClient]:
    clients: dict[str, ExchangeClient] = ctx.state["clients"]
    return clients


def _deployment(ctx: DemoContext) -> ledger.Deployment:
    deployment: ledger.Deployment = ctx.state["deployment"]
    return deployment


def _current_version(client: ExchangeClient, code: str) -> dict[str, Any]:
    version: dict[str, Any] = client.resource(code)["current_version"]
    return version


def step_departments_register_the_catalogue(ctx: DemoContext) -> str:
    """Three departments register one resource each over HTTP; the chain holds each version's hash."""
    clients, deployment = _clients(ctx), _deployment(ctx)
    for provider in RESOURCES:
        clients[provider].register(_entry(provider))
    for provider, spec in RESOURCES.items():
        code = spec["code"]
        stored = wait_anchored(ctx, partial(_current_version, clients[provider], code), code)
        on_chain = deployment.catalog.resource(resource_id(spec["code"]))
        ctx.expect(
            "0x" + on_chain.metadata_hash.hex() == stored["metadata_hash"], f"{spec['code']} hash on chain"
        )
        ctx.expect(
            on_chain.share_type.name.lower() == spec["share_type"], f"{spec['code']} share type on chain"
        )
    found = clients["bank"].search("企业")
    ctx.expect(len(found["items"]) == 2, "the bank finds the two enterprise resources by full-text search")
    return "; ".join(f"{s['code']} {s['name']} ({s['share_type']})" for s in RESOURCES.values())


def _apply(ctx: DemoContext, applicant: str, provider: str, purpose: str) -> dict[str, Any]:
    return _clients(ctx)[applicant].apply(
        {
            "resource_code": RESOURCES[provider]["code"],
            "purpose": purpose,
            "requested_items": [ITEMS[provider][0][0]],
            "computation_kinds": ["aggregate"],
            "templates": [TEMPLATE],
            "duration_days": 30,
        }
    )


def _chain_grant(ctx: DemoContext, agreement_hash: str) -> ledger.Grant:
    grants = _deployment(ctx).grants
    for grant_id in range(grants.application_count(), 0, -1):
        grant = (
            grants.grant(grant_id)
            if grants.application(grant_id).status == ledger.ApplicationStatus.GRANTED
            else None
        )
        if grant is not None and "0x" + grant.agreement_hash.hex() == agreement_hash:
            return grant
    ctx.expect(False, f"a grant with agreement {agreement_hash[:14]}… is on chain")
    raise AssertionError("unreachable")


def _usable_grant(ctx: DemoContext, client: ExchangeClient, grant_id: str) -> dict[str, Any]:
    grant = wait_anchored(ctx, lambda: client.grant(grant_id), f"grant {grant_id}")
    deadline = time.monotonic() + 30
    while not grant["usable"] and time.monotonic() < deadline:  # the store may lag its own anchor view
        time.sleep(0.05)
        grant = client.grant(grant_id)
    ctx.expect(grant["usable"], f"grant {grant_id} is usable once anchored (status {grant['status']})")
    return grant


def step_unconditional_application_is_granted_at_once(ctx: DemoContext) -> str:
    """The bank applies for the tax bureau's unconditional resource and is granted at once."""
    bank = _clients(ctx)["bank"]
    application = _apply(ctx, "bank", "tax", "信易贷：小微企业授信前的纳税信用核验")
    ctx.expect(application["state"] == "approved", "an unconditional resource is granted at once")
    grant = _usable_grant(ctx, bank, application["grant_id"])
    on_chain = _chain_grant(ctx, grant["agreement_hash"])
    ctx.expect(on_chain.status == ledger.GrantStatus.ACTIVE, "the grant is active on chain")
    return f"grant {grant['id']} usable; on chain grant {on_chain.grant_id}, {on_chain.max_uses} uses"


def step_conditional_application_is_approved_with_terms(ctx: DemoContext) -> str:
    """The logistics firm applies for a conditional resource; the market regulator approves with terms."""
    clients = _clients(ctx)
    application = _apply(ctx, "logistics", "market", "物流承运商资质核验")
    ctx.expect(application["state"] == "submitted", "a conditional resource waits for its provider")
    ctx.expect(application["answer_due"] is not None, "the pending application has an answer deadline")
    inbox = clients["market"].applications(state="submitted")
    ctx.expect(any(a["id"] == application["id"] for a in inbox["items"]), "it is in the regulator's inbox")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=14)
    decided = clients["market"].approve(
        application["id"], {"expires_at": expires.isoformat(), "max_uses": 10, "privacy_budget": "1"}
    )
    grant = _usable_grant(ctx, clients["logistics"], decided["grant_id"])
    ctx.expect(grant["agreement"]["@type"] == "Agreement", "the grant is an ODRL Agreement")
    on_chain = _chain_grant(ctx, grant["agreement_hash"])
    ctx.expect((on_chain.max_uses, on_chain.privacy_budget) == (10, 1_000_000), "the terms are on chain")
    return f"grant {grant['id']}: 10 uses, ε 1.0, agreement {grant['agreement_hash'][:14]}… anchored"


def step_conditional_application_is_rejected_with_a_reason(ctx: DemoContext) -> str:
    """The bank asks for the same resource for marketing; the regulator rejects it with a reason."""
    clients = _clients(ctx)
    application = _apply(ctx, "bank", "market", "营销获客名单")
    reason = "用途超出共享条件：仅限信贷审批与物流资质核验"
    clients["market"].reject(application["id"], reason)
    answered = wait_anchored(
        ctx, lambda: clients["bank"].application(application["id"]), "the rejection", "decision_anchor"
    )
    ctx.expect(answered["state"] == "rejected" and answered["reason"] == reason, "the bank sees the reason")
    return f"application {application['id']} rejected: {reason}"


def step_not_shareable_resource_is_refused(ctx: DemoContext) -> str:
    """The exchange refuses a not-shareable resource with its basis; the contract refuses it too."""
    cast: dict[str, Member] = ctx.state["cast"]
    refused = _apply(ctx, "logistics", "hrss", "员工社保核验")
    ctx.expect(refused["state"] == "refused", "the exchange refuses a not-shareable resource at once")
    ctx.expect(
        RESOURCES["hrss"]["share_conditions"] in (refused["reason"] or ""), "with the catalogue's basis"
    )
    deployment = _deployment(ctx)
    code = resource_id(RESOURCES["hrss"]["code"])
    try:  # even someone going around the exchange cannot get a grant: the invariant lives on chain
        expiry = deployment.chain.timestamp() + 86_400
        deployment.grants.apply(
            cast["logistics"].signer, code, bytes([1]) * 32, bytes([2]) * 32, expiry, [bytes([3]) * 32]
        )
    except revert_class("AccessGrantsResourceNotShareable") as error:
        ctx.expect(getattr(error, "resource_code", None) == code, "the chain's error names the resource")
        return f"refused by the exchange ({refused['reason'][:24]}…) and by the chain ({error.error_name})"
    except ApiProblem:
        raise
    ctx.expect(False, "a not-shareable resource is never granted on chain")
    raise AssertionError("unreachable")


STEPS = [
    step_departments_register_the_catalogue,
    step_unconditional_application_is_granted_at_once,
    step_conditional_application_is_approved_with_terms,
    step_conditional_application_is_rejected_with_a_reason,
    step_not_shareable_resource_is_refused,
]
