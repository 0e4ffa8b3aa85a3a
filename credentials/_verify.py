"""The credential verifier: one report with a separate result for proof, schema, validity, status, anchor.

Outcomes: `pass`, `fail`, `not_applicable` (the credential has nothing to check there, e.g. no
credentialStatus), `not_anchored` (no anchor and none claimed: a credential from outside the
consortium; not a failure), `skipped` (the check applies but the verifier was not given the means,
e.g. no chain; a failure only in strict mode). The report is `ok` when the proof passes and no
check fails.

A credential *claims* an anchor when its issuer names a chain account (`issuer.chainAccount`, a
CAIP-10 id covered by the proof); then a missing anchor is a failure, not "not anchored".
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from credentials import errors
from credentials._anchor import (
    AnchoredCertificate,
    CertificateAnchors,
    CertificateStatus,
    certificate_anchor_id,
    encoded_list_hash,
    parse_chain_account,
    status_list_id,
)
from credentials._model import as_list, issuer_id
from credentials._proof import CRYPTOSUITES, KeyResolver, VerifiedProof, verify_proof
from credentials._schemas import SchemaRegistry, default_registry
from credentials._status import (
    StatusEntry,
    StatusList,
    StatusPurpose,
    parse_status_entry,
    read_status_list_credential,
)
from credentials._time import Clock, format_time, parse_time, system_clock
from credentials.errors import CredentialsError
from keys import Suite, digest

__all__ = [
    "CHECKS",
    "CheckResult",
    "Outcome",
    "StatusListResolver",
    "VerificationReport",
    "Verifier",
    "error_class",
]

CHECKS = ("proof", "schema", "validity", "status", "anchor")
REPORT_KIND = "tdex.credential-verification"

#: Returns the status list credential published at a URL, or None when it cannot be obtained.
StatusListResolver = Callable[[str], Mapping[str, Any] | None]


class Outcome(StrEnum):
    """The result of one check."""

    PASS = "pass"  # noqa: S105 - an outcome name, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NOT_ANCHORED = "not_anchored"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome, a sentence saying why, and the error code when it failed."""

    check: str
    outcome: Outcome
    detail: str
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as JSON (`code` only when it failed)."""
        out: dict[str, Any] = {"outcome": str(self.outcome), "detail": self.detail}
        if self.code is not None:
            out["code"] = self.code
        return out


def error_class(code: str) -> type[CredentialsError]:
    """The exception class of this package with the stable code `code` (the root for unknown codes)."""
    for name in errors.__all__:
        cls = getattr(errors, name)
        if getattr(cls, "code", None) == code:
            return cls
    return CredentialsError


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """What a verification found, check by check, at time `verified_at`."""

    credential_id: str | None
    issuer: str | None
    verification_method: str | None
    cryptosuite: str | None
    verified_at: str
    checks: tuple[CheckResult, ...]
    strict: bool = False

    def check(self, name: str) -> CheckResult:
        """The result of check `name` (one of CHECKS)."""
        for result in self.checks:
            if result.check == name:
                return result
        raise KeyError(name)

    @property
    def ok(self) -> bool:
        """True when the proof passed and no check failed (nor, in strict mode, was skipped)."""
        bad = {Outcome.FAIL, Outcome.SKIPPED} if self.strict else {Outcome.FAIL}
        return self.check("proof").outcome is Outcome.PASS and all(c.outcome not in bad for c in self.checks)

    def failures(self) -> list[CheckResult]:
        """The checks that count against `ok`."""
        bad = {Outcome.FAIL, Outcome.SKIPPED} if self.strict else {Outcome.FAIL}
        return [c for c in self.checks if c.outcome in bad]

    def raise_for_failure(self) -> None:
        """Raise the error of the first failed check (its class from its code); do nothing when ok."""
        for result in self.failures():
            raise error_class(result.code or "credentials.error")(f"{result.check}: {result.detail}")

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (kind tdex.credential-verification, version 1)."""
        return {
            "kind": REPORT_KIND,
            "version": 1,
            "ok": self.ok,
            "credential": self.credential_id,
            "issuer": self.issuer,
            "verificationMethod": self.verification_method,
            "cryptosuite": self.cryptosuite,
            "verifiedAt": self.verified_at,
            "strict": self.strict,
            "checks": {c.check: c.to_json() for c in self.checks},
        }


def _pass(check: str, detail: str) -> CheckResult:
    return CheckResult(check, Outcome.PASS, detail)


def _fail(check: str, error: CredentialsError) -> CheckResult:
    return CheckResult(check, Outcome.FAIL, str(error), error.code)


class Verifier:
    """Verifies credentials against a schema registry, status lists and (optionally) a chain's anchors.

    Parameters
    ----------
    schemas:
        JSON Schemas credentials may name; default: the built-in certificate types.
    status_lists:
        Where status list credentials come from: a function of the URL, or a mapping URL → credential.
    anchors:
        The certificate registry of a chain (see `CertificateAnchors`); None verifies offline.
    clock:
        Returns "now" for the validity window and proof expiry (injectable for tests).
    trusted_issuers:
        When given, the signing key's controller (a did:key) must be one of these DIDs.
    key_resolver:
        Resolves verification methods that are not did:keys.
    require_status:
        When True (default), a status list that cannot be obtained fails the status check;
        when False it is reported as skipped.
    strict:
        When True, any skipped check (no chain given for an anchored credential...) fails `ok`.
    """

    def __init__(
        self,
        *,
        schemas: SchemaRegistry | None = None,
        status_lists: StatusListResolver | Mapping[str, Mapping[str, Any]] | None = None,
        anchors: CertificateAnchors | None = None,
        clock: Clock = system_clock,
        trusted_issuers: Iterable[str] | None = None,
        key_resolver: KeyResolver | None = None,
        require_status: bool = True,
        strict: bool = False,
    ) -> None:
        self._schemas = schemas if schemas is not None else default_registry()
        if status_lists is None:
            self._lists: StatusListResolver | None = None
        elif isinstance(status_lists, Mapping):
            self._lists = status_lists.get
        else:
            self._lists = status_lists
        self._anchors = anchors
        self._clock = clock
        self._trusted = frozenset(trusted_issuers) if trusted_issuers is not None else None
        self._key_resolver = key_resolver
        self._require_status = require_status
        self._strict = strict
        # Copies of status list credentials whose proof verified (compared whole, see below),
        # and decoded lists keyed by their encodedList: most credentials share a handful of lists.
        self._verified_lists: list[dict[str, Any]] = []
        self._decoded: dict[str, StatusList] = {}

    # ------------------------------------------------------------------------------- checks

    def _check_proof(
        self, credential: Mapping[str, Any], now: datetime
    ) -> tuple[CheckResult, VerifiedProof | None]:
        try:
            proofs = verify_proof(credential, resolver=self._key_resolver, now=now)
            issuer = issuer_id(credential)
            for proof in proofs:
                if issuer.startswith("did:") and proof.controller != issuer:
                    raise errors.IssuerMismatch(
                        f"issuer is {issuer[:60]} but the proof is made by {proof.controller[:60]}"
                    )
                if self._trusted is not None and proof.controller not in self._trusted:
                    raise errors.UntrustedIssuer(f"{proof.controller[:60]} is not a trusted issuer")
        except CredentialsError as exc:
            return _fail("proof", exc), None
        first = proofs[0]
        detail = f"{first.cryptosuite} proof by {first.verification_method}"
        if len(proofs) > 1:
            detail += f" (and {len(proofs) - 1} more proof(s))"
        if not issuer.startswith("did:"):
            detail += f"; issuer {issuer[:60]} is not a DID, so only the signing key is proven"
        return _pass("proof", detail), first

    def _check_schema(self, credential: Mapping[str, Any]) -> CheckResult:
        try:
            checked = self._schemas.validate(credential)
        except CredentialsError as exc:
            return _fail("schema", exc)
        if not checked:
            return _pass("schema", "VC 2.0 data model conforms; no credentialSchema named")
        return _pass("schema", "conforms to " + ", ".join(checked))

    def _check_validity(self, credential: Mapping[str, Any], now: datetime) -> CheckResult:
        try:
            start = parse_time(credential["validFrom"], "validFrom") if "validFrom" in credential else None
            end = parse_time(credential["validUntil"], "validUntil") if "validUntil" in credential else None
            if start is not None and now < start:
                raise errors.NotYetValid(f"valid from {format_time(start)}, checked at {format_time(now)}")
            if end is not None and now > end:
                raise errors.Expired(f"valid until {format_time(end)}, checked at {format_time(now)}")
        except CredentialsError as exc:
            return _fail("validity", exc)
        if start is None and end is None:
            return _pass("validity", "no validity window stated")
        window = f"{format_time(start) if start else '…'} to {format_time(end) if end else '…'}"
        return _pass("validity", f"inside {window}")

    def _list_credential_ok(self, list_credential: Mapping[str, Any], now: datetime) -> None:
        # A deep equality test against copies of lists already verified costs microseconds, and a
        # list changed in any way (even the same object mutated) no longer matches its copy.
        if any(seen == list_credential for seen in self._verified_lists):
            return
        try:
            proofs = verify_proof(list_credential, resolver=self._key_resolver, now=now)
            publisher = issuer_id(list_credential)
        except (errors.ProofError, errors.CredentialMalformed) as exc:
            raise errors.StatusListMismatch(f"the status list credential's proof fails: {exc}") from None
        if any(p.controller != publisher for p in proofs):
            # Otherwise anyone could sign a clean list that merely names the issuer.
            raise errors.StatusListMismatch("the status list credential is not signed by its issuer")
        if len(self._verified_lists) >= 64:
            self._verified_lists.pop(0)
        self._verified_lists.append(copy.deepcopy(dict(list_credential)))

    def _list_fresh(
        self, entry: StatusEntry, encoded: str, suite: Suite, record: AnchoredCertificate | None
    ) -> str:
        assert self._anchors is not None
        anchored = self._anchors.status_list(status_list_id(entry.list_url, suite))
        if anchored is None:
            raise errors.StatusListMismatch(f"status list {entry.list_url} is not anchored")
        if record is None:
            raise errors.StatusListMismatch(
                "the credential is not anchored, so its list's publisher is unknown"
            )
        if anchored.publisher_org != record.issuer_org:
            raise errors.StatusListMismatch(
                f"status list {entry.list_url} is published by another organisation"
            )
        if anchored.list_hash != encoded_list_hash(encoded, suite):
            raise errors.StatusListMismatch(
                f"status list {entry.list_url} is not the latest anchored version ({anchored.version})"
            )
        return f"version {anchored.version} anchored"

    def _check_status(
        self,
        credential: Mapping[str, Any],
        proof: VerifiedProof | None,
        record: AnchoredCertificate | None,
        now: datetime,
    ) -> CheckResult:
        entries = as_list(credential.get("credentialStatus"))
        if not entries:
            return CheckResult("status", Outcome.NOT_APPLICABLE, "no credentialStatus")
        if proof is None:
            return CheckResult("status", Outcome.SKIPPED, "not checked: the proof failed")
        suite = CRYPTOSUITES[proof.cryptosuite].suite
        notes = []
        try:
            claim = _claimed_account(credential)
            for raw in entries:
                entry = parse_status_entry(raw)
                if entry.purpose not in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
                    notes.append(f"{entry.purpose} entry ignored")
                    continue
                list_credential = self._lists(entry.list_url) if self._lists is not None else None
                if list_credential is None:
                    error = errors.StatusListUnavailable(
                        f"status list {entry.list_url} could not be obtained"
                    )
                    if self._require_status:
                        raise error
                    return CheckResult("status", Outcome.SKIPPED, str(error), error.code)
                self._list_credential_ok(list_credential, now)
                encoded = read_status_list_credential(
                    list_credential, entry, expected_issuer=issuer_id(credential), now=now
                )
                decoded = self._decoded.get(encoded)
                if decoded is None:
                    decoded = self._decoded[encoded] = StatusList.decode(encoded)
                if decoded[entry.index]:
                    if entry.purpose == StatusPurpose.REVOCATION:
                        raise errors.CredentialRevoked(f"revoked (bit {entry.index} of {entry.list_url})")
                    raise errors.CredentialSuspended(f"suspended (bit {entry.index} of {entry.list_url})")
                freshness = "freshness not checked on chain"
                if self._anchors is not None and claim is not None:
                    freshness = self._list_fresh(entry, encoded, suite, record)
                notes.append(
                    f"not {'revoked' if entry.purpose == 'revocation' else 'suspended'} ({freshness})"
                )
        except CredentialsError as exc:
            return _fail("status", exc)
        return _pass("status", "; ".join(notes))

    def _lookup(
        self, credential: Mapping[str, Any], proof: VerifiedProof | None
    ) -> AnchoredCertificate | None:
        cid = credential.get("id")
        if self._anchors is None or proof is None or not isinstance(cid, str):
            return None
        return self._anchors.certificate(certificate_anchor_id(cid, CRYPTOSUITES[proof.cryptosuite].suite))

    def _check_anchor(
        self, credential: Mapping[str, Any], proof: VerifiedProof | None, record: AnchoredCertificate | None
    ) -> CheckResult:
        try:
            claim = _claimed_account(credential)
        except CredentialsError as exc:
            return _fail("anchor", exc)
        if self._anchors is None:
            if claim is None:
                return CheckResult("anchor", Outcome.NOT_APPLICABLE, "no anchor claimed and no chain given")
            return CheckResult(
                "anchor",
                Outcome.SKIPPED,
                f"the credential claims an anchor on chain {claim[0]}; no chain given",
            )
        if proof is None:
            return CheckResult("anchor", Outcome.SKIPPED, "not checked: the proof failed")
        suite = CRYPTOSUITES[proof.cryptosuite].suite
        credential_id = credential.get("id")
        anchored_hash = digest(suite, proof.hash_data)
        try:
            if claim is not None and claim[0] != self._anchors.chain_id:
                raise errors.AnchorMismatch(
                    f"the credential is anchored on chain {claim[0]}, the verifier reads chain "
                    f"{self._anchors.chain_id}"
                )
            if claim is None:
                if record is None or record.document_hash != anchored_hash:
                    return CheckResult(
                        "anchor",
                        Outcome.NOT_ANCHORED,
                        "not anchored: a credential from outside the consortium",
                    )
            elif record is None:
                raise errors.AnchorMissing(
                    f"no anchor for {credential_id!s:.60} although the issuer claims one"
                )
            else:
                _match_record(record, credential, anchored_hash, claim[1])
            if record.status is CertificateStatus.REVOKED:
                raise errors.CredentialRevoked("the registry marks the certificate revoked")
            if record.status is CertificateStatus.SUSPENDED:
                raise errors.CredentialSuspended("the registry marks the certificate suspended")
        except CredentialsError as exc:
            return _fail("anchor", exc)
        return _pass("anchor", f"anchored by {record.anchored_by} on chain {self._anchors.chain_id}, active")

    # ------------------------------------------------------------------------------ verify

    def verify_many(
        self, credentials: Sequence[Mapping[str, Any]], *, at: datetime | None = None
    ) -> list[VerificationReport]:
        """`verify` each credential; anchors that offer `prefetch(anchor_ids)` are read in bulk first."""
        prefetch = getattr(self._anchors, "prefetch", None)
        if callable(prefetch):
            ids = []
            for credential in credentials:
                proof = credential.get("proof") if isinstance(credential, Mapping) else None
                suite = (
                    CRYPTOSUITES.get(str(proof.get("cryptosuite"))) if isinstance(proof, Mapping) else None
                )
                if suite is not None and isinstance(credential.get("id"), str):
                    ids.append(certificate_anchor_id(credential["id"], suite.suite))
            prefetch(ids)
        return [self.verify(credential, at=at) for credential in credentials]

    def verify(self, credential: Mapping[str, Any], *, at: datetime | None = None) -> VerificationReport:
        """Verify `credential` at time `at` (default: the clock) and return the report.

        A bad credential does not raise: `report.raise_for_failure()` turns a failure into its error.
        """
        now = at or self._clock()
        if not isinstance(credential, Mapping):
            error = errors.CredentialMalformed("a credential must be a JSON object")
            skipped = [CheckResult(n, Outcome.SKIPPED, "not checked: not a JSON object") for n in CHECKS[1:]]
            results = (_fail("proof", error), *skipped)
            return VerificationReport(None, None, None, None, format_time(now), results, self._strict)
        proof_result, proof = self._check_proof(credential, now)
        try:
            record = self._lookup(credential, proof)
        except CredentialsError:
            record = None
        results = (
            proof_result,
            self._check_schema(credential),
            self._check_validity(credential, now),
            self._check_status(credential, proof, record, now),
            self._check_anchor(credential, proof, record),
        )
        try:
            issuer: str | None = issuer_id(credential)
        except CredentialsError:
            issuer = None
        cid = credential.get("id")
        return VerificationReport(
            credential_id=cid if isinstance(cid, str) else None,
            issuer=issuer,
            verification_method=proof.verification_method if proof else None,
            cryptosuite=proof.cryptosuite if proof else None,
            verified_at=format_time(now),
            checks=results,
            strict=self._strict,
        )


def _claimed_account(credential: Mapping[str, Any]) -> tuple[int, str] | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping) and "chainAccount" in issuer:
        return parse_chain_account(issuer["chainAccount"])
    return None


def _seconds(credential: Mapping[str, Any], name: str) -> int:
    if name not in credential:
        return 0
    return int(parse_time(credential[name], name).timestamp())


def _match_record(record: Any, credential: Mapping[str, Any], anchored_hash: bytes, account: str) -> None:
    if record.anchored_by.lower() != account:
        raise errors.AnchorMismatch(
            f"the anchor was written by {record.anchored_by}, not by the issuer's {account}"
        )
    if record.document_hash != anchored_hash:
        raise errors.AnchorMismatch("the anchored document hash differs: this is not the anchored credential")
    if (record.valid_from, record.valid_until) != (
        _seconds(credential, "validFrom"),
        _seconds(credential, "validUntil"),
    ):
        raise errors.AnchorMismatch("the anchored validity window differs from the credential's")
