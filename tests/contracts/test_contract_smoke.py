"""End-to-end smoke on the in-process EVM with plain web3: one path through all four contracts."""

from __future__ import annotations

from _contract_chain import Chain, OpenType, Role, ShareType, b32, reverted

DAY = 86_400
TEMPLATE = b32("template:count")


def test_smoke_through_all_contracts(chain: Chain) -> None:
    """Admit by vote, register, apply, approve, consume and anchor; each failure names its cause."""
    c = chain
    bureau, second = c.admins
    dept, bank, stranger = c.others[:3]

    # Admission by proposal: the proposal is the first vote, the second admin's vote executes it.
    deadline = c.now() + DAY
    c.send(c.consortium.functions.proposeAdmission(b32("dept"), dept, Role.DEPARTMENT, 0, deadline), bureau)
    assert not c.consortium.functions.isActive(dept).call()
    assert reverted(lambda: c.consortium.functions.vote(1).transact({"from": bureau})) == (
        "ConsortiumAlreadyVoted",
        (1, b32("admin-0")),
    )
    receipt = c.send(c.consortium.functions.vote(1), second)
    assert [e.args.orgId for e in c.events(c.consortium, receipt, "MemberAdmitted")] == [b32("dept")]
    assert c.consortium.functions.roleOf(dept).call() == Role.DEPARTMENT
    c.admit("bank", bank, Role.ENTERPRISE)

    # Catalogue: a second registration of a code names the code.
    code = b32("resource:conditional")
    c.register(dept, code, ShareType.CONDITIONAL)
    assert reverted(
        lambda: c.catalog.functions.register(
            code, ShareType.CONDITIONAL, OpenType.NOT_OPEN, b32("meta"), b32("schema")
        ).transact({"from": dept})
    ) == ("DataCatalogResourceExists", (code,))
    blocked = b32("resource:blocked")
    c.send(
        c.catalog.functions.register(blocked, ShareType.NOT_SHAREABLE, OpenType.NOT_OPEN, b32("m"), b32("s")),
        dept,
    )

    # Applications: not shareable is refused; conditional waits for the provider.
    expiry = c.now() + 30 * DAY
    apply_blocked = c.grants.functions.applyFor(blocked, b32("p"), b32("u"), expiry, [TEMPLATE])
    assert reverted(lambda: apply_blocked.transact({"from": bank})) == (
        "AccessGrantsResourceNotShareable",
        (blocked,),
    )
    c.send(c.grants.functions.applyFor(code, b32("policy"), b32("purpose"), expiry, [TEMPLATE]), bank)
    assert c.grants.functions.application(1).call()[9] == 1  # PENDING
    assert not c.grants.functions.isUsable(1, TEMPLATE).call()
    c.send(c.grants.functions.approve(1, expiry, 2, 1_000, b32("agreement")), dept)
    assert c.grants.functions.isUsable(1, TEMPLATE).call()

    # Consumption by the provider's node.
    assert reverted(lambda: c.grants.functions.consume(1, TEMPLATE, 1).transact({"from": stranger})) == (
        "AccessGrantsNotProvider",
        (code, stranger),
    )
    other = b32("template:other")
    assert reverted(lambda: c.grants.functions.consume(1, other, 1).transact({"from": dept})) == (
        "AccessGrantsTemplateNotAllowed",
        (1, other),
    )
    assert reverted(lambda: c.grants.functions.consume(1, TEMPLATE, 1_001).transact({"from": dept})) == (
        "AccessGrantsBudgetExceeded",
        (1, 1_001, 1_000),
    )
    receipt = c.send(c.grants.functions.consume(1, TEMPLATE, 400), dept)
    consumed = c.events(c.grants, receipt, "GrantConsumed")[0].args
    assert (consumed.usesLeft, consumed.budgetLeft) == (1, 600)
    c.send(c.grants.functions.consume(1, TEMPLATE, 0), dept)
    assert reverted(lambda: c.grants.functions.consume(1, TEMPLATE, 0).transact({"from": dept})) == (
        "AccessGrantsGrantExhausted",
        (1, 2),
    )

    # A fresh grant expires.
    c.send(c.grants.functions.applyFor(code, b32("policy"), b32("purpose"), expiry, [TEMPLATE]), bank)
    short = c.now() + 100
    c.send(c.grants.functions.approve(2, short, 5, 0, b32("agreement-2")), dept)
    c.travel(200)
    assert reverted(lambda: c.grants.functions.consume(2, TEMPLATE, 0).transact({"from": dept})) == (
        "AccessGrantsGrantExpired",
        (2, short),
    )

    # Audit anchoring: only LOG_OPERATORs, and tree sizes only grow.
    log = b32("log:exchange")
    c.send(c.anchor.functions.anchor(log, 10, b32("root-10")), bureau)
    assert reverted(lambda: c.anchor.functions.anchor(log, 9, b32("root-9")).transact({"from": bureau})) == (
        "AuditAnchorTreeSizeNotGrowing",
        (log, 10, 9),
    )
    assert reverted(lambda: c.anchor.functions.anchor(log, 11, b32("r")).transact({"from": bank})) == (
        "AuditAnchorNotLogOperator",
        (bank,),
    )
    assert c.anchor.functions.latest(log).call() == [0, (b32("root-10"), 10, c.now(), c.w3.eth.block_number)]


def test_hot_paths_stay_cheap(chain: Chain) -> None:
    """`consume` and `anchor` (the benchmarked calls) stay within a small gas budget."""
    c = chain
    dept, bank = c.others[:2]
    c.admit("dept", dept, Role.DEPARTMENT)
    c.admit("bank", bank, Role.ENTERPRISE)
    code = b32("resource:open")
    c.register(dept, code, ShareType.UNCONDITIONAL, OpenType.OPEN)
    c.send(c.grants.functions.applyFor(code, b32("p"), b32("u"), c.now() + 30 * DAY, [TEMPLATE]), bank)
    c.send(c.grants.functions.consume(1, TEMPLATE, 1), dept)
    consume_gas = c.send(c.grants.functions.consume(1, TEMPLATE, 1), dept)["gasUsed"]
    log = b32("log")
    c.send(c.anchor.functions.anchor(log, 1, b32("r1")), c.admins[0])
    anchor_gas = c.send(c.anchor.functions.anchor(log, 2, b32("r2")), c.admins[0])["gasUsed"]
    assert consume_gas < 62_000, consume_gas
    assert anchor_gas < 90_000, anchor_gas
