"""Demo, chapter 1: a local chain, the contracts, the consortium, the catalogue and three answers.

Every step checks what it did by reading the chain back (not by trusting its own return values).
"""

from __future__ import annotations

import time
from typing import Any

import ledger
from keys import canonical_json, sha256
from ledger.errors import revert_class
from ledger.ids import org_id, resource_id
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member, make_cast

DAY = 24 * 3600

# Three catalogue resources, one per share type (共享类型), each with the catalogue's own fields.
RESOURCES: tuple[dict[str, Any], ...] = (
    {
        "code": "330100-TAX/00001",
        "name": "企业纳税信用等级",
        "provider": "tax",
        "share_type": ledger.ShareType.UNCONDITIONAL,
        "open_type": ledger.OpenType.ON_APPLICATION,
        "items": [["uscc", "string"], ["tax_grade", "string"], ["year", "integer"]],
    },
    {
        "code": "330100-MKT/00001",
        "name": "企业登记信息",
        "provider": "market",
        "share_type": ledger.ShareType.CONDITIONAL,
        "open_type": ledger.OpenType.ON_APPLICATION,
        "conditions": "仅用于信贷审批与物流资质核验",
        "items": [["uscc", "string"], ["industry", "string"], ["registered_capital", "decimal"]],
    },
    {
        "code": "330100-HRS/00001",
        "name": "个人社会保险缴费明细",
        "provider": "hrss",
        "share_type": ledger.ShareType.NOT_SHAREABLE,
        "open_type": ledger.OpenType.NOT_OPEN,
        "basis": "《社会保险法》第八十一条：个人信息不得泄露",
        "items": [["person_ref", "string"], ["month", "string"], ["amount", "decimal"]],
    },
)


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


def step_admit_the_consortium(ctx: DemoContext) -> str:
    """The bureau admits three departments, a bank, a logistics firm and an auditor by proposals."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    bureau = cast["bureau"]
    for member in cast.values():
        if member is bureau:
            continue
        outcome = deployment.consortium.propose_admission(
            bureau.signer, org_id(member.uscc), member.keys.account_address, member.role, member.capabilities
        )
        ctx.expect(outcome.executed, f"the admission of {member.handle} executed (threshold 1)")
    for member in cast.values():
        on_chain = deployment.consortium.member_of(member.keys.account_address)
        ctx.expect(on_chain.is_active, f"{member.handle} is an active member")
        ctx.expect(on_chain.role == member.role, f"{member.handle} has role {member.role.name}")
        ctx.expect(on_chain.capabilities == member.capabilities, f"{member.handle} has its capabilities")
    return f"{len(cast)} members: " + ", ".join(f"{m.handle} ({m.role.name})" for m in cast.values())


def step_register_the_catalogue(ctx: DemoContext) -> str:
    """Each department registers one resource; the chain holds its share type and metadata hash."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    for entry in RESOURCES:
        provider = cast[entry["provider"]]
        metadata = {
            k: (v.name if isinstance(v, ledger.ShareType | ledger.OpenType) else v) for k, v in entry.items()
        }
        deployment.catalog.register(
            provider.signer,
            resource_id(entry["code"]),
            entry["share_type"],
            entry["open_type"],
            _hash({"kind": "tdex.catalog.entry", "version": 1, **metadata}),
            _hash({"kind": "tdex.catalog.schema", "version": 1, "items": entry["items"]}),
        )
        record = deployment.catalog.resource(resource_id(entry["code"]))
        ctx.expect(record.provider_org_id == org_id(provider.uscc), f"{entry['code']} names its provider")
        ctx.expect(record.share_type == entry["share_type"], f"{entry['code']} has its share type")
        ctx.expect(record.version == 1, f"{entry['code']} is version 1")
    return "; ".join(f"{e['code']} {e['name']} ({e['share_type'].name})" for e in RESOURCES)


def _apply(ctx: DemoContext, applicant: Member, code: str, purpose: str) -> ledger.ApplicationOutcome:
    deployment = _deployment(ctx)
    policy = {"kind": "tdex.policy.request", "version": 1, "resource": code, "purpose": purpose}
    templates = [sha256(canonical_json({"kind": "tdex.template", "name": "agg.count", "version": 1}))]
    expiry = deployment.chain.timestamp() + 30 * DAY
    return deployment.grants.apply(
        applicant.signer, resource_id(code), _hash(policy), _hash({"purpose": purpose}), expiry, templates
    )


def step_unconditional_application_is_granted_at_once(ctx: DemoContext) -> str:
    """The bank applies for the tax bureau's unconditional resource and is granted at once."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    outcome = _apply(ctx, cast["bank"], RESOURCES[0]["code"], "信易贷 credit review")
    ctx.expect(outcome.granted, "an unconditional resource is granted at once")
    grant = deployment.grants.grant(outcome.application_id)
    ctx.expect(grant.status == ledger.GrantStatus.ACTIVE, "the grant is active on chain")
    ctx.expect(grant.grantee_org_id == org_id(cast["bank"].uscc), "the grant names the bank")
    expires = time.strftime("%Y-%m-%d", time.gmtime(grant.expiry))
    return f"grant {grant.grant_id}: {grant.max_uses} uses, expires {expires}"


def step_conditional_application_is_approved(ctx: DemoContext) -> str:
    """The logistics firm applies for a conditional resource; the market regulator approves with terms."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    outcome = _apply(ctx, cast["logistics"], RESOURCES[1]["code"], "物流资质核验")
    ctx.expect(not outcome.granted, "a conditional resource waits for its provider")
    pending = deployment.grants.application(outcome.application_id)
    ctx.expect(pending.status == ledger.ApplicationStatus.PENDING, "the application is pending on chain")
    agreement = {"kind": "tdex.odrl.agreement", "version": 1, "application": outcome.application_id}
    expiry = deployment.chain.timestamp() + 14 * DAY
    deployment.grants.approve(
        cast["market"].signer, outcome.application_id, expiry, 10, 1_000_000, _hash(agreement)
    )
    grant = deployment.grants.grant(outcome.application_id)
    ctx.expect(grant.status == ledger.GrantStatus.ACTIVE, "the approved grant is active")
    ctx.expect(grant.max_uses == 10 and grant.agreement_hash == _hash(agreement), "the grant has the terms")
    return f"grant {grant.grant_id}: 10 uses, ε budget 1.0, agreement {grant.agreement_hash.hex()[:12]}…"


def step_conditional_application_is_rejected_with_a_reason(ctx: DemoContext) -> str:
    """The bank applies for the same conditional resource for another purpose; it is rejected."""
    deployment, cast = _deployment(ctx), _cast(ctx)
    outcome = _apply(ctx, cast["bank"], RESOURCES[1]["code"], "营销名单")
    reason = {"kind": "tdex.reason", "version": 1, "text": "用途超出共享条件（仅限信贷审批）"}
    deployment.grants.reject(cast["market"].signer, outcome.application_id, _hash(reason))
    answered = deployment.grants.application(outcome.application_id)
    ctx.expect(answered.status == ledger.ApplicationStatus.REJECTED, "the application is rejected on chain")
    ctx.expect(answered.decision_hash == _hash(reason), "the rejection carries the reason's hash")
    return f"application {outcome.application_id} rejected: {reason['text']}"


def step_not_shareable_resource_is_refused(ctx: DemoContext) -> str:
    """Applying for a not-shareable resource reverts on chain with a typed error naming it."""
    cast = _cast(ctx)
    code = RESOURCES[2]["code"]
    refused = revert_class("AccessGrantsResourceNotShareable")
    try:
        _apply(ctx, cast["logistics"], code, "员工社保核验")
    except refused as error:
        ctx.expect(getattr(error, "resource_code", None) == resource_id(code), "the error names the resource")
        return f"refused: {error.error_name} ({RESOURCES[2]['basis']})"
    ctx.expect(False, "a not-shareable resource must never be granted")
    raise AssertionError("unreachable")


STEPS = [
    step_start_local_chain,
    step_deploy_contracts,
    step_admit_the_consortium,
    step_register_the_catalogue,
    step_unconditional_application_is_granted_at_once,
    step_conditional_application_is_approved,
    step_conditional_application_is_rejected_with_a_reason,
    step_not_shareable_resource_is_refused,
]
