"""Signed job documents and the member directory a node checks their signers against.

A job is authorised by its requester, not by whoever carries it: the requester signs a
``tdex.sandbox.job`` payload (`keys.sign_document`), the exchange or the requester itself posts it
to the node, and the node verifies the signature against its directory of member identities
(public `tdex.org-identity` documents provisioned by the operator). The grant on chain then says
whether that organisation may run that template on this node's resource.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys import OrgIdentity, verify_signed
from keys.errors import KeysError
from sandbox._federated import TrainingPlan
from sandbox.errors import StateInvalid
from sandbox.node.errors import JobRejected, UnknownRequester

__all__ = ["JOB_KIND", "Directory", "FederatedSpec", "JobSpec", "SignedJob", "job_payload"]

JOB_KIND = "tdex.sandbox.job"
MEMBERS_KIND = "tdex.sandbox.members"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _time(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise JobRejected(f"{name} must be a YYYY-MM-DDTHH:MM:SSZ time")
    try:
        return dt.datetime.strptime(value, _TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        raise JobRejected(f"{name} must be a YYYY-MM-DDTHH:MM:SSZ time") from None


def _digest(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise JobRejected(f"{name} must be sha256:<64 hex digits>")
    return value


@dataclass(frozen=True)
class FederatedSpec:
    """The federated part of a training job: who takes part, the moments template, the requester's plan."""

    participants: tuple[str, ...]
    moments_template: str
    plan: TrainingPlan

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "participants": list(self.participants),
            "moments_template": self.moments_template,
            "plan": self.plan.to_dict(),
        }

    @classmethod
    def from_dict(cls, raw: Any) -> FederatedSpec:
        """Inverse of `to_dict`; `JobRejected` when malformed."""
        if not isinstance(raw, Mapping):
            raise JobRejected("federated must be an object")
        parts = raw.get("participants")
        if not isinstance(parts, list) or not parts or not all(isinstance(p, str) and p for p in parts):
            raise JobRejected("federated.participants must be a list of node names")
        if len(set(parts)) != len(parts):
            raise JobRejected("federated.participants must be distinct")
        try:
            plan = TrainingPlan.from_dict(raw.get("plan") or {})
        except StateInvalid as exc:
            raise JobRejected(f"federated.plan: {exc}") from None
        return cls(tuple(parts), _digest(raw.get("moments_template"), "federated.moments_template"), plan)


@dataclass(frozen=True)
class JobSpec:
    """What a requester asks one node to run.

    ``inputs`` name content-addressed blobs already uploaded to the node (a public HE context,
    encrypted model weights) by digest; ``dataset`` optionally pins the dataset version.
    """

    job_id: str
    node: str
    grant_id: int
    resource_code: str
    template: str
    params: Mapping[str, Any]
    not_after: str
    inputs: Mapping[str, str | tuple[str, ...]]
    dataset: str | None = None
    federated: FederatedSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        """The payload a requester signs."""
        return {
            "kind": JOB_KIND,
            "version": 1,
            "job_id": self.job_id,
            "node": self.node,
            "grant_id": self.grant_id,
            "resource_code": self.resource_code,
            "template": self.template,
            "params": dict(self.params),
            "inputs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.inputs.items()},
            "dataset": self.dataset,
            "not_after": self.not_after,
            "federated": self.federated.to_dict() if self.federated else None,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> JobSpec:
        """Parse a job payload; `JobRejected` names what is wrong."""
        if not isinstance(raw, Mapping) or raw.get("kind") != JOB_KIND or raw.get("version") != 1:
            raise JobRejected(f"payload must be a {JOB_KIND} version 1 object")
        job_id = raw.get("job_id")
        if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
            raise JobRejected("job_id must be 1-80 characters of A-Z a-z 0-9 _ . : -")
        grant_id = raw.get("grant_id")
        if isinstance(grant_id, bool) or not isinstance(grant_id, int) or grant_id < 1:
            raise JobRejected("grant_id must be a positive integer (the chain's grant id)")
        node, code = raw.get("node"), raw.get("resource_code")
        if not isinstance(node, str) or not isinstance(code, str) or not node or not code:
            raise JobRejected("node and resource_code must be non-empty strings")
        params = raw.get("params")
        if not isinstance(params, Mapping):
            raise JobRejected("params must be an object")
        inputs: dict[str, str | tuple[str, ...]] = {}
        raw_inputs = raw.get("inputs") or {}
        if not isinstance(raw_inputs, Mapping):
            raise JobRejected("inputs must be an object of blob digests")
        for name, ref in raw_inputs.items():
            if isinstance(ref, list):
                inputs[str(name)] = tuple(_digest(r, f"inputs.{name}") for r in ref)
            else:
                inputs[str(name)] = _digest(ref, f"inputs.{name}")
        dataset = raw.get("dataset")
        if dataset is not None:
            dataset = _digest(dataset, "dataset")
        not_after = raw.get("not_after")
        _time(not_after, "not_after")
        federated = raw.get("federated")
        return cls(
            job_id=job_id,
            node=node,
            grant_id=grant_id,
            resource_code=code,
            template=_digest(raw.get("template"), "template"),
            params=dict(params),
            not_after=str(not_after),
            inputs=inputs,
            dataset=dataset,
            federated=FederatedSpec.from_dict(federated) if federated is not None else None,
        )

    def deadline(self) -> dt.datetime:
        """``not_after`` as an aware datetime."""
        return _time(self.not_after, "not_after")


def job_payload(
    *,
    job_id: str,
    node: str,
    grant_id: int,
    resource_code: str,
    template: str,
    params: Mapping[str, Any],
    not_after: dt.datetime,
    inputs: Mapping[str, str | tuple[str, ...]] | None = None,
    dataset: str | None = None,
    federated: FederatedSpec | None = None,
) -> dict[str, Any]:
    """The payload a requester signs with `OrgKeys.sign_document` (checked by parsing it back)."""
    spec = JobSpec(
        job_id,
        node,
        grant_id,
        resource_code,
        template,
        params,
        not_after.astimezone(dt.UTC).strftime(_TIME),
        dict(inputs or {}),
        dataset,
        federated,
    )
    payload = spec.to_dict()
    JobSpec.from_dict(json.loads(json.dumps(payload)))
    return payload


@dataclass(frozen=True)
class SignedJob:
    """A job whose signature verified against a member of the directory."""

    spec: JobSpec
    requester: OrgIdentity
    signed_at: str
    document: Mapping[str, Any]


class Directory:
    """The member identities a node trusts to sign jobs and to take part in federated rounds."""

    def __init__(self, identities: Iterable[OrgIdentity]) -> None:
        self._by_org: dict[str, OrgIdentity] = {}
        self._by_did: dict[str, OrgIdentity] = {}
        for ident in identities:
            self._by_org[ident.org] = ident
            for key in (*ident.current_verify_keys(), *(r.key for r in ident.retired_signing_keys)):
                self._by_did[key.did] = ident

    @classmethod
    def from_json(cls, data: Any) -> Directory:
        """Read ``{"kind": "tdex.sandbox.members", "version": 1, "members": [<org identity>...]}``."""
        if not isinstance(data, Mapping) or data.get("kind") != MEMBERS_KIND or data.get("version") != 1:
            raise StateInvalid(MEMBERS_KIND, "wrong kind or version")
        members = data.get("members")
        if not isinstance(members, list):
            raise StateInvalid(MEMBERS_KIND, "members must be a list of org identities")
        try:
            return cls(OrgIdentity.from_json(m) for m in members)
        except KeysError as exc:
            raise StateInvalid(MEMBERS_KIND, str(exc)) from None

    @classmethod
    def load(cls, path: str | Path) -> Directory:
        """Read a members file."""
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise StateInvalid(MEMBERS_KIND, f"{path}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """JSON form (a members file)."""
        return {
            "kind": MEMBERS_KIND,
            "version": 1,
            "members": [i.to_json() for _, i in sorted(self._by_org.items())],
        }

    def __contains__(self, org: object) -> bool:
        return org in self._by_org

    def get(self, org: str) -> OrgIdentity:
        """The identity of member `org`, or `UnknownRequester`."""
        try:
            return self._by_org[org]
        except KeyError:
            raise UnknownRequester(org) from None

    def verify_job(self, document: Any) -> SignedJob:
        """Check a signed job document: a known member signed it; return the parsed job."""
        if not isinstance(document, Mapping):
            raise JobRejected("the job must be a signed document (kind tdex.signed)")
        try:
            unverified = verify_signed(document)
        except KeysError as exc:
            raise JobRejected(f"signature: {exc}") from None
        ident = self._by_did.get(unverified.signer.did)
        if ident is None:
            raise UnknownRequester(unverified.signer.did)
        try:
            payload = ident.verify_document(document)  # also refuses a key used after its retirement
        except KeysError as exc:
            raise JobRejected(f"signature: {exc}") from None
        return SignedJob(JobSpec.from_dict(payload), ident, unverified.created, document)
