"""Three department nodes as their own `tdex node serve` processes on loopback, over a local Anvil chain.

Federated training, encrypted sums and encrypted scoring go over HTTP between real processes; one
node is killed mid-round and the round is recovered; a grant revoked mid-training stops it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from node_support import World, build_world, deadline, digest, job_id, split_credit

import ledger
import sandbox as sb
from keys import Keystore, OrgKeys
from ledger.ids import org_id
from sandbox import node as sn
from sandbox.errors import PrivateContext
from sandbox.node.errors import GrantRevoked
from tdex.demo.cast import Member
from tdex.node_process import read_ready_line

pytestmark = pytest.mark.anvil

DEPTS = ("dept-a", "dept-b", "dept-c")
FL = ("fl.moments", "fl.local_update", "he.encrypted_sum", "he.encrypted_scores")
PASSPHRASE = "node-suite-passphrase"


@dataclass
class Node:
    """One running node process and what the test needs of it."""

    org: str
    keys: OrgKeys
    code: str
    table: sb.Table
    process: subprocess.Popen[bytes]
    client: sn.NodeClient


@dataclass
class Federation:
    """The chain, the three nodes and the held-out test set."""

    world: World
    nodes: dict[str, Node]
    test: sb.Table


def _start(
    org: str, folder: Path, world: World, keyroot: Path, manifest: Path, members: Path
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TDEX_KEYSTORE_PASSPHRASE=PASSPHRASE)
    command = [
        sys.executable, "-m", "tdex", "node", "serve", "--org", org, "--port", "0",
        "--data-dir", str(folder), "--rpc", world.chain.name, "--manifest", str(manifest),
        "--members", str(members), "--dir", str(keyroot), "--kdf-profile", "fast-test",
    ]  # fmt: skip
    with open(folder / "stderr.log", "wb") as log:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=env)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """Anvil, the cast plus three departments with keystores, each department's node as a process."""
    root = tmp_path_factory.mktemp("federation")
    with ledger.connect("anvil") as chain:
        world = build_world(chain.name, root)
        store = Keystore(root / "keys", kdf_profile="fast-test")
        tables, test = split_credit(4500, 3, seed=21)
        manifest = root / "manifest.json"
        manifest.write_text(json.dumps(world.deployment.manifest.to_json()))
        dept_keys = {}
        for k, org in enumerate(DEPTS):
            keys = store.create(org, PASSPHRASE, uscc=sb.make_uscc("1", "1", "330100", f"0000010{k}"))
            world.chain.fund(keys.account_address)
            world.deployment.consortium.propose_admission(
                world.cast["bureau"].signer,
                org_id(keys.uscc or ""),
                keys.account_address,
                ledger.Role.DEPARTMENT,
            )
            world.cast[org] = Member(org, org, keys.uscc or "", ledger.Role.DEPARTMENT, 0, keys)
            dept_keys[org] = keys
        members = root / "members.json"
        members.write_text(json.dumps(world.directory().to_json()))
        started: dict[str, Node] = {}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for org, table in zip(dept_keys, tables, strict=True):
                code = f"330100-{org.upper()}/00001"
                world.resource(org, code, table, k=10)
                world.ingest(code, root / org)
                # Started together: each process spends most of its start-up importing.
                processes[org] = _start(org, root / org, world, root / "keys", manifest, members)
            for org, process in processes.items():
                url = read_ready_line(process, 90.0, f"node {org}")
                code = f"330100-{org.upper()}/00001"
                client = sn.NodeClient(url, name=org)
                started[org] = Node(org, dept_keys[org], code, world.resources[code].table, process, client)
            yield Federation(world, started, test)
        finally:
            for node in started.values():
                node.client.close()
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=15)
                assert process.stdout is not None
                process.stdout.close()
            world.chain.close()


def _grants(fed: Federation, requester: str = "bank") -> dict[str, int]:
    return {org: fed.world.grant(requester, n.code, FL, uses=5, epsilon=5.0) for org, n in fed.nodes.items()}


def _sign(
    fed: Federation, requester: str, node: Node, grant: int, template: str, **kw: object
) -> dict[str, object]:
    payload = sn.job_payload(
        job_id=job_id(template), node=node.org, grant_id=grant, resource_code=node.code,
        template=digest(template), not_after=deadline(), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return fed.world.cast[requester].keys.sign_document(payload)


def _train(
    fed: Federation, grants: dict[str, int], plan: sb.TrainingPlan, dropout: object = None
) -> tuple[sn.HttpFederatedCoordinator, sb.FederatedModel, dict[str, dict[str, object]]]:
    spec = sn.FederatedSpec(tuple(sorted(fed.nodes)), digest("fl.moments"), plan)
    handles = []
    for org, node in fed.nodes.items():
        job = _sign(fed, "bank", node, grants[org], "fl.local_update", params={}, federated=spec)
        session = node.client.open_session(job)
        handles.append(sn.HttpNodeHandle(org, node.client, session["session"]))
    coordinator = sn.HttpFederatedCoordinator(
        handles,
        moments_template=digest("fl.moments"),
        update_template=digest("fl.local_update"),
        dropout=dropout,  # type: ignore[arg-type]
    )
    model, receipts = coordinator.train_and_finish(plan)
    return coordinator, model, receipts


def test_an_encrypted_sum_across_three_nodes_decrypts_to_the_total(federation: Federation) -> None:
    """Each node encrypts its sums under the bank's public context; only the bank decrypts the total."""
    grants = _grants(federation)
    ctx = sb.create_context()
    public = sb.public_context_bytes(ctx)
    parts = []
    for org, node in federation.nodes.items():
        ref = node.client.put_blob(public, kind="he-context")
        job = _sign(federation, "bank", node, grants[org], "he.encrypted_sum",
                    params={"items": ["employees", "arrears_months"]}, inputs={"context": ref})  # fmt: skip
        result = node.client.run_job(job)
        assert result.ciphertexts is not None and result.sealed_output is None
        payload = sn.verify_receipt(result.receipt, node.keys.identity)
        assert payload["he_context_digest"] == ref and payload["chain_use"]["uses_left"] == 4
        parts.append(list(result.ciphertexts.blobs))
    total = sb.decrypt_values(ctx, sb.add_ciphertexts(sb.load_public_context(public), parts), 3)
    truth = [
        sum(float(n.table.numeric(i).sum()) for n in federation.nodes.values())
        for i in ("employees", "arrears_months")
    ]
    assert np.allclose(total[:2], truth, rtol=1e-6)
    assert total[2] == pytest.approx(sum(len(n.table) for n in federation.nodes.values()), abs=1e-3)


def test_a_private_context_is_refused_by_a_node_process(federation: Federation) -> None:
    """A context that still holds its secret key never enters a node's blob store."""
    node = federation.nodes["dept-a"]
    secret = sb.create_context().serialize(save_secret_key=True)
    with pytest.raises(PrivateContext) as caught:
        node.client.put_blob(secret, kind="he-context")
    assert caught.value.code == "sandbox.private_context"


def test_encrypted_scoring_matches_the_plaintext_scores(federation: Federation) -> None:
    """The bank's encrypted model scores named firms; the bank decrypts, the node never saw the weights."""
    grants = _grants(federation)
    node = federation.nodes["dept-a"]
    ctx = sb.create_context()
    public = sb.public_context_bytes(ctx)
    rng = np.random.default_rng(2)
    weights, bias = rng.normal(0, 0.1, len(sb.CREDIT_FEATURES)), -0.5
    model = sb.encrypt_model(ctx, weights, bias)
    refs = tuple(node.client.put_blob(b) for b in model.blobs)
    subjects = [str(s) for s in node.table.column("uscc")[:300]]
    params = {"features": list(sb.CREDIT_FEATURES), "subject_item": "uscc", "subjects": subjects}
    inputs = {"context": node.client.put_blob(public, kind="he-context"), "weights": refs}
    job = _sign(
        federation, "bank", node, grants["dept-a"], "he.encrypted_scores", params=params, inputs=inputs
    )
    result = node.client.run_job(job)
    assert result.ciphertexts is not None
    scores = sb.decrypt_scores(ctx, list(result.ciphertexts.blobs), len(subjects))
    x = np.column_stack([node.table.numeric(f)[:300] for f in sb.CREDIT_FEATURES])
    assert np.max(np.abs(scores - (x @ weights + bias))) < 1e-3


def test_a_grant_revoked_mid_training_stops_it(federation: Federation) -> None:
    """Revoking one department's grant during round 2 stops the training at that node's next check."""
    grants = _grants(federation)
    world = federation.world
    revoked = []

    def revoke_in_round_two(round_index: int, phase: str, node_id: str) -> bool:
        if round_index == 2 and phase == "share_keys" and node_id == "dept-a" and not revoked:
            world.deployment.grants.revoke(world.cast["dept-a"].signer, grants["dept-a"], b"\x07" * 32)
            revoked.append(node_id)
        return False

    plan = sb.TrainingPlan("logistic", sb.CREDIT_FEATURES, "defaulted", rounds=6, local_epochs=3)
    with pytest.raises(GrantRevoked) as caught:
        _train(federation, grants, plan, revoke_in_round_two)
    assert caught.value.code == "sandbox.node.grant_revoked" and caught.value.grant_id == grants["dept-a"]
    (receipt,) = [
        r for r in federation.nodes["dept-a"].client.receipts(limit=1000)
        if r["payload"]["grant_id"] == grants["dept-a"]
    ]  # fmt: skip
    payload = sn.verify_receipt(receipt, federation.nodes["dept-a"].keys.identity)
    assert payload["outcome"] == "failed" and payload["error_code"] == "sandbox.node.grant_revoked"
    assert payload["chain_use"] is None
    assert world.deployment.grants.grant(grants["dept-b"]).uses_left == 4  # the others' uses are recorded


def test_a_node_killed_mid_round_is_recovered_and_training_completes(federation: Federation) -> None:
    """dept-c's process dies after sharing its keys in round 3; its masks are unmasked from shares."""
    grants = _grants(federation)
    victim = federation.nodes["dept-c"]

    def kill_in_round_three(round_index: int, phase: str, node_id: str) -> bool:
        if (
            round_index == 3
            and phase == "masked_input"
            and node_id == "dept-c"
            and victim.process.poll() is None
        ):
            victim.process.kill()
            victim.process.wait(timeout=10)
        return False  # the coordinator still calls it and finds nobody answering

    plan = sb.TrainingPlan("logistic", sb.CREDIT_FEATURES, "defaulted", rounds=15, local_epochs=5)
    coordinator, model, receipts = _train(federation, grants, plan, kill_in_round_three)
    assert coordinator.dropped == {"dept-c"}
    # survivors[r - 1] is update round r: all three in round 2, two from round 3 on.
    assert model.survivors[1] == ("dept-a", "dept-b", "dept-c") and model.survivors[2] == ("dept-a", "dept-b")
    assert set(receipts) == {"dept-a", "dept-b"}
    sn.check_receipts(receipts, {org: federation.nodes[org].keys.identity for org in receipts})
    chain = federation.world.deployment.grants
    assert chain.grant(grants["dept-a"]).uses_left == 4 and chain.grant(grants["dept-c"]).uses_left == 5
    test = federation.test
    x = np.column_stack([test.numeric(f) for f in sb.CREDIT_FEATURES])
    y = test.numeric("defaulted")
    fl_accuracy = float((model.predict(x) == y).mean())
    baseline = float(max(y.mean(), 1 - y.mean()))
    assert fl_accuracy >= baseline  # learned something beyond the majority class
