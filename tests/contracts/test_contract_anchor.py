"""AuditAnchor: only LOG_OPERATORs anchor, tree sizes only grow, every checkpoint is kept by sequence."""

from __future__ import annotations

from _contract_chain import Chain, b32

LOG = b32("log:exchange")
OTHER = b32("log:node")


def test_checkpoints_are_kept_by_sequence(chain: Chain) -> None:
    """Each anchor gets the next sequence number of its log; all stay readable."""
    c = chain
    operator = c.admins[0]
    receipt = c.send(c.anchor.functions.anchor(LOG, 5, b32("r5")), operator)
    event = c.events(c.anchor, receipt, "CheckpointAnchored")[0].args
    assert (event.logId, event.sequence, event.treeSize, event.rootHash, event.operator) == (
        LOG,
        0,
        5,
        b32("r5"),
        operator,
    )
    c.send(c.anchor.functions.anchor(LOG, 9, b32("r9")), operator)
    c.send(c.anchor.functions.anchor(OTHER, 1, b32("o1")), operator)
    assert c.anchor.functions.checkpointCount(LOG).call() == 2
    assert c.anchor.functions.checkpointCount(OTHER).call() == 1
    first = c.anchor.functions.checkpointAt(LOG, 0).call()
    assert (first[0], first[1]) == (b32("r5"), 5)
    sequence, latest = c.anchor.functions.latest(LOG).call()
    assert (sequence, latest[0], latest[1]) == (1, b32("r9"), 9)


def test_tree_size_only_grows(chain: Chain) -> None:
    """A first size of zero, an equal size or a smaller size is refused naming both sizes."""
    c = chain
    operator = c.admins[0]
    assert c.fails(c.anchor.functions.anchor(LOG, 0, b32("r")), operator) == (
        "AuditAnchorTreeSizeNotGrowing",
        (LOG, 0, 0),
    )
    c.send(c.anchor.functions.anchor(LOG, 7, b32("r7")), operator)
    for size in (7, 3):
        assert c.fails(c.anchor.functions.anchor(LOG, size, b32("x")), operator) == (
            "AuditAnchorTreeSizeNotGrowing",
            (LOG, 7, size),
        )


def test_only_log_operators_anchor(chain: Chain) -> None:
    """An admin without LOG_OPERATOR and an outsider are refused; losing the capability revokes it."""
    c = chain
    for account in (c.admins[1], c.others[0]):
        assert c.fails(c.anchor.functions.anchor(LOG, 1, b32("r")), account) == (
            "AuditAnchorNotLogOperator",
            (account,),
        )
    c.send(c.consortium.functions.proposeRoleChange(b32("admin-0"), 1, 0, c.now() + 3600), c.admins[0])
    c.send(c.consortium.functions.vote(1), c.admins[1])
    assert c.fails(c.anchor.functions.anchor(LOG, 1, b32("r")), c.admins[0]) == (
        "AuditAnchorNotLogOperator",
        (c.admins[0],),
    )


def test_missing_checkpoints(chain: Chain) -> None:
    """Reading a log with no checkpoint, or a sequence past the end, names the log (and sequence)."""
    c = chain
    assert c.fails(c.anchor.functions.latest(LOG), c.admins[0]) == ("AuditAnchorNoCheckpoint", (LOG,))
    c.send(c.anchor.functions.anchor(LOG, 1, b32("r")), c.admins[0])
    assert c.fails(c.anchor.functions.checkpointAt(LOG, 1), c.admins[0]) == (
        "AuditAnchorUnknownCheckpoint",
        (LOG, 1),
    )
