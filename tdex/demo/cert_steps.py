"""Demo, chapter 2: an e-certificate (电子证照) and public credit (公共信用) on the chain of chapter 1.

The market regulator issues a business licence to the logistics firm as a W3C Verifiable
Credential and anchors it; the bank verifies it; the licence is suspended and the check says so.
A penalty is recorded, disputed and repaired on the CreditLedger, and the score is recomputed
from the chain before and after; the bank then accepts a threshold attestation of the score
without seeing any event, and rejects a forged one.

Every step checks what it did by reading the chain back. The chain adapters are the CLI's
(`tdex.commands.cert`, `tdex.commands.credit`), so the demo and `tdex cert`/`tdex credit` write
and read the chain the same way.
"""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ledger
from credentials import (
    CertificateIssuer,
    IssuedCertificate,
    Outcome,
    VerificationReport,
    Verifier,
    attest_threshold,
    audit_attestation,
    chain_account,
    issue_business_licence,
    verify_proof,
    verify_threshold_attestation,
)
from credentials.errors import AttestationInvalid, ScoreBelowThreshold, UntrustedAttester
from exchange_api.client import ApiProblem
from keys import canonical_json, sha256, subject_ref, verify_signed
from tdex.commands.cert import ChainAnchors, anchor_issued, anchor_list_updates, publish_status_change
from tdex.commands.credit import model_events, score_subject
from tdex.demo._runner import DemoContext
from tdex.demo.cast import Member

DAY = 24 * 3600
STATUS_BASE_URL = "https://certs.tdex.example/status/market"
# The bank's credit-loan (信易贷) rule: a threshold attestation of at least this score.
LOAN_THRESHOLD = 650
PENALTY_WEIGHT = -100
REPAIRED_WEIGHT = -30
PENALTY_AGE_DAYS = 100
CHECKS = ("proof", "schema", "validity", "status", "anchor")


def _hash(record: Any) -> bytes:
    return sha256(canonical_json(record))


def _cast(ctx: DemoContext) -> dict[str, Member]:
    cast: dict[str, Member] = ctx.state["cast"]
    return cast


def _registry(ctx: DemoContext) -> ledger.CertificateRegistry:
    registry: ledger.CertificateRegistry = ctx.state["certificates"]
    return registry


def _credit(ctx: DemoContext) -> ledger.CreditLedger:
    credit: ledger.CreditLedger = ctx.state["credit"]
    return credit


def _issuer(ctx: DemoContext) -> CertificateIssuer:
    issuer: CertificateIssuer = ctx.state["cert_issuer"]
    return issuer


def _licence(ctx: DemoContext) -> IssuedCertificate:
    issued: IssuedCertificate = ctx.state["licence"]
    return issued


def _logistics_ref(ctx: DemoContext) -> bytes:
    return subject_ref(_cast(ctx)["logistics"].uscc, ctx.state["subject_secret"])


def _bank_verifier(ctx: DemoContext) -> Verifier:
    """The bank's verifier: the published status lists (fetched on each check) and the chain's anchors."""
    issuer = _issuer(ctx)
    return Verifier(
        status_lists=lambda url: issuer.status_list_credentials().get(url),
        anchors=ChainAnchors(_registry(ctx)),
        trusted_issuers=[issuer.did],
    )


def _outcomes(report: VerificationReport) -> str:
    return ", ".join(f"{name} {report.check(name).outcome}" for name in CHECKS)


def step_deploy_certificate_registry_and_credit_ledger(ctx: DemoContext) -> str:
    """The consortium's deployment brings CertificateRegistry and CreditLedger, bound to its Consortium."""
    chain: ledger.Chain = ctx.state["chain"]
    deployment: ledger.Deployment = ctx.state["deployment"]
    registry, credit = deployment.certificates, deployment.credit
    ctx.state["certificates"], ctx.state["credit"] = registry, credit
    # The deployment's subject-reference secret: firms appear on chain only by a keyed reference.
    ctx.state["subject_secret"] = secrets.token_bytes(32)
    for name, address in (("CertificateRegistry", registry.address), ("CreditLedger", credit.address)):
        ctx.expect(bool(chain.code(address)), f"{name} has code at {address}")
        ctx.expect(deployment.addresses.get(name) == address, f"the manifest lists {name} at {address}")
    ctx.expect(credit.event_count() == 0, "the credit ledger starts empty")
    return f"CertificateRegistry {registry.address[:10]}…, CreditLedger {credit.address[:10]}…"


def step_market_regulator_issues_a_business_licence(ctx: DemoContext) -> str:
    """The market regulator issues a 营业执照 (VC 2.0, eddsa-jcs-2022) to the logistics firm; anchors it."""
    chain: ledger.Chain = ctx.state["chain"]
    cast, registry = _cast(ctx), _registry(ctx)
    market, firm = cast["market"], cast["logistics"]
    issuer = CertificateIssuer(
        market.keys.signer,
        name=market.name,
        status_base_url=STATUS_BASE_URL,
        subject_secret=ctx.state["subject_secret"],
        chain_account=chain_account(chain.chain_id, market.keys.account_address),
    )
    anchor_list_updates(registry, market.signer, issuer.publish_all())
    issued = issue_business_licence(
        issuer,
        uscc=firm.uscc,
        name=firm.name,
        entity_type="有限责任公司",
        legal_representative="王建国",
        established_on=date(2019, 5, 20),
        domicile="浙江省杭州市钱塘区物流大道 88 号",
        business_scope="道路普通货物运输；国内货物运输代理；仓储服务（不含危险化学品）",
        registration_authority=market.name,
        registered_capital="5000万元人民币",
    )
    anchor_issued(registry, market.signer, issued)
    ctx.state["cert_issuer"], ctx.state["licence"] = issuer, issued
    credential = issued.credential
    # The regulator also registers the licence and its status lists with the exchange: verified
    # there before it is stored, an audit event, and found later by USCC (免证办).
    exchange = ctx.state["clients"]["market"]
    exchange.post("/certificates/status", {"status_lists": list(issuer.status_list_credentials().values())})
    registered = exchange.post("/certificates", {"credential": credential})
    ctx.expect(registered["id"] == credential["id"], "the exchange verified and stored the licence")
    ctx.expect(credential["proof"]["cryptosuite"] == "eddsa-jcs-2022", "the licence is eddsa-jcs-2022")
    ctx.expect("BusinessLicenceCredential" in credential["type"], "the credential is a business licence")
    record = registry.find(issued.anchor.anchor_id)
    ctx.expect(record is not None, "the licence is anchored")
    assert record is not None
    ctx.expect(record.status == ledger.CertificateStatus.ACTIVE, "the anchored licence is active")
    ctx.expect(record.document_hash == issued.anchor.document_hash, "the chain holds the document hash")
    ctx.expect(record.anchored_by.lower() == market.keys.account_address.lower(), "the regulator anchored it")
    ctx.expect(
        issued.anchor.anchor_id in registry.certificates_of(_logistics_ref(ctx)),
        "the licence is found by the firm's subject reference (一次认证、全省通行)",
    )
    return f"{credential['id']} for {firm.name} ({firm.uscc}), anchor {issued.anchor.anchor_id.hex()[:12]}…"


def step_bank_verifies_the_licence(ctx: DemoContext) -> str:
    """The bank checks the licence: proof, schema, validity, status list and on-chain anchor all pass."""
    report = _bank_verifier(ctx).verify(_licence(ctx).credential)
    for name in CHECKS:
        check = report.check(name)
        ctx.expect(
            check.outcome is Outcome.PASS, f"the {name} check passes ({check.outcome}: {check.detail})"
        )
    ctx.expect(report.ok, "the report is ok")
    return _outcomes(report)


def step_licence_is_suspended_and_the_check_says_so(ctx: DemoContext) -> str:
    """The regulator suspends the licence (list re-signed and anchored); the check now says suspended."""
    registry, issued = _registry(ctx), _licence(ctx)
    market = _cast(ctx)["market"]
    reason = "列入经营异常名录：通过登记的住所无法联系"
    change = _issuer(ctx).suspend(issued.credential, reason)
    publish_status_change(registry, market.signer, change)
    ctx.state["clients"]["market"].post(
        "/certificates/status",
        {
            "status_lists": list(_issuer(ctx).status_list_credentials().values()),
            "changes": [{"credential_id": issued.credential["id"], "status": "suspended", "reason": reason}],
        },
    )
    record = registry.find(issued.anchor.anchor_id)
    ctx.expect(
        record is not None and record.status == ledger.CertificateStatus.SUSPENDED, "suspended on chain"
    )
    for update in change.list_updates:
        latest = registry.latest_status_list(update.list_id)
        ctx.expect(
            latest is not None and latest.version == update.version and latest.list_hash == update.list_hash,
            f"status list version {update.version} is the latest anchored one",
        )
    report = _bank_verifier(ctx).verify(issued.credential)
    status = report.check("status")
    ctx.expect(not report.ok, "a suspended licence does not verify")
    ctx.expect(status.outcome is Outcome.FAIL, "the status check fails")
    ctx.expect(
        status.code == "credentials.status.suspended", f"the status check says suspended ({status.code})"
    )
    ctx.expect(report.check("proof").outcome is Outcome.PASS, "the proof itself still verifies")
    ctx.expect(len(verify_proof(issued.credential)) == 1, "the signature is untouched")
    versions = ", ".join(f"{u.list_url.rsplit('/', 1)[-1]} v{u.version}" for u in change.list_updates)
    return f"status {status.outcome} [{status.code}], proof still passes; anchored {versions}"


def step_bank_looks_up_the_firms_certificates_with_its_consent(ctx: DemoContext) -> str:
    """免证办: with the firm's consent, the bank looks its certificates up by USCC, verified."""
    clients, cast = ctx.state["clients"], _cast(ctx)
    firm = cast["logistics"]
    bank_id = ctx.state["org_ids"]["bank"]
    expires = datetime.now(UTC) + timedelta(days=7)
    consent = clients["logistics"].post(
        "/certificates/consents",
        {"verifier_org_id": bank_id, "purpose": "信易贷授信审查", "expires_at": expires.isoformat()},
    )
    found = clients["bank"].post("/certificates/lookups", {"uscc": firm.uscc, "consent_id": consent["id"]})
    ctx.expect(len(found["certificates"]) == 1, "the bank finds the firm's licence without any paper")
    licence = found["certificates"][0]
    ctx.expect(licence["checks"]["proof"]["outcome"] == "pass", "the exchange verified the proof")
    ctx.expect(licence["status"] == "suspended", f"and shows the current status ({licence['status']})")
    try:
        clients["tax"].post("/certificates/lookups", {"uscc": firm.uscc, "consent_id": consent["id"]})
    except ApiProblem as refused:
        ctx.expect(refused.status == 403, "another organisation is refused")
        return (
            f"consent {consent['id']}: 1 certificate, status {licence['status']}; the tax bureau is refused"
        )
    ctx.expect(False, "a look-up without consent is refused")
    raise AssertionError("unreachable")


def step_penalty_dispute_and_credit_repair(ctx: DemoContext) -> str:
    """A penalty is recorded, disputed and repaired (信用修复); history stays, the score is recomputed."""
    chain: ledger.Chain = ctx.state["chain"]
    cast, credit = _cast(ctx), _credit(ctx)
    market, firm = cast["market"], cast["logistics"]
    reference = _logistics_ref(ctx)
    decided = chain.timestamp() - PENALTY_AGE_DAYS * DAY
    notice_until = decided + 365 * DAY
    # The public-notice record (行政处罚信息公示) stays off chain; its hash is the event's evidence.
    notice = {
        "kind": "tdex.credit.penalty-notice",
        "version": 1,
        "decisionNumber": "杭市监罚处〔2026〕118号",
        "party": firm.name,
        "uscc": firm.uscc,
        "legalRepresentative": "王建国",
        "facts": "超限超载运输，未按规定进行车辆安全检查",
        "basis": "《中华人民共和国道路运输条例》第七十条",
        "penalty": "警告，罚款人民币 30,000 元",
        "authority": market.name,
        "decidedOn": decided,
        "publicNoticeUntil": notice_until,
    }
    penalty = credit.record(
        market.signer,
        reference,
        ledger.CreditCategory.ADMINISTRATIVE_PENALTY,
        PENALTY_WEIGHT,
        _hash(notice),
        decided,
        notice_until,
    )
    as_of = chain.timestamp()
    before = score_subject(credit, reference, as_of=as_of, checkpoint=penalty)

    # The firm signs its dispute request; the regulator (a CREDIT_RECORDER) files it on its behalf.
    request = firm.keys.sign_document(
        {
            "kind": "tdex.credit.dispute-request",
            "version": 1,
            "event": penalty,
            "uscc": firm.uscc,
            "grounds": "已完成整改并主动消除危害后果，申请信用修复",
        }
    )
    verify_signed(request)
    credit.dispute(market.signer, penalty, _hash(request))
    ctx.expect(
        credit.event(penalty).status == ledger.CreditEventStatus.DISPUTED, "the penalty is disputed on chain"
    )
    decision = {
        "kind": "tdex.credit.repair-decision",
        "version": 1,
        "event": penalty,
        "text": "准予信用修复：缩短公示期至 180 日，按从轻情节重新认定",
    }
    repaired = credit.correct(
        market.signer,
        penalty,
        REPAIRED_WEIGHT,
        _hash({**notice, "publicNoticeUntil": decided + 180 * DAY, "repaired": True}),
        decided,
        decided + 180 * DAY,
        _hash(decision),
    )
    after = score_subject(credit, reference, as_of=as_of)

    original, correction = credit.event(penalty), credit.event(repaired)
    dispute = credit.dispute_of(penalty)
    ctx.expect(
        original.status == ledger.CreditEventStatus.CORRECTED, "the original is kept, marked CORRECTED"
    )
    ctx.expect(original.corrected_by == repaired, "the original names its correction")
    ctx.expect(
        original.weight == PENALTY_WEIGHT and original.evidence_hash == _hash(notice), "nothing erased"
    )
    ctx.expect(correction.corrects == penalty and correction.weight == REPAIRED_WEIGHT, "the repair names it")
    ctx.expect(dispute.grounds_hash == _hash(request) and dispute.filed_at > 0, "the dispute is on chain")
    ctx.expect([e.event_id for e in credit.events_of(reference)] == [penalty, repaired], "full history kept")
    ctx.expect(
        before.score == 617 and after.score == 675, f"scores {before.score} → {after.score} (617 → 675)"
    )
    # The same scores again from every event on chain (as an auditor would): the model is deterministic.
    ctx.expect(
        score_subject(credit, reference, as_of=as_of, checkpoint=penalty).events_digest
        == before.events_digest,
        "the score before is reproducible from the chain",
    )
    ctx.state["credit_as_of"] = as_of
    ctx.state["credit_checkpoints"] = {"penalty": penalty, "repaired": repaired}
    return (
        f"penalty #{penalty} ({PENALTY_WEIGHT}), disputed, repaired by #{repaired} ({REPAIRED_WEIGHT}); "
        f"score {before.score} {before.grade} at checkpoint {penalty} → {after.score} {after.grade} "
        f"at checkpoint {after.checkpoint}"
    )


def step_bank_accepts_a_threshold_attestation(ctx: DemoContext) -> str:
    """The bank verifies "score ≥ X at checkpoint N" without the events; forged ones are rejected."""
    chain: ledger.Chain = ctx.state["chain"]
    cast, credit = _cast(ctx), _credit(ctx)
    bureau, bank, firm = cast["bureau"], cast["bank"], cast["logistics"]
    reference, as_of = _logistics_ref(ctx), ctx.state["credit_as_of"]
    attester, audience = bureau.keys.signer.verify_key.did, bank.keys.signer.verify_key.did
    ledger_account = f"eip155:{chain.chain_id}:{credit.address}"

    def attest(checkpoint: int | None, key: Member = bureau) -> dict[str, Any]:
        score = score_subject(credit, reference, as_of=as_of, checkpoint=checkpoint)
        return attest_threshold(
            key.keys.signer,
            score,
            uscc=firm.uscc,
            threshold=LOAN_THRESHOLD,
            attester_name=key.name,
            audience=audience,
            ledger=ledger_account,
        )

    try:
        attest(ctx.state["credit_checkpoints"]["penalty"])
        ctx.expect(False, "before the repair the score is below the threshold: nothing may be attested")
    except ScoreBelowThreshold:
        pass
    document = attest(None)

    def bank_check(doc: dict[str, Any]) -> Any:
        return verify_threshold_attestation(
            doc, trusted_attesters=[attester], min_score=LOAN_THRESHOLD, uscc=firm.uscc, audience=audience
        )

    result = bank_check(document)
    ctx.expect(result.score_at_least == LOAN_THRESHOLD, "the bank sees the threshold, not the score")
    ctx.expect(result.event_count == credit.event_count(), "the attestation names the current checkpoint")
    ctx.expect("score" not in document["credentialSubject"], "no score or event in the attestation")

    forged = copy.deepcopy(document)
    forged["credentialSubject"]["scoreAtLeast"] = 800
    rejected: list[str] = []
    try:
        bank_check(forged)
    except AttestationInvalid as error:
        rejected.append(error.code)
    try:
        bank_check(attest(None, key=firm))  # the firm attesting itself
    except UntrustedAttester as error:
        rejected.append(error.code)
    ctx.expect(
        rejected == ["credentials.credit.attestation_invalid", "credentials.credit.untrusted_attester"],
        f"the altered and the self-signed attestations are rejected ({rejected})",
    )
    # The auditor, who may read the events, confirms the attester was honest.
    audited = audit_attestation(result, model_events(credit, upto=result.event_count))
    ctx.expect(audited.score >= LOAN_THRESHOLD, "the auditor confirms the score really was at least X")
    ctx.state["credit_attestation"] = document
    ctx.state["credit_attestation_verified"] = result
    return (
        f"score ≥ {LOAN_THRESHOLD} at checkpoint {result.event_count} accepted; altered and self-signed "
        f"rejected; it gates the bank's encrypted credit scoring in the sandbox chapter"
    )


STEPS = [
    step_deploy_certificate_registry_and_credit_ledger,
    step_market_regulator_issues_a_business_licence,
    step_bank_verifies_the_licence,
    step_licence_is_suspended_and_the_check_says_so,
    step_bank_looks_up_the_firms_certificates_with_its_consent,
    step_penalty_dispute_and_credit_repair,
    step_bank_accepts_a_threshold_attestation,
]
