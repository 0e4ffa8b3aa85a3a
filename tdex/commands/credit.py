"""`tdex credit`: record credit events, disputes and corrections, explain scores, attest, sample inspections.

Exit status: 0 on success, 1 when the chain refuses or a check fails (reason and code printed),
2 for unusable input. Subjects are named by USCC on the command line and by their keyed subject
reference (`$TDEX_SUBJECT_SECRET`) on chain. Dates are RFC 3339 times, or `YYYY-MM-DD` read as
midnight Beijing time (+08:00). The chain and contract addresses are found as for `tdex cert`.
The helpers `model_events` and `score_subject` connect `credentials` to the ledger's CreditLedger.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from credentials import (
    MODEL_V1,
    CredentialsError,
    CreditCategory,
    CreditEvent,
    CreditScore,
    attest_threshold,
    compute_score,
    draw_inspection_sample,
    verify_threshold_attestation,
)
from keys import KeysError, canonical_json, sha256, subject_ref, validate_uscc
from tdex.commands.cert import (
    chain_signer,
    connect,
    contract_address,
    fail,
    load_org,
    print_json,
    read_json,
    state_dir,
    subject_secret,
    write_json,
)

if TYPE_CHECKING:
    import ledger

NAME = "credit"
app = typer.Typer(
    help="Public credit (公共信用): events, disputes, scores, attestations, 双随机 sampling.",
    no_args_is_help=True,
)

_ORG = typer.Option(..., "--org", help="The acting organisation (its keystore name).")
_DIR = typer.Option(None, "--dir", help="Keystore folder (default: $TDEX_HOME or ./var/keys).")
_STATE = typer.Option(None, "--state-dir", help="Where deployment.json is (default: $TDEX_CERT_DIR).")
_RPC = typer.Option(..., "--rpc", help="JSON-RPC URL of the chain.")
_MANIFEST = typer.Option(None, "--manifest", help="Ledger deployment manifest.")
_LEDGER = typer.Option(None, "--credit-ledger", help="CreditLedger address (else manifest/deployment.json).")
_JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
_KDF = typer.Option("moderate", "--kdf-profile", hidden=True)
_BEIJING = dt.timezone(dt.timedelta(hours=8))
_EVIDENCE = typer.Option(..., "--evidence", help="The evidence document (its hash goes on chain).")
_GROUNDS = typer.Option(..., "--grounds", help="The subject's (signed) dispute request.")
_DECISION = typer.Option(..., "--decision", help="The written decision (its hash goes on chain).")
_CORRECTION_EVIDENCE = typer.Option(..., "--evidence", help="Evidence for the corrected event.")
_CORRECTION_DECISION = typer.Option(..., "--decision", help="The written decision.")
_ATTESTATION_OUT = typer.Option(None, "--out", "-o", help="Write the attestation here (default: stdout).")
_ATTESTATION_FILE = typer.Argument(..., help="A threshold attestation.")
_TRUSTED_ATTESTERS = typer.Option(..., "--trusted-attester", help="An attester DID you trust; repeatable.")
_POPULATION = typer.Option(
    ..., "--population", help='JSON list of {"uscc", "grade"}, or of USCCs (graded from the chain).'
)
_INSPECTORS = typer.Option(None, "--inspectors", help="JSON list of inspector ids.")
_PLAN_OUT = typer.Option(None, "--out", "-o", help="Also write the plan (JSON) here.")


def _when(value: str | None, what: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise fail(f"error: {what} is required", 2)
        return default
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return int(dt.datetime.fromisoformat(value).replace(tzinfo=_BEIJING).timestamp())
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"error: {what} {value!r} is not a date or an RFC 3339 time", 2) from None
    if moment.tzinfo is None:
        raise fail(f"error: {what} needs a time zone (e.g. Z or +08:00)", 2)
    return int(moment.timestamp())


def _digest_of(path: Path) -> bytes:
    """SHA-256 of a file: of its canonical JSON when it is JSON (so formatting does not matter)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(f"error: {path}: {exc.strerror or exc}", 2) from None
    try:
        return sha256(canonical_json(read_json(path)))
    except typer.Exit:
        return sha256(raw)


def _subject(uscc: str) -> bytes:
    try:
        validate_uscc(uscc)
    except KeysError as exc:
        raise fail(f"error [{exc.code}]: {exc}", 2) from None
    return subject_ref(uscc, subject_secret())


def _ledger(
    chain: ledger.Chain, explicit: str | None, manifest: Path | None, state: Path | None
) -> ledger.CreditLedger:
    import ledger

    return ledger.CreditLedger(
        chain, contract_address("CreditLedger", chain, explicit, manifest, state_dir(state))
    )


def model_events(credit: ledger.CreditLedger, *, upto: int | None = None) -> list[CreditEvent]:
    """The ledger's events 1..`upto` (default: all) as the scoring model's `CreditEvent`s."""
    return model_events_from(list(credit.all_events(upto=upto)))


def score_subject(
    credit: ledger.CreditLedger, reference: bytes, *, as_of: int, checkpoint: int | None = None
) -> CreditScore:
    """Score a subject from the chain's events as of `checkpoint` (default: the current event count)."""
    upto = credit.event_count() if checkpoint is None else checkpoint
    mine = [credit.event(i) for i in credit.subject_event_ids(reference) if i <= upto]
    return compute_score(model_events_from(mine), reference, as_of=as_of, checkpoint=upto)


def model_events_from(records: list[Any]) -> list[CreditEvent]:
    """Convert ledger `CreditEventRecord`s to the model's `CreditEvent`s."""
    from credentials import EventStatus

    return [
        CreditEvent(
            e.event_id,
            e.subject_ref,
            CreditCategory(int(e.category)),
            e.weight,
            e.evidence_hash,
            e.recorder,
            e.effective_from,
            e.effective_until,
            e.recorded_at,
            e.corrects,
            EventStatus(int(e.status)),
        )
        for e in records
    ]


def _revert(exc: Exception) -> typer.Exit:
    code = getattr(exc, "code", "error")
    return fail(f"error [{code}]: {exc}")


# ------------------------------------------------------------------------------- commands


@app.command("record")
def record(
    org: str = _ORG,
    uscc: str = typer.Option(..., "--uscc", help="The subject's unified social credit code."),
    category: str = typer.Option(..., "--category", help="e.g. administrative-penalty, commendation."),
    weight: int = typer.Option(..., "--weight", help="Signed points (bounded per category by the model)."),
    evidence: Path = _EVIDENCE,
    effective_from: str | None = typer.Option(None, "--from", help="Effective from (default: now)."),
    effective_until: str | None = typer.Option(None, "--until", help="End of the public-notice period."),
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    directory: Path | None = _DIR,
    state: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Record a credit event about USCC as ORG (a CREDIT_RECORDER); prints the event id."""
    try:
        kind = CreditCategory.parse(category)
        MODEL_V1.check_weight(kind, weight)
    except CredentialsError as exc:
        raise fail(f"error [{exc.code}]: {exc}", 2) from None
    reference, proof = _subject(uscc), _digest_of(evidence)
    keys = load_org(org, directory, kdf_profile)
    start = _when(effective_from, "--from", int(dt.datetime.now(dt.UTC).timestamp()))
    end = _when(effective_until, "--until", 0)
    import ledger

    with connect(rpc) as chain:
        try:
            event_id = _ledger(chain, credit_ledger, manifest, state).record(
                chain_signer(keys), reference, ledger.CreditCategory(int(kind)), weight, proof, start, end
            )
        except ledger.LedgerError as exc:
            raise _revert(exc) from None
    typer.echo(str(event_id))


@app.command("dispute")
def dispute(
    event_id: int = typer.Argument(..., help="The disputed event."),
    org: str = typer.Option(..., "--org", help="The CREDIT_RECORDER filing on the subject's behalf."),
    grounds: Path = _GROUNDS,
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    directory: Path | None = _DIR,
    state: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """File the subject's dispute of EVENT_ID; a signed request (tdex.signed) is checked first."""
    document = read_json(grounds)
    if isinstance(document, dict) and document.get("kind") == "tdex.signed":
        from keys import verify_signed

        try:
            verify_signed(document)
        except KeysError as exc:
            raise fail(f"error [{exc.code}]: the dispute request's signature: {exc}") from None
    keys = load_org(org, directory, kdf_profile)
    import ledger

    with connect(rpc) as chain:
        try:
            _ledger(chain, credit_ledger, manifest, state).dispute(
                chain_signer(keys), event_id, _digest_of(grounds)
            )
        except ledger.LedgerError as exc:
            raise _revert(exc) from None
    typer.echo(f"event {event_id}: disputed")


@app.command("uphold")
def uphold(
    event_id: int = typer.Argument(..., help="The disputed event."),
    org: str = typer.Option(..., "--org", help="The organisation that recorded the event."),
    decision: Path = _DECISION,
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    directory: Path | None = _DIR,
    state: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Reject the dispute of EVENT_ID: the event stands."""
    keys = load_org(org, directory, kdf_profile)
    import ledger

    with connect(rpc) as chain:
        try:
            _ledger(chain, credit_ledger, manifest, state).uphold(
                chain_signer(keys), event_id, _digest_of(decision)
            )
        except ledger.LedgerError as exc:
            raise _revert(exc) from None
    typer.echo(f"event {event_id}: upheld")


@app.command("correct")
def correct(
    event_id: int = typer.Argument(..., help="The event to correct (credit repair or a dispute's answer)."),
    org: str = typer.Option(..., "--org", help="The organisation that recorded the event."),
    weight: int = typer.Option(..., "--weight", help="The corrected weight (0 annuls the event)."),
    evidence: Path = _CORRECTION_EVIDENCE,
    decision: Path = _CORRECTION_DECISION,
    effective_from: str | None = typer.Option(
        None, "--from", help="Effective from (default: the original's)."
    ),
    effective_until: str | None = typer.Option(
        None, "--until", help="End of the notice period (default: none)."
    ),
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    directory: Path | None = _DIR,
    state: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Correct EVENT_ID with a new event that references it; the original stays on record."""
    keys = load_org(org, directory, kdf_profile)
    import ledger

    with connect(rpc) as chain:
        credit = _ledger(chain, credit_ledger, manifest, state)
        try:
            original = credit.event(event_id)
            MODEL_V1.check_weight(CreditCategory(int(original.category)), weight)
            start = _when(effective_from, "--from", original.effective_from)
            end = _when(effective_until, "--until", 0)
            new_id = credit.correct(
                chain_signer(keys), event_id, weight, _digest_of(evidence), start, end, _digest_of(decision)
            )
        except CredentialsError as exc:
            raise fail(f"error [{exc.code}]: {exc}", 2) from None
        except ledger.LedgerError as exc:
            raise _revert(exc) from None
    typer.echo(str(new_id))


@app.command("score")
def score(
    uscc: str = typer.Argument(..., help="The subject's unified social credit code."),
    at: str | None = typer.Option(None, "--at", help="Score as of this time (default: now)."),
    checkpoint: int | None = typer.Option(None, "--checkpoint", help="Only events 1..N (default: all)."),
    as_json: bool = _JSON,
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    state: Path | None = _STATE,
) -> None:
    """Explain USCC's score (model tdex-credit-v1) event by event, recomputed from the chain."""
    reference = _subject(uscc)
    as_of = _when(at, "--at", int(dt.datetime.now(dt.UTC).timestamp()))
    with connect(rpc) as chain:
        result = score_subject(
            _ledger(chain, credit_ledger, manifest, state), reference, as_of=as_of, checkpoint=checkpoint
        )
    if as_json:
        print_json({**result.to_json(), "uscc": uscc})
        return
    when = dt.datetime.fromtimestamp(as_of, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    typer.echo(
        f"{uscc}: score {result.score}, grade {result.grade} ({result.model}, as of {when}, "
        f"checkpoint {result.checkpoint})"
    )
    typer.echo(f"  base {MODEL_V1.base}")
    for c in result.contributions:
        typer.echo(
            f"  event {c.event_id:>5} {c.category.name:24s} weight {c.weight:>5} age {c.age_days:>5}d "
            f"× {c.factor} = {c.points:>8}  ({c.note})"
        )
    typer.echo(f"  events digest {result.events_digest.hex()}")


@app.command("attest")
def attest(
    uscc: str = typer.Argument(..., help="The subject's unified social credit code."),
    org: str = typer.Option(..., "--org", help="The attesting organisation (e.g. the credit centre)."),
    threshold: int = typer.Option(..., "--threshold", help="Attest that the score is at least this."),
    audience: str | None = typer.Option(None, "--audience", help="The relying party's DID (e.g. a bank)."),
    valid_days: int = typer.Option(30, "--valid-days", min=1, max=366, help="How long the statement holds."),
    out: Path | None = _ATTESTATION_OUT,
    rpc: str = _RPC,
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    directory: Path | None = _DIR,
    state: Path | None = _STATE,
    kdf_profile: str = _KDF,
) -> None:
    """Sign "USCC's score ≥ THRESHOLD as of checkpoint N" for a bank (信易贷); refuses below it."""
    reference = _subject(uscc)
    keys = load_org(org, directory, kdf_profile)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with connect(rpc) as chain:
        credit = _ledger(chain, credit_ledger, manifest, state)
        result = score_subject(credit, reference, as_of=int(now.timestamp()))
        try:
            document = attest_threshold(
                keys.signer,
                result,
                uscc=uscc,
                threshold=threshold,
                attester_name=org,
                audience=audience,
                ledger=f"eip155:{chain.chain_id}:{credit.address}",
                valid_for=dt.timedelta(days=valid_days),
                now=now,
            )
        except CredentialsError as exc:
            raise fail(f"error [{exc.code}]: {exc}") from None
    if out is not None:
        write_json(out, document)
        typer.echo(f"attested score ≥ {threshold} for {uscc} -> {out}", err=True)
    else:
        print_json(document)


@app.command("check")
def check(
    file: Path = _ATTESTATION_FILE,
    trusted: list[str] = _TRUSTED_ATTESTERS,
    min_score: int = typer.Option(..., "--min-score", help="The score the attestation must guarantee."),
    uscc: str | None = typer.Option(None, "--uscc", help="The subject it must be about."),
    audience: str | None = typer.Option(None, "--audience", help="Your DID, when it names one."),
) -> None:
    """Check a threshold attestation as a bank does, without the events; exit 0 when it holds."""
    try:
        result = verify_threshold_attestation(
            read_json(file), trusted_attesters=trusted, min_score=min_score, uscc=uscc, audience=audience
        )
    except CredentialsError as exc:
        raise fail(f"invalid [{exc.code}]: {exc}") from None
    typer.echo(
        f"valid: {result.uscc} scored ≥ {result.score_at_least} ({result.model}) at checkpoint "
        f"{result.event_count}, attested by {result.attester}, until {result.valid_until:%Y-%m-%d}"
    )


@app.command("sample")
def sample(
    seed: str = typer.Option(
        ..., "--seed", help="The published seed (e.g. a block hash announced beforehand)."
    ),
    population: Path = _POPULATION,
    inspectors: Path | None = _INSPECTORS,
    per_subject: int = typer.Option(2, "--per-subject", min=1, help="Inspectors per drawn subject."),
    as_json: bool = _JSON,
    out: Path | None = _PLAN_OUT,
    rpc: str | None = typer.Option(None, "--rpc", help="Chain to grade USCCs listed without a grade."),
    manifest: Path | None = _MANIFEST,
    credit_ledger: str | None = _LEDGER,
    state: Path | None = _STATE,
) -> None:
    """Draw a 双随机 inspection list whose probabilities follow credit grades, reproducible from SEED."""
    listed = read_json(population)
    pool = read_json(inspectors) if inspectors is not None else []
    if not isinstance(listed, list) or not isinstance(pool, list):
        raise fail("error: --population and --inspectors must be JSON lists", 2)
    graded: list[tuple[str, str]] = []
    ungraded = [p for p in listed if isinstance(p, str)]
    graded += [(str(p["uscc"]), str(p["grade"])) for p in listed if isinstance(p, dict)]
    if ungraded:
        if rpc is None:
            raise fail("error: USCCs without a grade need --rpc to be graded from the chain", 2)
        now = int(dt.datetime.now(dt.UTC).timestamp())
        with connect(rpc) as chain:
            credit = _ledger(chain, credit_ledger, manifest, state)
            graded += [(u, score_subject(credit, _subject(u), as_of=now).grade) for u in ungraded]
    try:
        plan = draw_inspection_sample(
            graded, seed, inspectors=[str(i) for i in pool], inspectors_per_subject=per_subject
        )
    except CredentialsError as exc:
        raise fail(f"error [{exc.code}]: {exc}", 2) from None
    if out is not None:
        write_json(out, plan.to_json())
    if as_json:
        print_json(plan.to_json())
        return
    typer.echo(f"drew {len(plan.selected)} of {plan.population} (seed {seed}, digest {plan.digest.hex()})")
    for subject, grade, assigned in plan.selected:
        typer.echo(f"  {subject}  grade {grade}  {', '.join(assigned)}")
