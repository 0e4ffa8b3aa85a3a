"""Jobs end to end: the exchange anchors the catalogue and the grants on the contracts, the departments'
nodes check those grants on chain themselves, and the exchange coordinates a federated job and an
encrypted sum whose results only the bank can open.

Everything runs in this process: eth-tester for the chain, the exchange app, and the three nodes
behind `sandbox.node.ASGITransport` (separate node processes are tested in `tests/sandbox/node`).
"""

from __future__ import annotations

import base64
import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest

import ledger
import sandbox as sb
from exchange_api.app import create_app
from exchange_api.client import ExchangeClient
from exchange_api.core.config import Settings
from exchange_api.ledger_writer import LedgerWriter
from exchange_api.routes import jobs as job_routes
from exchange_api.services.job_runner import JobRunner
from ledger.ids import org_id
from sandbox import node as sn
from tdex.demo.cast import Member, make_cast
from tdex.node_chain import LedgerGrantChecker, verify_catalogue_binding

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

DEPTS = ("market", "tax", "hrss")
REGISTRY = sb.default_registry()
TEMPLATES = ("fl.moments", "fl.local_update", "he.encrypted_sum")
_TYPES = {"int": "integer", "float": "decimal", "bool": "boolean", "string": "string", "category": "string"}


def _hex(name: str) -> str:
    return "0x" + REGISTRY.digest_of(name).removeprefix("sha256:")


def _entry(code: str, schema: sb.Schema) -> dict[str, Any]:
    return {
        "code": code,
        "classification": {"category": code[0], "item": code[1:3], "catalog": code[3:6]},
        "name": "企业信用风险样本",
        "summary": "本部门监管企业的信用风险样本：规模、经营、纳税、社保与违约标签。",
        "format": "database",
        "items": [{"name": i.name, "data_type": _TYPES[i.type]} for i in schema.items],
        "share_type": "conditional",
        "share_conditions": "仅限沙箱内联合建模与密文计算",
        "share_methods": ["interface"],
        "open_type": "not_open",
        "update_cycle": "monthly",
        "release_date": "2026-01-01",
        "data_grade": "general",
        "related_codes": [],
    }


@dataclass
class Federation:
    """The exchange, its members' clients, the runner, the grants and what the test checks against."""

    cast: dict[str, Member]
    clients: dict[str, ExchangeClient]
    runner: JobRunner
    deployment: ledger.Deployment
    codes: dict[str, str]
    grants: dict[str, str]
    tables: dict[str, sb.Table]
    test: sb.Table
    nodes: dict[str, sn.NodeClient]


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Three departments' resources anchored by the exchange, granted to the bank, each with its node."""
    root = tmp_path_factory.mktemp("jobs-e2e")
    cast = make_cast()
    with ledger.connect("eth-tester") as chain:
        chain.fund([m.keys.account_address for m in cast.values()])
        bureau = cast["bureau"]
        admin = ledger.Admin(org_id(bureau.uscc), bureau.keys.account_address, int(bureau.capabilities))
        deployment = ledger.deploy(chain, bureau.signer, [admin])
        by_org: dict[str, ledger.Signer] = {}
        settings = Settings(
            mode="test",
            database_url=f"sqlite:///{root}/exchange.db",
            bureau_name=bureau.name,
            bureau_uscc=bureau.uscc,
            bureau_public_key=bureau.keys.signer.verify_key.did,
            relay_interval_s=0.01,
        )
        app = create_app(settings, writer=LedgerWriter(deployment, by_org.get), run_relay=False)
        if not any(getattr(r, "path", "") == "/jobs" for r in app.routes):
            app.include_router(job_routes.router)
        with TestClient(app, base_url="http://testserver") as http:
            relay = app.state.relay
            clients = {h: ExchangeClient("http://testserver", cast[h].keys, http=http) for h in cast}
            by_org[clients["bureau"].me()["id"]] = bureau.signer
            for h in (*DEPTS, "bank"):
                m = cast[h]
                did = m.keys.signer.verify_key.did
                admitted = {"name": m.name, "uscc": m.uscc, "role": m.role.name, "public_keys": [did]}
                org = clients["bureau"].admit({**admitted, "chain_account": m.keys.account_address})
                by_org[org["id"]] = m.signer
            assert relay.drain().failed == 0
            full = sb.credit_table(4800, seed=31)
            tables = {d: _take(full, np.arange(k, 3600, 3)) for k, d in enumerate(DEPTS)}
            codes = {d: f"30100{k + 1}/000001" for k, d in enumerate(DEPTS)}
            services: dict[str, sn.NodeService] = {}
            directory = sn.Directory([m.keys.identity for m in cast.values()])
            for d in DEPTS:
                clients[d].register(_entry(codes[d], tables[d].schema))
                assert relay.drain().failed == 0
                doc = clients[d].call("GET", f"/catalog/resources/{codes[d]}/versions/1")
                verify_catalogue_binding(deployment, sn.entry_binding(doc))  # the exchange anchored this
                source = root / f"{d}.parquet"
                sn.write_source(tables[d], source)
                policy = sn.policy_for_schema(tables[d].schema, 10)
                sn.ingest(sn.DatasetStore(root / d), source, doc, policy, cast[d].keys.encryption.public_key)
                checker = LedgerGrantChecker(deployment, cast[d].signer)
                services[d] = sn.NodeService(cast[d].keys, root / d, checker, directory)
                clients[d].call("PUT", "/sandbox/nodes/me", json_body={"node": d, "url": f"http://{d}.node"})
            grants = {}
            for d in DEPTS:
                applied = clients["bank"].apply({
                    "resource_code": codes[d], "purpose": "信易贷：联合建模与密文汇总",
                    "requested_items": ["employees"], "templates": [_hex(t) for t in TEMPLATES],
                    "computation_kinds": ["federated_training", "he_aggregate"], "duration_days": 30,
                })  # fmt: skip
                assert relay.drain().failed == 0
                decision = {
                    "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat(),
                    "max_uses": 5,
                    "privacy_budget": "1",
                }
                grants[d] = clients[d].approve(applied["id"], decision)["grant_id"]
                assert relay.drain().failed == 0
            apps = {d: sn.create_app(s) for d, s in services.items()}

            def client(url: str, name: str) -> sn.NodeClient:
                # A fresh client per job (the runner closes its clients), in process, no socket.
                return sn.NodeClient(
                    url, name=name, http=httpx.Client(base_url=url, transport=sn.ASGITransport(apps[name]))
                )

            nodes = {d: client(f"http://{d}.node", d) for d in DEPTS}
            runner = JobRunner(app.state.sessions, settings, client_factory=client)
            app.state.job_runner = runner
            test = _take(full, np.arange(3600, 4800))
            yield Federation(cast, clients, runner, deployment, codes, grants, tables, test, nodes)


def _take(table: sb.Table, rows: np.ndarray) -> sb.Table:
    cols: dict[str, Any] = {}
    for item in table.schema.items:
        col = table.column(item.name)[rows]
        cols[item.name] = [item.categories[int(c)] for c in col] if item.type == "category" else col.tolist()
    return sb.Table.from_columns(table.schema, cols)


def _chain_grant(fed: Federation, dept: str) -> int:
    """The chain's id of the bank's grant on `dept`'s resource, found on chain by its resource."""
    grants = fed.deployment.grants
    wanted = ledger.ids.resource_id(fed.codes[dept])
    for gid in range(1, grants.application_count() + 1):
        if grants.application(gid).resource_code == wanted:
            return gid
    raise AssertionError(f"no application on chain for {dept}")


def _signed(fed: Federation, dept: str, template: str, job_id: str, **kw: Any) -> dict[str, Any]:
    payload = sn.job_payload(
        job_id=job_id, node=dept, grant_id=_chain_grant(fed, dept), resource_code=fed.codes[dept],
        template=REGISTRY.digest_of(template), params=kw.pop("params", {}),
        not_after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), **kw,
    )  # fmt: skip
    return fed.cast["bank"].keys.sign_document(payload)


def test_a_federated_job_through_the_exchange_seals_the_model_to_the_bank(federation: Federation) -> None:
    """The exchange coordinates three nodes; each records its use on chain; only the bank opens the model."""
    fed = federation
    plan = sb.TrainingPlan("logistic", sb.CREDIT_FEATURES, "defaulted", rounds=12, local_epochs=5)
    spec = sn.FederatedSpec(DEPTS, REGISTRY.digest_of("fl.moments"), plan)
    parts = [
        {"grant_id": fed.grants[d], "job": _signed(fed, d, "fl.local_update", f"fl-{d}", federated=spec)}
        for d in DEPTS
    ]
    body = {
        "kind": "federated",
        "deadline": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
        "parts": parts,
        "seal_to": fed.cast["bank"].keys.identity.to_json()["x25519"],
    }
    submitted = fed.clients["bank"].post("/jobs", body)
    fed.runner.run_pending()
    job = fed.clients["bank"].call("GET", f"/jobs/{submitted['id']}")
    assert job["state"] == "completed", job["reason"]
    for part, d in zip(job["parts"], DEPTS, strict=True):
        receipt = sn.verify_receipt(part["receipt"], fed.cast[d].keys.identity)
        assert receipt["outcome"] == "completed" and receipt["chain_use"]["uses_left"] == 4
        assert fed.deployment.grants.grant(_chain_grant(fed, d)).uses_left == 4
    result = fed.clients["bank"].call("GET", f"/jobs/{submitted['id']}/result")
    model = sn.open_model(fed.cast["bank"].keys, base64.b64decode(result["sealed"]["model"]), submitted["id"])
    x = np.column_stack([fed.test.numeric(f) for f in sb.CREDIT_FEATURES])
    y = fed.test.numeric("defaulted")
    assert float((model.predict(x) == y).mean()) > max(y.mean(), 1 - y.mean())
    # The accuracy per round is kept in clear next to the sealed model: the same figures as the model's.
    assert result["rounds"] == [r.to_dict() for r in model.rounds]
    assert [(r["round"], r["participants"]) for r in result["rounds"]] == [(n, 3) for n in range(1, 13)]


def test_an_encrypted_sum_through_the_exchange_is_added_without_a_key(federation: Federation) -> None:
    """Nodes encrypt their sums; the exchange adds the ciphertexts; the bank decrypts only the total."""
    fed = federation
    he = sb.create_context()
    public = sb.public_context_bytes(he)
    parts = []
    for d in DEPTS:
        ref = fed.nodes[d].put_blob(public, kind="he-context")
        job = _signed(
            fed, d, "he.encrypted_sum", f"sum-{d}", params={"items": ["employees"]}, inputs={"context": ref}
        )
        parts.append({"grant_id": fed.grants[d], "job": job})
    body = {
        "kind": "he_sum",
        "deadline": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
        "parts": parts,
    }
    submitted = fed.clients["bank"].post("/jobs", body)
    fed.runner.run_pending()
    result = fed.clients["bank"].call("GET", f"/jobs/{submitted['id']}/result")
    blobs = [base64.b64decode(b) for b in result["ciphertexts"]]
    total = sb.decrypt_values(he, blobs, 2)
    truth = sum(float(t.numeric("employees").sum()) for t in fed.tables.values())
    assert total[0] == pytest.approx(truth, rel=1e-6) and total[1] == pytest.approx(3600, abs=1e-3)
