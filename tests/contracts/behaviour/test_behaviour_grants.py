"""AccessGrants behaviour through the ledger client: the three outcomes and every consume invariant."""

from __future__ import annotations

from behaviour_support import DAY, World, expect_revert, h

from ledger import ApplicationStatus, GrantStatus, OpenType, ShareType
from ledger.ids import org_id

TEMPLATE = h("template: private count")
OTHER_TEMPLATE = h("template: raw export")


def _conditional_grant(
    w: World, code: str, *, max_uses: int = 2, budget: int = 1_000_000, hours: int = 1
) -> int:
    """A CONDITIONAL resource of the health department applied for by the bank and approved."""
    rid = w.register(code, ShareType.CONDITIONAL)
    applied = w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    w.grants.approve(
        w.health, applied.application_id, w.now() + hours * 3600, max_uses, budget, h("agreement")
    )
    return applied.application_id


def test_unconditional_is_granted_at_once(w: World) -> None:
    """Applying for an UNCONDITIONAL resource issues the grant in the same transaction."""
    rid = w.register("open-1", ShareType.UNCONDITIONAL)
    outcome = w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    assert outcome.granted
    assert [e.name for e in outcome.receipt.events] == ["ApplicationSubmitted", "GrantIssued"]
    issued = outcome.receipt.event("GrantIssued")
    assert issued["grantId"] == outcome.application_id
    assert issued["granteeOrgId"] == org_id("bank")
    assert issued["maxUses"] == w.grants.default_max_uses()
    assert w.grants.application(outcome.application_id).status is ApplicationStatus.GRANTED
    assert w.grants.is_usable(outcome.application_id, TEMPLATE)


def test_conditional_waits_then_is_approved(w: World) -> None:
    """A CONDITIONAL application stays PENDING until the provider approves with its terms."""
    rid = w.register("cond-1", ShareType.CONDITIONAL)
    outcome = w.grants.apply(
        w.logistics, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE, OTHER_TEMPLATE]
    )
    assert not outcome.granted
    assert w.grants.application(outcome.application_id).status is ApplicationStatus.PENDING
    assert w.grants.allowed_templates(outcome.application_id) == (TEMPLATE, OTHER_TEMPLATE)
    expiry = w.now() + 3600
    receipt = w.grants.approve(w.health, outcome.application_id, expiry, 5, 2_000_000, h("agreement"))
    issued = receipt.event("GrantIssued")
    assert (issued["expiry"], issued["maxUses"], issued["privacyBudget"]) == (expiry, 5, 2_000_000)
    grant = w.grants.grant(outcome.application_id)
    assert grant.status is GrantStatus.ACTIVE
    assert (grant.uses_left, grant.budget_left, grant.agreement_hash) == (5, 2_000_000, h("agreement"))


def test_conditional_rejected_with_reason(w: World) -> None:
    """The provider's rejection records the reason hash; a second decision is refused."""
    rid = w.register("cond-2", ShareType.CONDITIONAL)
    outcome = w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    receipt = w.grants.reject(w.health, outcome.application_id, h("purpose not covered by law"))
    assert receipt.event("ApplicationRejected").args == {
        "applicationId": outcome.application_id,
        "reasonHash": h("purpose not covered by law"),
    }
    application = w.grants.application(outcome.application_id)
    assert (application.status, application.decision_hash) == (
        ApplicationStatus.REJECTED,
        h("purpose not covered by law"),
    )
    with expect_revert("AccessGrantsApplicationNotPending") as caught:
        w.grants.approve(w.health, outcome.application_id, w.now() + 3600, 1, 0, h("agreement"))
    assert caught.value.arguments == {
        "applicationId": outcome.application_id,
        "status": ApplicationStatus.REJECTED,
    }


def test_not_shareable_is_never_granted(w: World) -> None:
    """Applying for a NOT_SHAREABLE resource is refused naming the resource; no application is stored."""
    rid = w.register("closed-1", ShareType.NOT_SHAREABLE)
    before = w.grants.application_count()
    with expect_revert("AccessGrantsResourceNotShareable") as caught:
        w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    assert caught.value.arguments == {"resourceCode": rid}
    assert w.grants.application_count() == before


def test_approval_refused_once_resource_becomes_not_shareable(w: World) -> None:
    """A pending application cannot be approved after the provider made the resource NOT_SHAREABLE."""
    rid = w.register("cond-3", ShareType.CONDITIONAL)
    outcome = w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    current = w.catalog.resource(rid).version_hash
    w.catalog.publish_version(
        w.health, rid, current, ShareType.NOT_SHAREABLE, OpenType.NOT_OPEN, h("m2"), h("s")
    )
    with expect_revert("AccessGrantsResourceNotShareable") as caught:
        w.grants.approve(w.health, outcome.application_id, w.now() + 3600, 1, 0, h("agreement"))
    assert caught.value.arguments == {"resourceCode": rid}


def test_grant_stops_working_when_resource_becomes_not_shareable(w: World) -> None:
    """An issued grant is unusable once its resource is NOT_SHAREABLE."""
    grant_id = _conditional_grant(w, "cond-4")
    rid = w.grants.grant(grant_id).resource_code
    current = w.catalog.resource(rid).version_hash
    w.catalog.publish_version(
        w.health, rid, current, ShareType.NOT_SHAREABLE, OpenType.NOT_OPEN, h("m2"), h("s")
    )
    assert not w.grants.is_usable(grant_id, TEMPLATE)
    with expect_revert("AccessGrantsResourceNotShareable"):
        w.grants.consume(w.health, grant_id, TEMPLATE, 0)


def test_only_the_provider_approves(w: World) -> None:
    """Another department approving gets AccessGrantsNotProvider naming the resource and account."""
    rid = w.register("cond-5", ShareType.CONDITIONAL)
    outcome = w.grants.apply(w.bank, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
    with expect_revert("AccessGrantsNotProvider") as caught:
        w.grants.approve(w.transport, outcome.application_id, w.now() + 3600, 1, 0, h("agreement"))
    assert caught.value.arguments == {"resourceCode": rid, "account": w.transport.address}


def test_non_member_and_wrong_role_cannot_apply(w: World) -> None:
    """An outsider and an auditor get AccessGrantsNotApplicant naming their account."""
    rid = w.register("open-2", ShareType.UNCONDITIONAL)
    for signer in (w.outsider, w.auditor):
        with expect_revert("AccessGrantsNotApplicant") as caught:
            w.grants.apply(signer, rid, h("policy"), h("purpose"), w.now() + DAY, [TEMPLATE])
        assert caught.value.arguments == {"account": signer.address}


def test_consume_records_use_and_budget(w: World) -> None:
    """A use decrements the uses and budget left and emits GrantConsumed."""
    grant_id = _conditional_grant(w, "cond-6", max_uses=3, budget=1_000)
    used = w.grants.consume(w.health, grant_id, TEMPLATE, 400)
    assert (used.uses_left, used.budget_left) == (2, 600)
    assert used.receipt.event("GrantConsumed").args == {
        "grantId": grant_id,
        "templateDigest": TEMPLATE,
        "budgetSpent": 400,
        "usesLeft": 2,
        "budgetLeft": 600,
    }


def test_consume_expired_names_grant_and_expiry(w: World) -> None:
    """Past its expiry a grant refuses use with AccessGrantsGrantExpired(grantId, expiry)."""
    grant_id = _conditional_grant(w, "cond-7", hours=1)
    expiry = w.grants.grant(grant_id).expiry
    w.chain.advance_time(3600 + 1)
    with expect_revert("AccessGrantsGrantExpired") as caught:
        w.grants.consume(w.health, grant_id, TEMPLATE, 0)
    assert caught.value.arguments == {"grantId": grant_id, "expiry": expiry}
    assert caught.value.grant_id == grant_id  # type: ignore[attr-defined]
    assert caught.value.expiry == expiry  # type: ignore[attr-defined]
    assert w.grants.grant(grant_id).uses_left == 2


def test_consume_exhausted_names_max_uses(w: World) -> None:
    """After its last use a grant refuses with AccessGrantsGrantExhausted(grantId, maxUses)."""
    grant_id = _conditional_grant(w, "cond-8", max_uses=1)
    w.grants.consume(w.health, grant_id, TEMPLATE, 0)
    with expect_revert("AccessGrantsGrantExhausted") as caught:
        w.grants.consume(w.health, grant_id, TEMPLATE, 0)
    assert caught.value.arguments == {"grantId": grant_id, "maxUses": 1}


def test_consume_revoked(w: World) -> None:
    """A revoked grant refuses use; revoking twice is refused too."""
    grant_id = _conditional_grant(w, "cond-9")
    receipt = w.grants.revoke(w.health, grant_id, h("breach"))
    assert receipt.event("GrantRevoked").args == {"grantId": grant_id, "reasonHash": h("breach")}
    with expect_revert("AccessGrantsGrantRevoked") as caught:
        w.grants.consume(w.health, grant_id, TEMPLATE, 0)
    assert caught.value.arguments == {"grantId": grant_id}
    assert w.grants.grant(grant_id).status is GrantStatus.REVOKED


def test_consume_over_budget_names_request_and_remaining(w: World) -> None:
    """Spending more than the budget left is refused with the amounts; nothing is spent."""
    grant_id = _conditional_grant(w, "cond-10", budget=500)
    w.grants.consume(w.health, grant_id, TEMPLATE, 300)
    with expect_revert("AccessGrantsBudgetExceeded") as caught:
        w.grants.consume(w.health, grant_id, TEMPLATE, 201)
    assert caught.value.arguments == {"grantId": grant_id, "requested": 201, "remaining": 200}
    grant = w.grants.grant(grant_id)
    assert (grant.budget_left, grant.uses_left) == (200, 1)


def test_consume_wrong_template(w: World) -> None:
    """A template the grant does not allow is refused naming it."""
    grant_id = _conditional_grant(w, "cond-11")
    with expect_revert("AccessGrantsTemplateNotAllowed") as caught:
        w.grants.consume(w.health, grant_id, OTHER_TEMPLATE, 0)
    assert caught.value.arguments == {"grantId": grant_id, "templateDigest": OTHER_TEMPLATE}


def test_consume_only_by_the_provider(w: World) -> None:
    """The grantee cannot record its own use: AccessGrantsNotProvider."""
    grant_id = _conditional_grant(w, "cond-12")
    with expect_revert("AccessGrantsNotProvider") as caught:
        w.grants.consume(w.bank, grant_id, TEMPLATE, 0)
    assert caught.value.arguments["account"] == w.bank.address


def test_unknown_grant(w: World) -> None:
    """Using or reading a grant that does not exist names its id."""
    with expect_revert("AccessGrantsUnknownGrant") as caught:
        w.grants.consume(w.health, 999, TEMPLATE, 0)
    assert caught.value.arguments == {"grantId": 999}
    assert not w.grants.is_usable(999, TEMPLATE)
