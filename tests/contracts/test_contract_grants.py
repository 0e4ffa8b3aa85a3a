"""AccessGrants: the three application outcomes, the not-shareable invariant, and every consume refusal."""

from __future__ import annotations

from _contract_chain import Cast, Chain, OpenType, Role, ShareType, b32

DAY = 86_400
OPEN = b32("resource:open")
COND = b32("resource:conditional")
BLOCKED = b32("resource:blocked")
T1, T2 = b32("template:count"), b32("template:mean")
ZERO = b"\0" * 32

# Indexes into the Application and Grant tuples.
A_DECISION, A_STATUS = 5, 9
G_EXPIRY, G_BUDGET_LEFT, G_USES_LEFT, G_MAX_USES, G_STATUS, G_BUDGET = 0, 1, 2, 3, 4, 5
G_GRANTEE, G_AGREEMENT = 10, 11
PENDING, GRANTED, REJECTED, WITHDRAWN = 1, 2, 3, 4
ACTIVE, REVOKED = 1, 2


def _catalogue(cast: Cast) -> Chain:
    c = cast.chain
    c.register(cast.dept, OPEN, ShareType.UNCONDITIONAL, OpenType.OPEN)
    c.register(cast.dept, COND, ShareType.CONDITIONAL)
    c.register(cast.dept, BLOCKED, ShareType.NOT_SHAREABLE)
    return c


def _approved(cast: Cast, uses: int = 3, budget: int = 1_000) -> int:
    c = _catalogue(cast)
    app = c.apply(cast.bank, COND, c.now() + 30 * DAY, [T1])
    c.send(c.grants.functions.approve(app, c.now() + 10 * DAY, uses, budget, b32("agreement")), cast.dept)
    return app


def test_unconditional_is_granted_at_once_with_defaults(cast: Cast) -> None:
    """An UNCONDITIONAL resource is granted in the apply transaction with the documented defaults."""
    c = _catalogue(cast)
    expiry = c.now() + 30 * DAY
    fn = c.grants.functions.applyFor(OPEN, b32("policy"), b32("purpose"), expiry, [T1, T2])
    receipt = c.send(fn, cast.bank)
    issued = c.events(c.grants, receipt, "GrantIssued")[0].args
    defaults = (
        c.grants.functions.DEFAULT_MAX_USES().call(),
        c.grants.functions.DEFAULT_PRIVACY_BUDGET().call(),
    )
    assert defaults == (1_000_000, 10_000_000)
    assert (issued.grantId, issued.granteeOrgId, issued.expiry, issued.agreementHash) == (
        1,
        b32("bank"),
        expiry,
        b32("policy"),
    )
    assert (issued.maxUses, issued.privacyBudget) == defaults
    assert c.grants.functions.application(1).call()[A_STATUS] == GRANTED
    assert c.grants.functions.allowedTemplates(1).call() == [T1, T2]
    assert c.grants.functions.isUsable(1, T2).call()


def test_unconditional_term_is_capped(cast: Cast) -> None:
    """An UNCONDITIONAL grant cannot be asked for beyond MAX_UNCONDITIONAL_TERM."""
    c = _catalogue(cast)
    term = c.grants.functions.MAX_UNCONDITIONAL_TERM().call()
    too_far = c.now() + term + DAY
    name, args = c.fails(c.grants.functions.applyFor(OPEN, b32("p"), b32("u"), too_far, [T1]), cast.bank)
    assert name == "AccessGrantsExpiryOutOfRange"
    assert args[0] == too_far and args[2] < too_far


def test_conditional_waits_and_is_approved(cast: Cast) -> None:
    """A CONDITIONAL application is PENDING until the provider approves with its own terms."""
    c = _catalogue(cast)
    app = c.apply(cast.bank, COND, c.now() + 30 * DAY, [T1])
    assert c.grants.functions.application(app).call()[A_STATUS] == PENDING
    assert c.fails(c.grants.functions.grant(app), cast.bank) == ("AccessGrantsUnknownGrant", (app,))
    expiry = c.now() + 10 * DAY
    approve = c.grants.functions.approve(app, expiry, 5, 2_000_000, b32("agreement"))
    assert c.fails(approve, cast.dept2) == ("AccessGrantsNotProvider", (COND, cast.dept2))
    assert c.fails(approve, cast.bank) == ("AccessGrantsNotProvider", (COND, cast.bank))
    c.send(approve, cast.dept)
    grant = c.grants.functions.grant(app).call()
    assert (grant[G_EXPIRY], grant[G_USES_LEFT], grant[G_MAX_USES], grant[G_BUDGET], grant[G_STATUS]) == (
        expiry,
        5,
        5,
        2_000_000,
        ACTIVE,
    )
    assert (grant[G_GRANTEE], grant[G_AGREEMENT]) == (b32("bank"), b32("agreement"))
    assert c.fails(approve, cast.dept) == ("AccessGrantsApplicationNotPending", (app, GRANTED))


def test_approval_terms_are_checked(cast: Cast) -> None:
    """An approval with an expiry in the past or zero uses is refused."""
    c = _catalogue(cast)
    app = c.apply(cast.bank, COND, c.now() + 30 * DAY, [T1])
    name, _ = c.fails(c.grants.functions.approve(app, c.now() - 1, 5, 0, b32("a")), cast.dept)
    assert name == "AccessGrantsExpiryOutOfRange"
    assert c.fails(c.grants.functions.approve(app, c.now() + DAY, 0, 0, b32("a")), cast.dept) == (
        "AccessGrantsInvalidMaxUses",
        (0,),
    )


def test_rejection_needs_a_reason(cast: Cast) -> None:
    """A refusal gives its reason hash, which the application keeps."""
    c = _catalogue(cast)
    app = c.apply(cast.bank, COND, c.now() + 30 * DAY, [T1])
    assert c.fails(c.grants.functions.reject(app, ZERO), cast.dept) == ("AccessGrantsMissingReason", (app,))
    receipt = c.send(c.grants.functions.reject(app, b32("no legal basis")), cast.dept)
    assert c.events(c.grants, receipt, "ApplicationRejected")[0].args.reasonHash == b32("no legal basis")
    record = c.grants.functions.application(app).call()
    assert (record[A_STATUS], record[A_DECISION]) == (REJECTED, b32("no legal basis"))
    assert c.fails(c.grants.functions.approve(app, c.now() + DAY, 1, 0, b32("a")), cast.dept) == (
        "AccessGrantsApplicationNotPending",
        (app, REJECTED),
    )


def test_not_shareable_is_never_granted(cast: Cast) -> None:
    """NOT_SHAREABLE is refused at apply, and at approve when a resource became so after the application."""
    c = _catalogue(cast)
    apply_blocked = c.grants.functions.applyFor(BLOCKED, b32("p"), b32("u"), c.now() + DAY, [T1])
    assert c.fails(apply_blocked, cast.bank) == ("AccessGrantsResourceNotShareable", (BLOCKED,))
    app = c.apply(cast.bank, COND, c.now() + 30 * DAY, [T1])
    current = c.catalog.functions.resource(COND).call()[11]
    c.send(c.catalog.functions.publishVersion(COND, current, 2, 2, b32("m2"), b32("s2")), cast.dept)
    assert c.fails(c.grants.functions.approve(app, c.now() + DAY, 1, 0, b32("a")), cast.dept) == (
        "AccessGrantsResourceNotShareable",
        (COND,),
    )


def test_grants_follow_the_resource(cast: Cast) -> None:
    """A grant stops working when its resource turns NOT_SHAREABLE or is withdrawn."""
    c = cast.chain
    app = _approved(cast)
    current = c.catalog.functions.resource(COND).call()[11]
    c.send(c.catalog.functions.publishVersion(COND, current, 2, 2, b32("m2"), b32("s2")), cast.dept)
    assert not c.grants.functions.isUsable(app, T1).call()
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsResourceNotShareable",
        (COND,),
    )
    c.send(c.catalog.functions.withdraw(COND, b32("gone")), cast.dept)
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsResourceWithdrawn",
        (COND,),
    )


def test_apply_is_checked(cast: Cast) -> None:
    """Only enterprises and departments apply, for known, current resources with valid templates."""
    c = _catalogue(cast)
    later = c.now() + DAY
    apply = c.grants.functions.applyFor
    for account in (cast.auditor, cast.bureau, cast.outsider):
        assert c.fails(apply(COND, b32("p"), b32("u"), later, [T1]), account) == (
            "AccessGrantsNotApplicant",
            (account,),
        )
    ghost = b32("ghost")
    assert c.fails(apply(ghost, b32("p"), b32("u"), later, [T1]), cast.bank) == (
        "AccessGrantsUnknownResource",
        (ghost,),
    )
    assert c.fails(apply(COND, b32("p"), b32("u"), later, []), cast.bank) == ("AccessGrantsNoTemplates", ())
    many = [b32(f"t{i}") for i in range(17)]
    assert c.fails(apply(COND, b32("p"), b32("u"), later, many), cast.bank) == (
        "AccessGrantsTooManyTemplates",
        (17, 16),
    )
    assert c.fails(apply(COND, b32("p"), b32("u"), later, [T1, T1]), cast.bank) == (
        "AccessGrantsInvalidTemplate",
        (T1,),
    )
    assert c.fails(apply(COND, b32("p"), b32("u"), later, [ZERO]), cast.bank) == (
        "AccessGrantsInvalidTemplate",
        (ZERO,),
    )
    name, args = c.fails(apply(COND, b32("p"), b32("u"), c.now(), [T1]), cast.bank)
    assert (name, args[0]) == ("AccessGrantsExpiryOutOfRange", c.now())
    c.send(c.catalog.functions.withdraw(COND, b32("gone")), cast.dept)
    assert c.fails(apply(COND, b32("p"), b32("u"), later, [T1]), cast.bank) == (
        "AccessGrantsResourceWithdrawn",
        (COND,),
    )
    # A department may apply for another department's data.
    c.apply(cast.dept2, OPEN, later, [T1])


def test_applicant_withdraws_a_pending_application(cast: Cast) -> None:
    """Only the applicant withdraws, and only while PENDING."""
    c = _catalogue(cast)
    app = c.apply(cast.bank, COND, c.now() + DAY, [T1])
    assert c.fails(c.grants.functions.withdrawApplication(app), cast.dept) == (
        "AccessGrantsNotApplicationOwner",
        (app, cast.dept),
    )
    c.send(c.grants.functions.withdrawApplication(app), cast.bank)
    assert c.grants.functions.application(app).call()[A_STATUS] == WITHDRAWN
    assert c.fails(c.grants.functions.withdrawApplication(app), cast.bank) == (
        "AccessGrantsApplicationNotPending",
        (app, WITHDRAWN),
    )
    assert c.fails(c.grants.functions.approve(app, c.now() + DAY, 1, 0, b32("a")), cast.dept) == (
        "AccessGrantsApplicationNotPending",
        (app, WITHDRAWN),
    )
    assert c.fails(c.grants.functions.withdrawApplication(99), cast.bank) == (
        "AccessGrantsUnknownApplication",
        (99,),
    )


def test_consume_counts_uses_and_budget(cast: Cast) -> None:
    """Each use lowers uses and budget; exhaustion and overspending name the grant and the amounts."""
    c = cast.chain
    app = _approved(cast, uses=2, budget=1_000)
    assert c.fails(c.grants.functions.consume(app, T1, 1_001), cast.dept) == (
        "AccessGrantsBudgetExceeded",
        (app, 1_001, 1_000),
    )
    c.send(c.grants.functions.consume(app, T1, 700), cast.dept)
    assert c.fails(c.grants.functions.consume(app, T1, 301), cast.dept) == (
        "AccessGrantsBudgetExceeded",
        (app, 301, 300),
    )
    receipt = c.send(c.grants.functions.consume(app, T1, 300), cast.dept)
    consumed = c.events(c.grants, receipt, "GrantConsumed")[0].args
    assert (consumed.grantId, consumed.templateDigest, consumed.usesLeft, consumed.budgetLeft) == (
        app,
        T1,
        0,
        0,
    )
    assert not c.grants.functions.isUsable(app, T1).call()
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsGrantExhausted",
        (app, 2),
    )


def test_consume_refusals(cast: Cast) -> None:
    """Unknown grant, wrong caller, template not allowed and an expired grant each revert with their error."""
    c = cast.chain
    app = _approved(cast)
    assert c.fails(c.grants.functions.consume(42, T1, 0), cast.dept) == ("AccessGrantsUnknownGrant", (42,))
    for account in (cast.bank, cast.dept2, cast.bureau):
        assert c.fails(c.grants.functions.consume(app, T1, 0), account) == (
            "AccessGrantsNotProvider",
            (COND, account),
        )
    assert c.fails(c.grants.functions.consume(app, T2, 0), cast.dept) == (
        "AccessGrantsTemplateNotAllowed",
        (app, T2),
    )
    assert not c.grants.functions.isUsable(app, T2).call()
    expiry = c.grants.functions.grant(app).call()[G_EXPIRY]
    c.travel(expiry - 1 - c.now())
    assert c.grants.functions.isUsable(app, T1).call()
    c.travel(1)
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsGrantExpired",
        (app, expiry),
    )
    assert not c.grants.functions.isUsable(app, T1).call()


def test_revocation_is_final(cast: Cast) -> None:
    """A revoked grant, with its reason hash, can no longer be consumed or revoked again."""
    c = cast.chain
    app = _approved(cast)
    assert c.fails(c.grants.functions.revoke(app, ZERO), cast.dept) == ("AccessGrantsMissingReason", (app,))
    assert c.fails(c.grants.functions.revoke(app, b32("misuse")), cast.bank) == (
        "AccessGrantsNotProvider",
        (COND, cast.bank),
    )
    receipt = c.send(c.grants.functions.revoke(app, b32("misuse")), cast.dept)
    assert c.events(c.grants, receipt, "GrantRevoked")[0].args.reasonHash == b32("misuse")
    assert c.grants.functions.grant(app).call()[G_STATUS] == REVOKED
    assert not c.grants.functions.isUsable(app, T1).call()
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == ("AccessGrantsGrantRevoked", (app,))
    assert c.fails(c.grants.functions.revoke(app, b32("again")), cast.dept) == (
        "AccessGrantsGrantRevoked",
        (app,),
    )


def test_suspended_parties_are_denied(cast: Cast) -> None:
    """A suspended grantee's grant is unusable, and a suspended provider cannot consume."""
    c = cast.chain
    app = _approved(cast)
    later = c.now() + DAY
    c.send(c.consortium.functions.proposeSuspension(b32("bank"), later), cast.bureau)
    c.send(c.consortium.functions.vote(c.consortium.functions.proposalCount().call()), cast.admin2)
    assert not c.grants.functions.isUsable(app, T1).call()
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsGranteeInactive",
        (app, b32("bank")),
    )
    c.send(c.consortium.functions.proposeReinstatement(b32("bank"), later), cast.bureau)
    c.send(c.consortium.functions.vote(c.consortium.functions.proposalCount().call()), cast.admin2)
    c.send(c.consortium.functions.proposeSuspension(b32("dept"), later), cast.bureau)
    c.send(c.consortium.functions.vote(c.consortium.functions.proposalCount().call()), cast.admin2)
    assert c.fails(c.grants.functions.consume(app, T1, 0), cast.dept) == (
        "AccessGrantsNotProvider",
        (COND, cast.dept),
    )


def test_provider_key_rotation_keeps_its_grants(cast: Cast) -> None:
    """After the department rotates its key, the new key consumes and the old one is refused."""
    c = cast.chain
    app = _approved(cast)
    new_key = c.others[5]
    c.send(c.consortium.functions.rotateAccount(new_key), cast.dept)
    assert c.consortium.functions.roleOf(new_key).call() == Role.DEPARTMENT
    c.send(c.grants.functions.consume(app, T1, 1), new_key)
    assert c.fails(c.grants.functions.consume(app, T1, 1), cast.dept) == (
        "AccessGrantsNotProvider",
        (COND, cast.dept),
    )
