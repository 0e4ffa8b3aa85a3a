"""The generic client on both backends: nonces under threads, pipelining, reverts, fees, time, events."""

from __future__ import annotations

import threading

import pytest
from ledger_support import World, h

import ledger
from ledger import ShareType, TxRequest
from ledger.errors import TransactionRejected, revert_class
from ledger.ids import org_id


def test_concurrent_senders_share_one_nonce_sequence(w: World) -> None:
    """Threads sending as one signer never reuse or skip a nonce; every transaction is mined."""
    start = w.chain.nonce(w.operator.address)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for size in range(1, 6):
                w.dep.anchor.anchor(w.operator, h(f"log-{index}"), size, h("root"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert w.chain.nonce(w.operator.address, "latest") == start + 20
    assert all(w.dep.anchor.checkpoint_count(h(f"log-{i}")) == 5 for i in range(4))


def test_send_many_keeps_order_and_decodes_events(w: World) -> None:
    """Pipelined results come back in request order with receipts and decoded events."""
    requests = [w.dep.anchor.prepare_anchor(h("log"), size, h(f"root-{size}")) for size in range(1, 11)]
    results = w.chain.send_many(w.operator, requests, batch_size=4)
    assert [r.ok for r in results] == [True] * 10
    sequences = [r.unwrap().event("CheckpointAnchored")["sequence"] for r in results]
    assert sequences == list(range(10))
    assert all(r.request is q for r, q in zip(results, requests, strict=True))


def test_send_many_skips_a_call_whose_estimate_reverts(w: World) -> None:
    """A request that reverts at estimation is not sent; its result carries the typed error."""
    start = w.chain.nonce(w.operator.address)
    requests = [
        w.dep.anchor.prepare_anchor(h("log"), 1, h("root")),
        w.dep.anchor.prepare_anchor(h("log"), 0, h("root")),
        w.dep.anchor.prepare_anchor(h("log"), 2, h("root")),
    ]
    results = w.chain.send_many(w.operator, requests)
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert isinstance(error, revert_class("AuditAnchorTreeSizeNotGrowing"))
    assert error.arguments == {"logId": h("log"), "previousSize": 0, "newSize": 0}
    assert results[1].tx_hash is None
    assert w.chain.nonce(w.operator.address, "latest") == start + 2


def test_mined_revert_is_explained(w: World) -> None:
    """A transaction that passes estimation but reverts when mined comes back typed, with its hash."""
    requests = [w.dep.anchor.prepare_anchor(h("log"), 5, h("root")) for _ in range(2)]
    results = w.chain.send_many(w.operator, requests)
    assert results[0].ok
    failed = results[1]
    assert failed.receipt is not None and not failed.receipt.status
    assert isinstance(failed.error, revert_class("AuditAnchorTreeSizeNotGrowing"))
    assert failed.error.arguments == {"logId": h("log"), "previousSize": 5, "newSize": 5}
    assert failed.error.tx_hash == failed.tx_hash
    with pytest.raises(revert_class("AuditAnchorTreeSizeNotGrowing")):
        failed.unwrap()


def test_send_with_explicit_gas_raises_the_mined_revert(w: World) -> None:
    """With a fixed gas limit nothing is estimated; the mined revert is raised with its hash."""
    w.dep.anchor.anchor(w.operator, h("log"), 3, h("root"))
    with pytest.raises(revert_class("AuditAnchorTreeSizeNotGrowing")) as caught:
        w.chain.send(w.operator, w.dep.anchor.prepare_anchor(h("log"), 2, h("root"), gas=200_000))
    assert caught.value.tx_hash is not None
    assert caught.value.arguments["previousSize"] == 3


def test_refused_transaction_leaves_no_gap(w: World) -> None:
    """A transaction the node refuses gets a filler at its nonce, so later ones are still mined."""
    start = w.chain.nonce(w.operator.address)
    requests = [
        w.dep.anchor.prepare_anchor(h("log"), 1, h("root")),
        TxRequest(to=w.operator.address, data=b"", gas=w.chain.block_gas_limit + 1, label="too big"),
        w.dep.anchor.prepare_anchor(h("log"), 2, h("root")),
    ]
    results = w.chain.send_many(w.operator, requests)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, TransactionRejected)
    assert results[1].error.code == "ledger.tx_rejected"
    assert w.chain.nonce(w.operator.address, "latest") == start + 3


def test_refused_single_send_does_not_burn_the_nonce(w: World) -> None:
    """A refused send raises TransactionRejected and the next send reuses the nonce."""
    start = w.chain.nonce(w.operator.address)
    with pytest.raises(TransactionRejected):
        w.chain.send(w.operator, TxRequest(to=w.operator.address, data=b"", gas=w.chain.block_gas_limit + 1))
    w.dep.anchor.anchor(w.operator, h("log"), 1, h("root"))
    assert w.chain.nonce(w.operator.address, "latest") == start + 1


def test_unfunded_signer_is_rejected(w: World) -> None:
    """A signer without funds on a priced chain is refused with the node's reason."""
    poor = ledger.Signer.generate()
    with pytest.raises(TransactionRejected) as caught:
        w.chain.send(poor, TxRequest(to=poor.address, data=b"", gas=21_000))
    assert "insufficient funds" in str(caught.value).lower()


def test_advance_time_moves_the_chain_clock(w: World) -> None:
    """advance_time mines a block at least that many seconds later."""
    before = w.chain.timestamp()
    after = w.chain.advance_time(3 * 3600)
    assert after >= before + 3 * 3600
    assert w.chain.timestamp() == after


def test_snapshot_and_revert(w: World) -> None:
    """Reverting to a snapshot undoes transactions and the client re-reads nonces."""
    snapshot = w.chain.snapshot()
    w.dep.anchor.anchor(w.operator, h("log-snap"), 1, h("root"))
    assert w.dep.anchor.checkpoint_count(h("log-snap")) == 1
    w.chain.revert_to(snapshot)
    assert w.dep.anchor.checkpoint_count(h("log-snap")) == 0
    w.dep.anchor.anchor(w.operator, h("log-snap"), 1, h("root"))
    assert w.dep.anchor.checkpoint_count(h("log-snap")) == 1


def test_events_are_typed_ordered_and_chunk_independent(w: World) -> None:
    """Event reading decodes enums and addresses, keeps chain order, and does not depend on chunking."""
    start = w.chain.block_number() + 1
    rid = ledger.ids.resource_id("r-1")
    w.dep.catalog.register(w.dept, rid, ShareType.CONDITIONAL, ledger.OpenType.OPEN, h("m"), h("s"))
    w.dep.anchor.anchor(w.operator, h("log"), 1, h("root"))
    events = w.dep.events(start)
    assert [e.name for e in events] == [
        "ResourceRegistered",
        "ResourceVersionPublished",
        "CheckpointAnchored",
    ]
    assert events[0].contract == "DataCatalog"
    assert events[0]["shareType"] is ShareType.CONDITIONAL
    assert events[0]["providerOrgId"] == org_id("dept")
    assert events[2]["operator"] == w.operator.address
    keys = [(e.block_number, e.log_index) for e in events]
    assert keys == sorted(keys)
    assert w.dep.events(start, chunk_size=1) == events
    assert [e.name for e in w.dep.events(start, names=["CheckpointAnchored"])] == ["CheckpointAnchored"]
    with pytest.raises(KeyError):
        w.dep.events(start, names=["NoSuchEvent"])


def test_deployment_events_start_at_the_deploy_block(w: World) -> None:
    """Reading from the manifest's deploy block sees the bootstrap admission."""
    names = [e.name for e in w.dep.events(names=["MemberAdmitted"])]
    assert names[:2] == ["MemberAdmitted", "MemberAdmitted"]


def test_views_return_dataclasses(w: World) -> None:
    """Facade views turn structs into frozen dataclasses with enums."""
    member = w.dep.consortium.member_of(w.dept.address)
    assert member.org_id == org_id("dept")
    assert member.is_active
    with pytest.raises(AttributeError):
        member.org_id = b""  # type: ignore[misc]


@pytest.mark.anvil
def test_zero_base_fee_chain_sends_for_free() -> None:
    """On a chain whose base fee is 0 (Besu zeroBaseFee), fees are 0 and an unfunded key can send."""
    with ledger.connect("anvil", anvil_args=("--block-base-fee-per-gas", "0")) as chain:
        assert chain.fees() == (0, 0)
        signer = ledger.Signer.generate()
        receipt = chain.send(signer, TxRequest(to=signer.address, data=b"", gas=21_000))
        assert receipt.status
        assert chain.balance(signer.address) == 0
