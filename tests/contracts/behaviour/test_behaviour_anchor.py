"""AuditAnchor behaviour through the ledger client: LOG_OPERATOR only, tree size only grows."""

from __future__ import annotations

from behaviour_support import World, expect_revert, h


def test_anchor_emits_and_stores_checkpoints(w: World) -> None:
    """Checkpoints are numbered from 0 per log and readable back."""
    log = h("log-a")
    first = w.anchor.anchor(w.bureau, log, 10, h("root-10"))
    second = w.anchor.anchor(w.bureau, log, 25, h("root-25"))
    assert (first.sequence, second.sequence) == (0, 1)
    event = second.receipt.event("CheckpointAnchored")
    assert event.args == {
        "logId": log,
        "sequence": 1,
        "treeSize": 25,
        "rootHash": h("root-25"),
        "operator": w.bureau.address,
    }
    latest = w.anchor.latest(log)
    assert (latest.sequence, latest.tree_size, latest.root_hash) == (1, 25, h("root-25"))
    assert w.anchor.checkpoint_at(log, 0).tree_size == 10
    assert w.anchor.checkpoint_count(log) == 2


def test_tree_size_only_grows(w: World) -> None:
    """An equal or smaller tree size is refused with the log, the previous and the new size."""
    log = h("log-b")
    w.anchor.anchor(w.bureau, log, 7, h("root-7"))
    for size in (7, 3):
        with expect_revert("AuditAnchorTreeSizeNotGrowing") as caught:
            w.anchor.anchor(w.bureau, log, size, h("root-x"))
        assert caught.value.arguments == {"logId": log, "previousSize": 7, "newSize": size}
    assert w.anchor.checkpoint_count(log) == 1


def test_first_checkpoint_needs_a_non_empty_tree(w: World) -> None:
    """Tree size zero on a new log is not growing from zero."""
    with expect_revert("AuditAnchorTreeSizeNotGrowing") as caught:
        w.anchor.anchor(w.bureau, h("log-c"), 0, h("root"))
    assert caught.value.arguments["previousSize"] == 0


def test_only_log_operators_anchor(w: World) -> None:
    """An admin without LOG_OPERATOR, a department and an outsider get AuditAnchorNotLogOperator."""
    for signer in (w.second_admin, w.health, w.outsider):
        with expect_revert("AuditAnchorNotLogOperator") as caught:
            w.anchor.anchor(signer, h("log-d"), 1, h("root"))
        assert caught.value.arguments == {"account": signer.address}


def test_missing_checkpoints_raise(w: World) -> None:
    """Reading a log without checkpoints names the log (and the sequence asked for)."""
    with expect_revert("AuditAnchorNoCheckpoint") as caught:
        w.anchor.latest(h("empty"))
    assert caught.value.arguments == {"logId": h("empty")}
    with expect_revert("AuditAnchorUnknownCheckpoint") as unknown:
        w.anchor.checkpoint_at(h("empty"), 4)
    assert unknown.value.arguments == {"logId": h("empty"), "sequence": 4}
