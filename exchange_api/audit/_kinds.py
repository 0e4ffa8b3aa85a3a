"""The registered entry kinds: each with its schema version and the record fields it requires.

A kind's ``version`` changes whenever the shape of its record changes, so an entry can always be
read with the schema it was written under. Kinds not registered here are still logged (losing a
state change from the trail would be worse) and ``tdex audit check`` lists them as unregistered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange_api.audit.errors import InvalidRecord

__all__ = ["KINDS", "EntryKind", "check_record", "version_of"]


@dataclass(frozen=True)
class EntryKind:
    """One kind of state change: name, schema version, required record fields, what it means."""

    name: str
    version: int
    required: tuple[str, ...]
    summary: str


KINDS: Mapping[str, EntryKind] = {
    k.name: k
    for k in (
        EntryKind("org.bootstrapped", 1, ("org_id", "uscc"), "the bureau created at first start"),
        EntryKind("org.admitted", 1, ("org_id", "uscc", "role"), "an organisation admitted by the bureau"),
        EntryKind("org.suspended", 1, ("org_id", "reason"), "an organisation suspended"),
        EntryKind("console.signed_in", 1, ("key_id",), "an organisation signed in to the web console"),
        EntryKind("console.signed_out", 1, (), "an organisation signed out of the web console"),
        EntryKind("catalog.registered", 1, ("code", "metadata_hash"), "a catalogue entry registered"),
        EntryKind(
            "catalog.version_published",
            1,
            ("code", "resource_version", "metadata_hash"),
            "a new version of a catalogue entry",
        ),
        EntryKind("catalog.withdrawn", 1, ("code", "reason"), "a catalogue entry withdrawn"),
        EntryKind("application.submitted", 1, ("code",), "an application for a conditional share"),
        EntryKind("application.under_review", 1, (), "the provider started reviewing an application"),
        EntryKind("application.approved", 1, ("grant_id", "agreement_hash"), "an application approved"),
        EntryKind("application.granted", 1, ("grant_id", "agreement_hash"), "an unconditional share granted"),
        EntryKind("application.rejected", 1, ("reason",), "an application rejected with its reason"),
        EntryKind("application.refused", 1, ("reason",), "an application refused at once (not shareable)"),
        EntryKind("application.withdrawn", 1, (), "an application withdrawn by its applicant"),
        EntryKind("application.cancelled", 1, ("reason",), "an application cancelled by the system"),
        EntryKind("grant.revoked", 1, ("grant_id", "reason"), "a grant revoked by its provider"),
        EntryKind("chain.anchored", 1, ("tx_hash", "block"), "a queued chain write confirmed"),
        EntryKind("chain.failed", 1, ("reason",), "a queued chain write failed for good"),
        EntryKind(
            "chain.discrepancy",
            1,
            ("field", "store_value", "chain_value"),
            "the chain and the store disagree",
        ),
        # The sandbox's jobs and receipts; the risk signals read these fields.
        EntryKind("job.submitted", 1, ("grant_id", "job_id", "template"), "a computation submitted"),
        EntryKind(
            "job.receipt",
            1,
            ("grant_id", "job_id", "template", "outcome"),
            "a node's receipt: outcome, refusal_reason, budget_left, budget_total",
        ),
        EntryKind(
            "tdex.sandbox.receipt",
            1,
            ("receipt_id", "job_id", "outcome", "grant_id"),
            "a node's signed receipt of a job (sandbox.node)",
        ),
        EntryKind(
            "tdex.cert.issued",
            1,
            ("credentialId", "anchorId", "documentHash"),
            "a credential issued (credentials)",
        ),
        EntryKind(
            "tdex.cert.status-changed", 1, ("credentialId", "status"), "a credential revoked or suspended"
        ),
        EntryKind("tdex.credit.attested", 1, ("attestation", "subjectRef"), "a credit attestation made"),
        EntryKind("certificate.issued", 1, ("certificate_id", "document_hash"), "an e-certificate issued"),
        EntryKind("certificate.revoked", 1, ("certificate_id", "reason"), "an e-certificate revoked"),
        EntryKind("credit.recorded", 1, ("subject_ref", "category", "evidence_hash"), "a credit event"),
        EntryKind("credit.disputed", 1, ("subject_ref", "reason"), "a credit event disputed"),
        # Certificate-free service (免证办) and credit gating in the exchange.
        EntryKind("certificate.suspended", 1, ("certificate_id", "reason"), "an e-certificate suspended"),
        EntryKind("certificate.reinstated", 1, ("certificate_id",), "an e-certificate made active again"),
        EntryKind("certificate.consent_given", 1, (), "a subject's consent to a verifier's look-ups"),
        EntryKind("certificate.grant_given", 1, (), "the bureau's grant of look-ups without consent"),
        EntryKind("certificate.consent_revoked", 1, (), "a consent or grant withdrawn"),
        EntryKind("certificate.looked_up", 1, (), "a verifier looked up a subject's certificates"),
        EntryKind("credit.requirement_set", 1, (), "a minimum credit grade set on a resource"),
        EntryKind("node.registered", 1, (), "a department node registered with the exchange"),
        # The job lifecycle after submission (job.submitted above).
        EntryKind("job.authorised", 1, (), "a job's grant checked and the job authorised"),
        EntryKind("job.running", 1, (), "a job started on the department nodes"),
        EntryKind("job.completed", 1, (), "a job completed; its result sealed to the requester"),
        EntryKind("job.failed", 1, (), "a job failed, with its reason"),
        EntryKind("job.cancelled", 1, (), "a job cancelled before completion"),
        EntryKind("job.expired", 1, (), "a job stopped at its deadline or when its grant ended"),
    )
}


def version_of(kind: str, record: Mapping[str, Any]) -> int:
    """The schema version an entry of ``kind`` is written under."""
    registered = KINDS.get(kind)
    if registered is not None:
        return registered.version
    version = record.get("version", 1)
    return version if type(version) is int and version >= 0 else 1


def check_record(kind: str, record: Mapping[str, Any]) -> None:
    """Raise InvalidRecord when a registered kind's record lacks a required field or has another version."""
    registered = KINDS.get(kind)
    if registered is None:
        return
    missing = [name for name in registered.required if name not in record]
    if missing:
        raise InvalidRecord(f"a {kind} record needs {', '.join(missing)}", kind=kind, missing=missing)
    version = record.get("version", registered.version)
    if version != registered.version:
        raise InvalidRecord(f"{kind} records are version {registered.version}, got {version!r}", kind=kind)
