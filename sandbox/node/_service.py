"""The department node's service: check the grant on chain, run a registered template, record, sign, release.

Order for one job: signature of the requester → addressed to this node, before its deadline, never
seen before → dataset and template → inputs (a HE context must be public) → grant on chain
(requester, resource, revocation, expiry, template, uses, budget) → run (charged first) → budget
persisted → use recorded on chain (``consume``) → receipt signed and logged → result released,
sealed to the requester unless it is already ciphertext under the requester's key.

Transport-free: `sandbox.node._app` puts it behind HTTP; tests may call it directly.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys import OrgIdentity, OrgKeys, canonical_json, seal
from sandbox._accountant import BudgetAccountant, PrivacyCost
from sandbox._blobstore import FilesystemBlobStore, blob_digest
from sandbox._dp import RandomSource
from sandbox._he import load_public_context
from sandbox._runner import Ciphertexts, Runner, RunRequest, RunResult
from sandbox._table import Table
from sandbox._templates import Template, TemplateRegistry
from sandbox.errors import BlobCorrupt, InvalidParameters, SandboxError
from sandbox.node._datasets import DatasetRecord, DatasetStore
from sandbox.node._grants import GrantChecker, GrantView, UseRecord, check_grant, micro_epsilon
from sandbox.node._jobs import Directory, JobSpec, SignedJob
from sandbox.node._receipts import receipt_payload
from sandbox.node._state import BudgetStore, JobJournal, ReceiptLog
from sandbox.node.errors import JobRejected

__all__ = ["JobOutcome", "NodeService", "ReceiptSink"]

log = logging.getLogger("tdex.node")
ReceiptSink = Callable[[dict[str, Any]], None]
_TIME = "%Y-%m-%dT%H:%M:%SZ"
MAX_BLOB_BYTES = 256 * 1024 * 1024


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class JobOutcome:
    """What a finished job releases: the signed receipt and the output (sealed, or ciphertexts)."""

    receipt: dict[str, Any]
    sealed_output: bytes | None = None
    ciphertexts: Ciphertexts | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for the HTTP response."""
        out: dict[str, Any] = {"receipt": self.receipt}
        if self.sealed_output is not None:
            out["sealed_output"] = base64.b64encode(self.sealed_output).decode()
        if self.ciphertexts is not None:
            out["ciphertexts"] = {
                "blobs": [base64.b64encode(b).decode() for b in self.ciphertexts.blobs],
                "values": self.ciphertexts.values,
                "context_digest": self.ciphertexts.context_digest,
            }
        return out


def epsilon_increment(accountant: BudgetAccountant, cost: PrivacyCost) -> float:
    """How much the grant's ε (as the accountant composes it) grows if `cost` is charged."""
    if cost.rho == 0:
        return cost.epsilon
    probe = BudgetAccountant.from_dict(accountant.to_dict())
    before = probe.epsilon_spent
    probe.charge(cost, "probe")
    return probe.epsilon_spent - before


class NodeService:
    """A department's node: its datasets, its budgets and receipts, and the jobs it agrees to run."""

    def __init__(
        self,
        keys: OrgKeys,
        data_dir: str | Path,
        checker: GrantChecker,
        directory: Directory,
        *,
        registry: TemplateRegistry | None = None,
        rng: RandomSource | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        receipt_sink: ReceiptSink | None = None,
    ) -> None:
        from sandbox import default_registry

        if keys.uscc is None:
            raise InvalidParameters("keys", "a node's organisation needs its USCC (the chain's org id)")
        self.keys = keys
        self.identity: OrgIdentity = keys.identity
        self.node_id = keys.org
        self.data_dir = Path(data_dir)
        self.checker = checker
        self.directory = directory
        self.registry = registry or default_registry()
        self.runner = Runner(self.registry, rng=rng)
        self.clock = clock
        self.receipt_sink = receipt_sink
        self.datasets = DatasetStore(self.data_dir)
        self.blobs = FilesystemBlobStore(self.data_dir / "blobs")
        self.budgets = BudgetStore(self.data_dir)
        self.journal = JobJournal(self.data_dir)
        self.receipts = ReceiptLog(self.data_dir)

    # ------------------------------------------------------------------ descriptions

    def describe(self) -> dict[str, Any]:
        """The node's public description: who it is and what it holds (never a row)."""
        return {
            "kind": "tdex.sandbox.node",
            "version": 1,
            "node": self.node_id,
            "identity": self.identity.to_json(),
            "datasets": [r.to_dict() for r in self.datasets.records()],
            "templates": sorted(t.digest for t in self.registry),
        }

    def templates(self) -> list[dict[str, Any]]:
        """Descriptors of the templates this node runs, with their digests."""
        return [{"digest": t.digest, **t.descriptor, "description": t.description} for t in self.registry]

    # ------------------------------------------------------------------ blobs

    def put_blob(self, digest: str, data: bytes, *, kind: str = "blob") -> str:
        """Store a content-addressed input; an HE context must be public (`PrivateContext` otherwise)."""
        if len(data) > MAX_BLOB_BYTES:
            raise InvalidParameters("blob", f"at most {MAX_BLOB_BYTES} bytes")
        if blob_digest(data) != digest:
            raise BlobCorrupt(digest)
        if kind == "he-context":
            load_public_context(data)
        return self.blobs.put(data)

    def has_blob(self, digest: str) -> bool:
        """Whether the blob is stored here."""
        return digest in self.blobs

    def _inputs(self, spec: JobSpec) -> dict[str, bytes | tuple[bytes, ...]]:
        out: dict[str, bytes | tuple[bytes, ...]] = {}
        for name, ref in spec.inputs.items():
            out[name] = (
                tuple(self.blobs.get(r) for r in ref) if isinstance(ref, tuple) else self.blobs.get(ref)
            )
        context = out.get("context")
        if isinstance(context, bytes):
            load_public_context(context)  # refuse a private context before anything is charged
        return out

    # ------------------------------------------------------------------ job admission

    def now(self) -> dt.datetime:
        """The node's clock (the grant's expiry is judged by the chain's)."""
        return self.clock()

    def admit(self, document: Any, *, federated: bool) -> SignedJob:
        """Verify a signed job: a known member signed it, for this node, before its deadline, never seen."""
        job = self.directory.verify_job(document)
        spec = job.spec
        if spec.node != self.node_id:
            raise JobRejected(f"the job is addressed to node {spec.node!r}, this is {self.node_id!r}")
        if spec.deadline() <= self.now():
            raise JobRejected(f"the job's deadline {spec.not_after} has passed")
        if (spec.federated is not None) != federated:
            raise JobRejected("federated training opens a session; other jobs are posted to /jobs")
        self.journal.claim(spec.job_id)
        return job

    def check(self, job: SignedJob, view: GrantView, templates: list[str], budget_micro: int) -> None:
        """Refuse the job unless the grant, as just read from chain, allows exactly this now."""
        spec = job.spec
        uscc = job.requester.uscc or ""
        check_grant(
            view,
            requester=job.requester.org,
            requester_ref=self.checker.org_ref(uscc),
            provider_ref=self.checker.org_ref(self.keys.uscc or ""),
            resource_ref=self.checker.resource_ref(spec.resource_code),
            resource_code=spec.resource_code,
            templates=templates,
            budget_micro=budget_micro,
        )

    def dataset(self, spec: JobSpec) -> tuple[DatasetRecord, Table]:
        """The dataset version a job names (the latest one when it pins none), decrypted."""
        record = self.datasets.find(spec.resource_code, spec.dataset)
        return record, self.datasets.load(record, self.keys.decryption_keys)

    # ------------------------------------------------------------------ one-shot jobs

    def run_job(self, document: Any) -> JobOutcome:
        """Run an aggregate or HE job end to end (see the module docstring for the order)."""
        job = self.admit(document, federated=False)
        spec = job.spec
        record, table = self.dataset(spec)
        template = self.registry.get(spec.template)
        params = template.validate_params(spec.params)
        cost = template.cost(params)
        inputs = self._inputs(spec)
        with self.budgets.locked(spec.grant_id):
            view = self.checker.lookup(spec.grant_id)
            accountant = self.budgets.get(spec.grant_id, view.privacy_budget)
            accountant.check(cost)
            # What the chain records: the same micro-ε the check asked for (exact for pure ε; the zCDP
            # conversion rounded up for Gaussian rounds), never a float difference of running totals.
            spent = micro_epsilon(epsilon_increment(accountant, cost))
            self.check(job, view, [template.digest], spent)
            request = RunRequest(str(spec.grant_id), template.digest, spec.params, view.templates, inputs)
            charges_before = len(accountant.ledger)
            try:
                result = self.runner.run(request, table, record.policy.resource_policy(), accountant)
            except SandboxError as error:
                if len(accountant.ledger) > charges_before:
                    # Charged, then refused (a group below k): the budget stays spent, on disk and on
                    # chain, and the refusal is receipted, so failures cannot be probed for free.
                    self.budgets.persist(spec.grant_id)
                    use = self.checker.record_use(spec.grant_id, template.digest, spent)
                    self._receipt(
                        job,
                        record,
                        template,
                        request.params_digest(),
                        None,
                        cost,
                        spent,
                        None,
                        use,
                        outcome="failed",
                        error_code=error.code,
                    )
                raise
            self.budgets.persist(spec.grant_id)  # before anything is released
            try:
                use = self.checker.record_use(spec.grant_id, template.digest, spent)
            except SandboxError as error:
                # Revoked or expired between the check and the record: nothing is released, and the
                # receipt keeps the ε the node spent.
                self._receipt(
                    job, record, template, result.params_digest, None, cost, spent, None, None,
                    outcome="failed", error_code=error.code,
                )  # fmt: skip
                raise
        return self._release(job, record, template, result, cost, spent, use)

    def _release(
        self,
        job: SignedJob,
        record: DatasetRecord,
        template: Template,
        result: RunResult,
        cost: PrivacyCost,
        spent: int,
        use: UseRecord,
    ) -> JobOutcome:
        he = result.output.context_digest if isinstance(result.output, Ciphertexts) else None
        receipt = self._receipt(
            job, record, template, result.params_digest, result.output_digest, cost, spent, he, use
        )
        if isinstance(result.output, Ciphertexts):
            return JobOutcome(receipt, ciphertexts=result.output)
        sealed = seal(
            job.requester.public_encryption_key,
            canonical_json({"output": result.output, "suppressed": list(result.suppressed)}),
            aad=job.spec.job_id.encode(),
        )
        return JobOutcome(receipt, sealed_output=sealed)

    def _receipt(
        self,
        job: SignedJob,
        record: DatasetRecord,
        template: Template,
        params_digest: str,
        output_digest: str | None,
        cost: PrivacyCost,
        spent: int,
        he_context: str | None,
        use: UseRecord | None,
        *,
        outcome: str = "completed",
        error_code: str | None = None,
    ) -> dict[str, Any]:
        spec = job.spec
        payload = receipt_payload(
            receipt_id="rcpt_" + secrets.token_hex(12),
            job_id=spec.job_id,
            outcome=outcome,
            error_code=error_code,
            node=self.identity,
            requester=job.requester,
            grant_id=spec.grant_id,
            resource_code=spec.resource_code,
            catalogue=record.catalogue.to_dict(),
            dataset_digest=record.dataset_digest,
            template_digest=template.digest,
            params_digest=params_digest,
            output_digest=output_digest,
            epsilon=cost.epsilon,
            rho=cost.rho,
            budget_spent_micro=spent,
            he_context_digest=he_context,
            use=use.to_dict() if use is not None else None,
            time=self.now().strftime(_TIME),
        )
        receipt = self.keys.sign_document(payload)
        self.receipts.append(receipt)
        if self.receipt_sink is not None:
            try:
                self.receipt_sink(receipt)
            except Exception:  # the local log has it; posting is retried by whoever reads /receipts
                log.exception("could not post receipt %s", payload["receipt_id"])
        return receipt

    def sign_receipt(
        self, job: SignedJob, record: DatasetRecord, template: Template, **fields: Any
    ) -> dict[str, Any]:
        """Sign and log a receipt for a federated session (see `sandbox.node._sessions`)."""
        return self._receipt(job, record, template, **fields)
