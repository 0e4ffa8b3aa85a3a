"""The node checks every grant on chain itself, records each use, and releases only what the grant allows."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from node_support import World, deadline, digest, sign_job

from keys import OrgKeys
from sandbox import node as sn
from sandbox.errors import BudgetExceeded, GroupTooSmall, RowsRequested, TemplateNotAllowed, TemplateUnknown
from sandbox.node.errors import (
    GrantExhausted,
    GrantExpired,
    GrantRevoked,
    JobRejected,
    JobReplayed,
    ReceiptInvalid,
    UnknownRequester,
    WrongRequester,
)
from tdex.node_chain import LedgerGrantChecker

AGGREGATES = ("agg.count", "agg.mean", "agg.group_by")
CODE = "330100-MKT/10001"


def _mean_job(world: World, grant: int, **kw: object) -> dict[str, object]:
    return sign_job(
        world,
        "logistics",
        "market",
        grant,
        CODE,
        "agg.mean",
        params={"item": "employees", "epsilon": 0.5},
        **kw,
    )


def test_a_granted_aggregate_runs_is_recorded_on_chain_and_receipted(
    world: World, market: sn.NodeClient
) -> None:
    """The node consumes one use and the ε spent on chain, signs a receipt, and seals the result."""
    grant = world.grant("logistics", CODE, AGGREGATES, uses=3, epsilon=2.0)
    job = _mean_job(world, grant)
    result = market.run_job(job)
    receipt = sn.verify_receipt(result.receipt, world.cast["market"].keys.identity)
    on_chain = world.deployment.grants.grant(grant)
    assert (on_chain.uses_left, on_chain.budget_left) == (2, 1_500_000)
    assert receipt["chain_use"]["uses_left"] == 2 and receipt["privacy"]["budget_spent_micro"] == 500_000
    assert receipt["template_digest"] == digest("agg.mean")
    assert receipt["requester"]["org"] == "logistics" and receipt["outcome"] == "completed"
    opened = sn.open_output(result, world.cast["logistics"].keys, job["payload"]["job_id"])  # type: ignore[index]
    assert 0 <= opened["output"]["mean"] <= 5000  # clamped to the item's declared bounds
    assert market.receipts(job_id=job["payload"]["job_id"]) == [result.receipt]  # type: ignore[index]


def test_an_expired_grant_is_refused_before_anything_runs(world: World, market: sn.NodeClient) -> None:
    """Past its expiry by the chain's clock the grant is refused and nothing is consumed."""
    grant = world.grant("logistics", CODE, AGGREGATES, days=1)
    world.chain.advance_time(2 * 86_400)
    with pytest.raises(GrantExpired) as caught:
        market.run_job(_mean_job(world, grant))
    assert caught.value.code == "sandbox.node.grant_expired" and caught.value.grant_id == grant
    assert world.deployment.grants.grant(grant).uses_left == 10


def test_a_revoked_grant_is_refused(world: World, market: sn.NodeClient) -> None:
    """A grant its provider revoked on chain no longer runs anything."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    world.deployment.grants.revoke(world.cast["market"].signer, grant, b"\x09" * 32)
    with pytest.raises(GrantRevoked) as caught:
        market.run_job(_mean_job(world, grant))
    assert caught.value.code == "sandbox.node.grant_revoked"


def test_an_exhausted_grant_is_refused(world: World, market: sn.NodeClient) -> None:
    """Once its uses are spent a grant is refused, with the number of uses it had."""
    grant = world.grant("logistics", CODE, AGGREGATES, uses=1)
    market.run_job(_mean_job(world, grant))
    with pytest.raises(GrantExhausted) as caught:
        market.run_job(_mean_job(world, grant))
    assert caught.value.code == "sandbox.node.grant_exhausted" and caught.value.max_uses == 1


def test_a_template_the_grant_does_not_pin_is_refused(world: World, market: sn.NodeClient) -> None:
    """A registered template whose digest the grant does not list is refused."""
    grant = world.grant("logistics", CODE, ("agg.count",))
    with pytest.raises(TemplateNotAllowed) as caught:
        market.run_job(_mean_job(world, grant))
    assert caught.value.code == "sandbox.template_not_allowed" and caught.value.digest == digest("agg.mean")


def test_an_unregistered_template_is_refused(world: World, market: sn.NodeClient) -> None:
    """A digest no template has (user code, a changed template) never runs."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    payload = sn.job_payload(
        job_id="unregistered-1",
        node="market",
        grant_id=grant,
        resource_code=CODE,
        template="sha256:" + "ab" * 32,
        params={},
        not_after=deadline(),
    )
    with pytest.raises(TemplateUnknown) as caught:
        market.run_job(world.cast["logistics"].keys.sign_document(payload))
    assert caught.value.code == "sandbox.template_unknown"


def test_another_organisation_cannot_use_the_grant(world: World, market: sn.NodeClient) -> None:
    """The bank signing a job under the logistics firm's grant is refused: the grant names its grantee."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    job = sign_job(world, "bank", "market", grant, CODE, "agg.count", params={"epsilon": 0.1})
    with pytest.raises(WrongRequester) as caught:
        market.run_job(job)
    assert caught.value.code == "sandbox.node.wrong_requester" and caught.value.requester == "bank"


def test_a_signer_outside_the_directory_is_refused(world: World, market: sn.NodeClient) -> None:
    """A job signed by a key the node does not know is refused before the chain is asked."""
    stranger = OrgKeys.generate("stranger", uscc="91330100MA0000023P")
    payload = sn.job_payload(
        job_id="stranger-1",
        node="market",
        grant_id=1,
        resource_code=CODE,
        template=digest("agg.count"),
        params={"epsilon": 0.1},
        not_after=deadline(),
    )
    with pytest.raises(UnknownRequester) as caught:
        market.run_job(stranger.sign_document(payload))
    assert caught.value.code == "sandbox.node.unknown_requester"


def test_a_job_runs_once_and_only_on_its_node(world: World, market: sn.NodeClient) -> None:
    """Replaying a signed job is refused, and so is a job addressed to another node."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    job = _mean_job(world, grant)
    market.run_job(job)
    with pytest.raises(JobReplayed) as replayed:
        market.run_job(job)
    assert replayed.value.code == "sandbox.node.job_replayed"
    elsewhere = sign_job(world, "logistics", "tax", grant, CODE, "agg.count", params={"epsilon": 0.1})
    with pytest.raises(JobRejected) as rejected:
        market.run_job(elsewhere)
    assert rejected.value.code == "sandbox.node.job_rejected" and "addressed to node 'tax'" in str(
        rejected.value
    )


def test_a_tampered_job_is_refused(world: World, market: sn.NodeClient) -> None:
    """Changing a signed job's parameters breaks its signature."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    job = _mean_job(world, grant)
    job["payload"]["params"]["epsilon"] = 0.001  # type: ignore[index]
    with pytest.raises(JobRejected) as caught:
        market.run_job(job)
    assert caught.value.code == "sandbox.node.job_rejected"


def test_a_differencing_attack_is_refused_for_budget(world: World, market: sn.NodeClient) -> None:
    """Two counts that differ by one firm cannot both run: the second exceeds the grant's ε."""
    grant = world.grant("logistics", CODE, AGGREGATES, epsilon=1.0)
    firm = str(world.resources[CODE].table.column("uscc")[0])
    all_firms = {"epsilon": 0.6, "where": [["district", "eq", "Gulou"]]}
    all_but_one = {"epsilon": 0.6, "where": [["district", "eq", "Gulou"], ["uscc", "ne", firm]]}
    market.run_job(sign_job(world, "logistics", "market", grant, CODE, "agg.count", params=all_firms))
    with pytest.raises(BudgetExceeded) as caught:
        market.run_job(sign_job(world, "logistics", "market", grant, CODE, "agg.count", params=all_but_one))
    assert caught.value.code == "sandbox.budget_exceeded"
    on_chain = world.deployment.grants.grant(grant)
    assert (on_chain.uses_left, on_chain.budget_left) == (9, 400_000)


def test_a_group_below_k_is_refused_but_charged_and_receipted(world: World, market: sn.NodeClient) -> None:
    """A selection under k raises GroupTooSmall; the ε stays spent on chain and a failed receipt is signed."""
    grant = world.grant("logistics", CODE, AGGREGATES, epsilon=1.0)
    firm = str(world.resources[CODE].table.column("uscc")[0])
    one_firm = {"epsilon": 0.3, "where": [["uscc", "eq", firm]]}
    job = sign_job(world, "logistics", "market", grant, CODE, "agg.count", params=one_firm)
    with pytest.raises(GroupTooSmall) as caught:
        market.run_job(job)
    assert caught.value.code == "sandbox.group_too_small" and caught.value.minimum == 10
    assert world.deployment.grants.grant(grant).budget_left == 700_000
    (receipt,) = market.receipts(job_id=job["payload"]["job_id"])  # type: ignore[index]
    payload = sn.verify_receipt(receipt, world.cast["market"].keys.identity)
    assert payload["outcome"] == "failed" and payload["error_code"] == "sandbox.group_too_small"
    assert payload["output_digest"] is None


def test_rows_never_leave_the_node(world: World, market: sn.NodeClient) -> None:
    """Grouping by an identifier is refused, there is no route to rows, and listings carry no values."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    per_firm = {"by": ["uscc"], "metric": "count", "epsilon": 0.1}
    with pytest.raises(RowsRequested) as caught:
        market.run_job(sign_job(world, "logistics", "market", grant, CODE, "agg.group_by", params=per_firm))
    assert caught.value.code == "sandbox.rows_requested"
    for path in ("/rows", f"/datasets/{CODE}/rows", "/datasets/rows"):
        assert market.request("HEAD", path).status_code in (404, 405)
    listing = json.dumps(market.describe()) + json.dumps(market.request("GET", "/datasets").json())
    firms = world.resources[CODE].table.column("uscc")
    assert not any(str(f) in listing for f in firms[:50])


def test_budget_and_seen_jobs_survive_a_restart(world: World, market_dir: Path) -> None:
    """A new node process on the same folder keeps the spent budget and refuses replays."""
    grant = world.grant("logistics", CODE, AGGREGATES, epsilon=1.0)
    first = world.service("market", market_dir)
    job = _mean_job(world, grant)
    first.run_job(job)
    saved = json.loads((market_dir / "budgets" / f"grant-{grant}.json").read_text())
    assert saved["kind"] == "tdex.sandbox.budget" and saved["ledger"][0]["epsilon"] == 0.5
    second = world.service("market", market_dir)
    with pytest.raises(JobReplayed):
        second.run_job(job)
    too_much = sign_job(world, "logistics", "market", grant, CODE, "agg.count", params={"epsilon": 0.6})
    with pytest.raises(BudgetExceeded):
        second.run_job(too_much)


def test_a_tampered_receipt_is_rejected(world: World, market: sn.NodeClient) -> None:
    """Changing any receipt field, or checking it against another organisation, fails verification."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    receipt = market.run_job(_mean_job(world, grant)).receipt
    market_identity = world.cast["market"].keys.identity
    sn.verify_receipt(receipt, market_identity)
    changed = copy.deepcopy(receipt)
    changed["payload"]["privacy"]["budget_spent_micro"] = 0
    with pytest.raises(ReceiptInvalid) as caught:
        sn.verify_receipt(changed, market_identity)
    assert caught.value.code == "sandbox.node.receipt_invalid"
    with pytest.raises(ReceiptInvalid):
        sn.verify_receipt(receipt, world.cast["tax"].keys.identity)
    forged = world.cast["tax"].keys.sign_document(receipt["payload"])
    with pytest.raises(ReceiptInvalid):
        sn.verify_receipt(forged, market_identity)
    not_a_receipt = world.cast["market"].keys.sign_document({"kind": "tdex.other", "version": 1})
    with pytest.raises(ReceiptInvalid):
        sn.verify_receipt(not_a_receipt, market_identity)


def test_a_grant_revoked_between_check_and_record_releases_nothing(world: World, market_dir: Path) -> None:
    """If the chain refuses the use after the run, the result is withheld and a failed receipt is kept."""
    grant = world.grant("logistics", CODE, AGGREGATES)
    market = world.cast["market"]

    class RevokingChecker(LedgerGrantChecker):
        def record_use(self, grant_id: int, template_digest: str, budget_spent: int) -> sn.UseRecord:
            world.deployment.grants.revoke(market.signer, grant_id, b"\x05" * 32)
            return super().record_use(grant_id, template_digest, budget_spent)

    service = sn.NodeService(
        market.keys, market_dir, RevokingChecker(world.deployment, market.signer), world.directory()
    )
    job = _mean_job(world, grant)
    with pytest.raises(GrantRevoked):
        service.run_job(job)
    (receipt,) = service.receipts.list(job_id=job["payload"]["job_id"])  # type: ignore[index]
    payload = sn.verify_receipt(receipt, market.keys.identity)
    assert payload["outcome"] == "failed" and payload["error_code"] == "sandbox.node.grant_revoked"
    assert payload["chain_use"] is None and payload["output_digest"] is None
