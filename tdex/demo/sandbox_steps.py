"""Demo, chapter: the data sandbox — 数据不动程序动，数据可用不可见.

Three departments (market regulator, tax bureau, human resources and social security) ingest
synthetic datasets into their own nodes (前置机), each node its own process on loopback; requesters
then run only approved computations: a private aggregate, a differencing attempt refused for budget,
federated logistic regression across the three nodes next to a model trained on the pooled data,
an encrypted cross-department sum, and encrypted credit scoring for the bank (信易贷).

Needs from chapter 1: ``ctx.state["chain"]``, ``["deployment"]`` and ``["cast"]`` (the cast
admitted). Every step checks its outcome by reading the chain back and verifying the nodes'
signed receipts. On the in-process chain (``eth-tester``), which no other process can reach, the
nodes run in this process behind the same HTTP interface; on Anvil or a JSON-RPC chain each node
is its own process.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import ledger
import sandbox as sb
from keys import canonical_json, sha256
from ledger.ids import resource_id
from sandbox import node as sn
from sandbox.errors import BudgetExceeded
from tdex.demo._runner import DemoContext, DemoStepFailed
from tdex.demo.cast import Member
from tdex.node_chain import LedgerGrantChecker, digest_bytes, verify_catalogue_binding
from tdex.node_process import NodeSettings, start_node_processes

DAY = 24 * 3600
DEPARTMENTS = ("market", "tax", "hrss")
REGISTER = "330100-MKT/00002"
CREDIT = {"market": "330100-MKT/00003", "tax": "330100-TAX/00002", "hrss": "330100-HRS/00002"}
AGGREGATES = ("agg.count", "agg.mean", "agg.group_by")
COMPUTE = ("fl.moments", "fl.local_update", "he.encrypted_sum", "he.encrypted_scores")
_job_numbers = itertools.count(1)


@dataclass
class SandboxDemo:
    """What the sandbox steps share: the workspace, the data (for checking results), nodes, grants."""

    workspace: Path
    registry: sb.TemplateRegistry = field(default_factory=sb.default_registry)
    tables: dict[str, sb.Table] = field(default_factory=dict)
    test: sb.Table | None = None
    clients: dict[str, sn.NodeClient] = field(default_factory=dict)
    grants: dict[str, int] = field(default_factory=dict)
    model: sb.FederatedModel | None = None
    context: Any = None


def _state(ctx: DemoContext) -> tuple[ledger.Deployment, dict[str, Member], SandboxDemo]:
    sandbox = ctx.state.get("sandbox")
    if not isinstance(sandbox, SandboxDemo):
        raise DemoStepFailed("the sandbox chapter starts with its first step")
    return ctx.state["deployment"], ctx.state["cast"], sandbox


def _take(table: sb.Table, rows: np.ndarray) -> sb.Table:
    cols: dict[str, Any] = {}
    for item in table.schema.items:
        col = table.column(item.name)[rows]
        cols[item.name] = [item.categories[int(c)] for c in col] if item.type == "category" else col.tolist()
    return sb.Table.from_columns(table.schema, cols)


def _register(ctx: DemoContext, provider: Member, code: str, name: str, table: sb.Table, fmt: str) -> None:
    deployment, _, sandbox = _state(ctx)
    entry = sn.entry_for_schema(code, name, table.schema, {"name": provider.name, "uscc": provider.uscc})
    binding = sn.entry_binding(entry)
    deployment.catalog.register(
        provider.signer,
        resource_id(code),
        ledger.ShareType.CONDITIONAL,
        ledger.OpenType.ON_APPLICATION,
        bytes.fromhex(binding.metadata_hash[2:]),
        bytes.fromhex(binding.schema_hash[2:]),
    )
    verify_catalogue_binding(deployment, binding)  # the node checks the entry against the chain
    source = sandbox.workspace / "sources" / f"{code.replace('/', '_')}.{fmt}"
    source.parent.mkdir(parents=True, exist_ok=True)
    sn.write_source(table, source)
    folder = sandbox.workspace / provider.handle
    store = sn.DatasetStore(folder)
    record = sn.ingest(
        store, source, entry, sn.policy_for_schema(table.schema, 10), provider.keys.encryption.public_key
    )
    stored = (folder / "datasets" / (record.dataset_digest.split(":")[1] + ".tdxe")).read_bytes()
    ctx.expect(str(table.column("uscc")[0]).encode() not in stored, f"{code} is encrypted at rest")
    ctx.expect(record.dataset_digest == table.digest(), f"{code} is bound to its content hash")
    sandbox.tables[code] = table


def step_departments_ingest_sandbox_datasets(ctx: DemoContext) -> str:
    """Three departments register sandbox datasets and ingest them, encrypted, into their node folders."""
    _, cast = ctx.state["deployment"], ctx.state["cast"]
    workspace = Path(tempfile.mkdtemp(prefix="tdex-demo-nodes-"))
    ctx.resources.callback(shutil.rmtree, workspace, ignore_errors=True)
    sandbox = SandboxDemo(workspace)
    ctx.state["sandbox"] = sandbox
    _register(ctx, cast["market"], REGISTER, "企业登记信息（前置机）", sb.enterprises(3000, seed=2025), "csv")
    credit = sb.credit_table(7500, seed=2026)
    sandbox.test = _take(credit, np.arange(6000, 7500))
    for k, dept in enumerate(DEPARTMENTS):
        part = _take(credit, np.arange(k, 6000, 3))
        _register(ctx, cast[dept], CREDIT[dept], "企业信用风险样本", part, "parquet")
    return (
        f"{len(sandbox.tables)} datasets in {', '.join(DEPARTMENTS)} — encrypted at rest, "
        "bound to their catalogue versions by hash (checked against the chain)"
    )


def step_start_three_department_nodes(ctx: DemoContext) -> str:
    """Each department's node starts as its own process on loopback and answers with its identity."""
    deployment, cast, sandbox = _state(ctx)
    chain: ledger.Chain = ctx.state["chain"]
    members = sn.Directory([m.keys.identity for m in cast.values()]).to_json()
    where: dict[str, str] = {}
    if chain.kind in ("anvil", "rpc"):
        specs = [
            (
                cast[d].keys,
                NodeSettings(sandbox.workspace / d, chain.name, deployment.manifest.to_json(), members),
            )
            for d in DEPARTMENTS
        ]
        for process in start_node_processes(specs):
            ctx.resources.callback(process.stop)
            sandbox.clients[process.org] = sn.NodeClient(process.url, name=process.org)
            where[process.org] = f"{process.url} (pid {process.pid})"
    else:
        directory = sn.Directory([m.keys.identity for m in cast.values()])
        for d in DEPARTMENTS:
            checker = LedgerGrantChecker(deployment, cast[d].signer)
            service = sn.NodeService(cast[d].keys, sandbox.workspace / d, checker, directory)
            http = httpx.Client(
                base_url=f"http://{d}.node", transport=sn.ASGITransport(sn.create_app(service))
            )
            sandbox.clients[d] = sn.NodeClient(f"http://{d}.node", name=d, http=http)
            where[d] = "in process"
    for d, client in sandbox.clients.items():
        ctx.resources.callback(client.close)
        described = client.describe()
        ctx.expect(described["identity"]["did"] == cast[d].keys.identity.did, f"{d}'s node is {d}")
        held = {r["dataset_digest"] for r in described["datasets"]}
        ctx.expect(sandbox.tables[CREDIT[d]].digest() in held, f"{d}'s node holds its credit sample")
    if chain.kind not in ("anvil", "rpc"):
        return f"{', '.join(DEPARTMENTS)} in this process (the in-process chain is not reachable from others)"
    return "; ".join(f"{d} {w}" for d, w in where.items())


def _grant(
    ctx: DemoContext, requester: str, code: str, templates: tuple[str, ...], uses: int, epsilon: float
) -> int:
    deployment, cast, sandbox = _state(ctx)
    provider = (
        "market" if code.startswith("330100-MKT") else "tax" if code.startswith("330100-TAX") else "hrss"
    )
    now = deployment.chain.timestamp()
    digests = [digest_bytes(sandbox.registry.digest_of(t)) for t in templates]
    policy = {"kind": "tdex.policy.request", "version": 1, "resource": code, "templates": list(templates)}
    outcome = deployment.grants.apply(
        cast[requester].signer, resource_id(code), sha256(canonical_json(policy)), b"\x00" * 31 + b"\x01",
        now + 30 * DAY, digests,
    )  # fmt: skip
    agreement = sha256(canonical_json({"kind": "tdex.odrl.agreement", "version": 1, "policy": policy}))
    deployment.grants.approve(
        cast[provider].signer,
        outcome.application_id,
        now + 14 * DAY,
        uses,
        sn.micro_epsilon(epsilon),
        agreement,
    )
    return outcome.application_id


def _job(
    ctx: DemoContext, requester: str, node: str, grant: int, code: str, template: str, **kw: Any
) -> dict[str, Any]:
    _, cast, sandbox = _state(ctx)
    payload = sn.job_payload(
        job_id=f"demo-{template}-{next(_job_numbers)}-{int(time.time())}",
        node=node,
        grant_id=grant,
        resource_code=code,
        template=sandbox.registry.digest_of(template),
        params=kw.pop("params", {}),
        not_after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        **kw,
    )
    return cast[requester].keys.sign_document(payload)


def _verified(ctx: DemoContext, node: str, receipt: dict[str, Any]) -> dict[str, Any]:
    _, cast, _ = _state(ctx)
    try:
        return sn.verify_receipt(receipt, cast[node].keys.identity)
    except sn.errors.ReceiptInvalid as error:
        raise DemoStepFailed(f"{node}'s receipt does not verify: {error}") from None


def step_private_aggregate_over_the_market_register(ctx: DemoContext) -> str:
    """The logistics firm asks the market node how many small firms each district has (ε = 0.5)."""
    deployment, cast, sandbox = _state(ctx)
    grant = _grant(ctx, "logistics", REGISTER, AGGREGATES, uses=10, epsilon=1.0)
    sandbox.grants["logistics/register"] = grant
    params = {"by": ["district"], "metric": "count", "epsilon": 0.5, "where": [["small_micro", "eq", True]]}
    job = _job(ctx, "logistics", "market", grant, REGISTER, "agg.group_by", params=params)
    result = sandbox.clients["market"].run_job(job)
    receipt = _verified(ctx, "market", result.receipt)
    opened = sn.open_output(result, cast["logistics"].keys, job["payload"]["job_id"])
    on_chain = deployment.grants.grant(grant)
    ctx.expect(
        on_chain.uses_left == 9 and on_chain.budget_left == 500_000, "the use and ε are recorded on chain"
    )
    ctx.expect(receipt["chain_use"]["block_number"] > 0, "the receipt names the block of the recorded use")
    counts = {k.split("=")[1]: v["count"] for k, v in opened["output"].items()}
    shown = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(counts.items())[:4] if v is not None)
    block = receipt["chain_use"]["block_number"]
    return f"small and micro firms: {shown}, …; receipt signed by the market regulator, use in block {block}"


def step_differencing_attempt_is_refused_for_budget(ctx: DemoContext) -> str:
    """Count firms in Gulou, then Gulou without one firm: the second query exceeds the grant's ε."""
    deployment, _, sandbox = _state(ctx)
    grant = sandbox.grants["logistics/register"]
    firm = str(sandbox.tables[REGISTER].column("uscc")[0])
    market = sandbox.clients["market"]
    first = {"epsilon": 0.3, "where": [["district", "eq", "Gulou"]]}
    market.run_job(_job(ctx, "logistics", "market", grant, REGISTER, "agg.count", params=first))
    second = {"epsilon": 0.3, "where": [["district", "eq", "Gulou"], ["uscc", "ne", firm]]}
    try:
        market.run_job(_job(ctx, "logistics", "market", grant, REGISTER, "agg.count", params=second))
    except BudgetExceeded as refused:
        left = deployment.grants.grant(grant)
        ctx.expect(
            left.budget_left == 200_000 and left.uses_left == 8,
            f"the refused query spent nothing (left: {left.budget_left} micro-ε, {left.uses_left} uses)",
        )
        return f"refused before running ({refused.code}): {refused}"
    raise DemoStepFailed("the differencing query ran: the budget did not hold")


def step_federated_logistic_regression_across_three_nodes(ctx: DemoContext) -> str:
    """The bank trains a default model across the three nodes with secure aggregation; compare to central."""
    deployment, cast, sandbox = _state(ctx)
    for d in DEPARTMENTS:
        sandbox.grants[f"bank/{d}"] = _grant(ctx, "bank", CREDIT[d], COMPUTE, uses=5, epsilon=1.0)
    plan = sb.TrainingPlan("logistic", sb.CREDIT_FEATURES, "defaulted", rounds=30, local_epochs=5)
    spec = sn.FederatedSpec(DEPARTMENTS, sandbox.registry.digest_of("fl.moments"), plan)
    handles = []
    for d in DEPARTMENTS:
        job = _job(ctx, "bank", d, sandbox.grants[f"bank/{d}"], CREDIT[d], "fl.local_update", federated=spec)
        session = sandbox.clients[d].open_session(job)
        handles.append(sn.HttpNodeHandle(d, sandbox.clients[d], session["session"]))
    coordinator = sn.HttpFederatedCoordinator(
        handles,
        moments_template=sandbox.registry.digest_of("fl.moments"),
        update_template=sandbox.registry.digest_of("fl.local_update"),
    )
    model, receipts = coordinator.train_and_finish(plan)
    for d in DEPARTMENTS:
        _verified(ctx, d, receipts[d])
        ctx.expect(
            deployment.grants.grant(sandbox.grants[f"bank/{d}"]).uses_left == 4, f"{d} recorded its use"
        )
    # The coordinator keeps only the envelope; the bank opens its model.
    envelope = sn.seal_model(model, cast["bank"].keys.identity.public_encryption_key, coordinator.training_id)
    sandbox.model = sn.open_model(cast["bank"].keys, envelope, coordinator.training_id)
    test = sandbox.test
    assert test is not None
    x_test = np.column_stack([test.numeric(f) for f in sb.CREDIT_FEATURES])
    y_test = test.numeric("defaulted")
    fl_accuracy = float((sandbox.model.predict(x_test) == y_test).mean())
    central_accuracy = _central_accuracy(sandbox, x_test, y_test)
    gap = 100 * (central_accuracy - fl_accuracy)
    ctx.expect(gap <= 3.0, f"federated accuracy is within 3 pp of central (gap {gap:.2f} pp)")
    # Each round's accuracy on the nodes' own records, from secure sums of their counts.
    rounds = sandbox.model.rounds
    ctx.expect(
        [(r.round, r.participants) for r in rounds] == [(n, 3) for n in range(1, plan.rounds + 1)],
        "every round reports its accuracy over the three nodes",
    )
    return (
        f"accuracy federated {100 * fl_accuracy:.1f} % vs central (pooled data) "
        f"{100 * central_accuracy:.1f} % — gap {gap:+.2f} pp; {plan.rounds} secure rounds "
        f"(round {rounds[-1].round} on the nodes' records, securely summed: "
        f"{100 * rounds[-1].accuracy:.1f} %); model sealed to the bank"
    )


def _central_accuracy(sandbox: SandboxDemo, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """A logistic regression on the pooled training data (what no single party could do)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    parts = [sandbox.tables[CREDIT[d]] for d in DEPARTMENTS]
    x = np.vstack([np.column_stack([t.numeric(f) for f in sb.CREDIT_FEATURES]) for t in parts])
    y = np.concatenate([t.numeric("defaulted") for t in parts])
    scaler = StandardScaler().fit(x)
    central = LogisticRegression(max_iter=2000).fit(scaler.transform(x), y)
    return float((central.predict(scaler.transform(x_test)) == y_test).mean())


def step_encrypted_cross_department_sum(ctx: DemoContext) -> str:
    """Each node encrypts its totals under the bank's public CKKS context; the sum is added encrypted."""
    _, _, sandbox = _state(ctx)
    he = sb.create_context()
    sandbox.context = he
    public = sb.public_context_bytes(he)
    parts, truth = [], np.zeros(2)
    items = ["employees", "arrears_months"]
    for d in DEPARTMENTS:
        client = sandbox.clients[d]
        ref = client.put_blob(public, kind="he-context")  # stored once by hash; the node checks it is public
        job = _job(ctx, "bank", d, sandbox.grants[f"bank/{d}"], CREDIT[d], "he.encrypted_sum",
                   params={"items": items}, inputs={"context": ref})  # fmt: skip
        result = client.run_job(job)
        receipt = _verified(ctx, d, result.receipt)
        ctx.expect(receipt["he_context_digest"] == ref, f"{d}'s receipt names the context it used")
        ctx.expect(result.ciphertexts is not None, f"{d} released ciphertexts only")
        assert result.ciphertexts is not None
        parts.append(list(result.ciphertexts.blobs))
        truth += [float(sandbox.tables[CREDIT[d]].numeric(i).sum()) for i in items]
    # The exchange's side: it adds ciphertexts with the public context and cannot decrypt them.
    total = sb.add_ciphertexts(sb.load_public_context(public), parts)
    decrypted = sb.decrypt_values(he, total, 3)
    ctx.expect(bool(np.allclose(decrypted[:2], truth, rtol=1e-6)), "the decrypted total is the true total")
    return (
        f"employees {decrypted[0]:,.0f}, months in arrears {decrypted[1]:,.0f} "
        f"over {decrypted[2]:,.0f} firms in three departments; "
        f"context {len(public) / 1e6:.1f} MB uploaded once per node, by hash"
    )


def step_encrypted_credit_scoring_for_the_bank(ctx: DemoContext) -> str:
    """The bank's encrypted model scores 500 applicant firms at the tax node (信易贷)."""
    deployment, _, sandbox = _state(ctx)
    model, he = sandbox.model, sandbox.context
    if model is None or he is None:
        raise DemoStepFailed("needs the federated model and the bank's context from the earlier steps")
    # 信易贷 gate: the bank scores only with a verified credit attestation in hand (certificates chapter).
    ctx.expect(
        ctx.state.get("credit_attestation_verified") is not None,
        "the bank holds a verified credit threshold attestation before scoring",
    )
    # Weights on raw features: the node scores its records as they are.
    weights = model.weights / model.scale
    bias = model.bias - float(np.sum(model.weights * model.mean / model.scale))
    encrypted = sb.encrypt_model(he, weights, bias)
    tax = sandbox.clients["tax"]
    refs = tuple(tax.put_blob(blob) for blob in encrypted.blobs)
    context = tax.put_blob(sb.public_context_bytes(he), kind="he-context")
    table = sandbox.tables[CREDIT["tax"]]
    applicants = [str(s) for s in table.column("uscc")[:500]]
    params = {"features": list(sb.CREDIT_FEATURES), "subject_item": "uscc", "subjects": applicants}
    grant = sandbox.grants["bank/tax"]
    job = _job(ctx, "bank", "tax", grant, CREDIT["tax"], "he.encrypted_scores", params=params,
               inputs={"context": context, "weights": refs})  # fmt: skip
    started = time.perf_counter()
    result = tax.run_job(job)
    elapsed = time.perf_counter() - started
    _verified(ctx, "tax", result.receipt)
    assert result.ciphertexts is not None
    scores = sb.decrypt_scores(he, list(result.ciphertexts.blobs), len(applicants))
    x = np.column_stack([table.numeric(f)[:500] for f in sb.CREDIT_FEATURES])
    ctx.expect(float(np.max(np.abs(scores - model.decision(x)))) < 1e-3, "encrypted scores match the model")
    ctx.expect(deployment.grants.grant(grant).uses_left == 2, "the scoring use is recorded on chain")
    approved = int(np.sum(1 / (1 + np.exp(-scores)) < 0.2))
    return (
        f"{len(applicants)} applicants scored in {elapsed:.2f} s; {approved} below 20 % default risk; "
        "the tax bureau never saw the model, the bank never saw a record; gated by the verified attestation"
    )


STEPS = [
    step_departments_ingest_sandbox_datasets,
    step_start_three_department_nodes,
    step_private_aggregate_over_the_market_register,
    step_differencing_attempt_is_refused_for_budget,
    step_federated_logistic_regression_across_three_nodes,
    step_encrypted_cross_department_sum,
    step_encrypted_credit_scoring_for_the_bank,
]
