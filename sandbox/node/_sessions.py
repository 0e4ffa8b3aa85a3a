"""Federated training on a node: one session per signed training job, driven by the coordinator's messages.

The requester signs the plan (model, features, label, rounds, learning rate, DP settings) and the
participants; a coordinator (the exchange, or the requester) then sends secure-aggregation
messages. The node checks every message against the signed plan — only the two templates it names,
only the plan's fixed parameters, at most its number of rounds plus one evaluation-only round of
the final model — and rereads the grant on chain before each round, so a grant revoked or expiring
mid-training stops the node at the next round.
Each released masked vector is charged first and the budget persisted before it leaves. When the
coordinator finishes the session (or its deadline passes) the node records one use on chain with
the ε spent, and signs a receipt.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox._accountant import BudgetAccountant, PrivacyCost
from sandbox._canonical import digest_of
from sandbox._federated import FederatedNode, TrainingPlan
from sandbox._messages import (
    MaskedInput,
    RoundConfig,
    ShareKeys,
    SharesDelivery,
    UnmaskRequest,
    UnmaskResponse,
)
from sandbox._secagg import x25519_agree
from sandbox._table import Table
from sandbox._templates import Template
from sandbox.errors import ProtocolViolation, SandboxError
from sandbox.node._datasets import DatasetRecord
from sandbox.node._grants import micro_epsilon
from sandbox.node._jobs import FederatedSpec, SignedJob
from sandbox.node._service import NodeService
from sandbox.node.errors import GrantExpired, GrantRevoked, JobRejected, SessionUnknown

__all__ = ["SessionManager"]

log = logging.getLogger("tdex.node")
# Parameters of a local update that must be exactly the requester's plan (the rest vary per round).
_FIXED = (
    "kind",
    "features",
    "label",
    "learning_rate",
    "local_epochs",
    "l2",
    "dp_clip",
    "dp_noise_multiplier",
)


@dataclass
class _Session:
    job: SignedJob
    fed: FederatedSpec
    record: DatasetRecord
    table: Table
    moments: Template
    update: Template
    node: FederatedNode
    accountant: BudgetAccountant
    spent_before: float
    released: list[str] = field(default_factory=list)
    moments_rounds: int = 0
    update_rounds: int = 0
    evaluation_rounds: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _plan_cost(plan: TrainingPlan, accountant: BudgetAccountant) -> float:
    """ε the whole plan would add to the grant (zero without DP)."""
    if plan.dp_clip is None or plan.dp_noise_multiplier is None:
        return 0.0
    probe = BudgetAccountant.from_dict(accountant.to_dict())
    before = probe.epsilon_spent
    z = plan.dp_noise_multiplier
    probe.charge(PrivacyCost(rho=plan.rounds / (2.0 * z * z)), "plan")
    return probe.epsilon_spent - before


class SessionManager:
    """The federated sessions open on one node."""

    def __init__(self, service: NodeService) -> None:
        self.service = service
        self._sessions: dict[str, _Session] = {}
        self._guard = threading.Lock()

    def open(self, document: Any) -> dict[str, Any]:
        """Admit a signed training job and check its grant for both templates; returns the session id."""
        svc = self.service
        self._reap()
        job = svc.admit(document, federated=True)
        spec, fed = job.spec, job.spec.federated
        assert fed is not None
        update, moments = svc.registry.get(spec.template), svc.registry.get(fed.moments_template)
        if update.name != "fl.local_update" or moments.name != "fl.moments":
            raise JobRejected("a training job names the fl.local_update and fl.moments templates")
        if svc.node_id not in fed.participants:
            raise JobRejected(f"node {svc.node_id!r} is not among the participants")
        peers = {p: svc.directory.get(p).encryption_key for p in fed.participants if p != svc.node_id}
        record, table = svc.dataset(spec)
        with svc.budgets.locked(spec.grant_id):
            view = svc.checker.lookup(spec.grant_id)
            accountant = svc.budgets.get(spec.grant_id, view.privacy_budget)
            need = _plan_cost(fed.plan, accountant)
            svc.check(job, view, [update.digest, moments.digest], micro_epsilon(need))
        node = FederatedNode(
            svc.node_id,
            table,
            svc.runner,
            accountant,
            allowed_templates=frozenset({update.digest, moments.digest}),
            agree=x25519_agree(svc.node_id, svc.keys.encryption, peers),
            policy=record.policy.resource_policy(),
        )
        session = _Session(
            job, fed, record, table, moments, update, node, accountant, accountant.epsilon_spent
        )
        # The session id is the coordinator's capability for this session's messages: unguessable.
        session_id = "fls_" + secrets.token_hex(16)
        with self._guard:
            self._sessions[session_id] = session
        return {
            "session": session_id,
            "job_id": spec.job_id,
            "node": svc.node_id,
            "dataset_digest": record.dataset_digest,
        }

    def _get(self, session_id: str) -> _Session:
        self._reap()
        with self._guard:
            session = self._sessions.get(session_id)
        if session is None:
            raise SessionUnknown(session_id)
        return session

    def _recheck(self, session: _Session) -> None:
        # Revocation and expiry are read from chain before every round.
        view = self.service.checker.lookup(session.job.spec.grant_id)
        if view.revoked:
            raise GrantRevoked(view.grant_id)
        if view.now >= view.expiry:
            raise GrantExpired(view.grant_id, view.expiry, view.now)

    def share_keys(self, session_id: str, config: RoundConfig) -> ShareKeys:
        """Start a round (after rereading the grant)."""
        session = self._get(session_id)
        with session.lock:
            if not set(config.participants) <= set(session.fed.participants):
                raise ProtocolViolation("the round names nodes outside the signed participants")
            self._recheck(session)
            return session.node.share_keys(config)

    def _check_params(self, session: _Session, template: str, params: Mapping[str, Any]) -> None:
        plan = session.fed.plan
        if template == session.moments.digest:
            if list(params.get("features", ())) != list(plan.features) or set(params) != {"features"}:
                raise JobRejected("the moments round must use exactly the plan's features")
            if session.moments_rounds >= 1:
                raise JobRejected("the plan has one moments round")
            return
        if template != session.update.digest:
            raise JobRejected("only the plan's two templates run in a training session")
        wanted = {
            "kind": plan.kind,
            "features": list(plan.features),
            "label": plan.label,
            "learning_rate": plan.learning_rate,
            "local_epochs": plan.local_epochs,
            "l2": plan.l2,
            "dp_clip": plan.dp_clip,
            "dp_noise_multiplier": plan.dp_noise_multiplier,
        }
        for name in _FIXED:
            value = params.get(name)
            if (list(value) if isinstance(value, list | tuple) else value) != wanted[name]:
                raise JobRejected(f"parameter {name!r} differs from the signed plan")
        if params.get("evaluate") == "only":
            # The final model's evaluation: not a training round, and only one per session.
            if session.evaluation_rounds >= 1:
                raise JobRejected("the plan has one evaluation-only round")
            return
        if session.update_rounds >= plan.rounds:
            raise JobRejected(f"the plan has {plan.rounds} rounds")

    def masked_input(
        self, session_id: str, delivery: SharesDelivery, template: str, params: Mapping[str, Any]
    ) -> MaskedInput:
        """Run one round's template and release its vector masked (charged and persisted first)."""
        session = self._get(session_id)
        svc = self.service
        with session.lock:
            self._check_params(session, template, params)
            grant_id = session.job.spec.grant_id
            with svc.budgets.locked(grant_id):
                charges = len(session.accountant.ledger)
                try:
                    out = session.node.masked_input(delivery, template, params)
                finally:
                    if len(session.accountant.ledger) > charges:
                        svc.budgets.persist(grant_id)
            if template == session.moments.digest:
                session.moments_rounds += 1
            elif params.get("evaluate") == "only":
                session.evaluation_rounds += 1
            else:
                session.update_rounds += 1
            session.released.append(hashlib.sha256(out.masked.astype("<u8").tobytes()).hexdigest())
            return out

    def unmask(self, session_id: str, request: UnmaskRequest) -> UnmaskResponse:
        """Reveal the shares the coordinator needs to unmask the round's sum."""
        session = self._get(session_id)
        with session.lock:
            return session.node.unmask(request)

    def finish(self, session_id: str, *, outcome: str = "completed") -> dict[str, Any]:
        """Close the session: record one use on chain with the ε spent, sign and return the receipt.

        ``outcome`` is what the coordinator reports: ``completed``, or ``failed`` when it stopped.
        """
        if outcome not in ("completed", "failed"):
            raise JobRejected("a session finishes as completed or failed")
        with self._guard:
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise SessionUnknown(session_id)
        return self._close(session, outcome)

    def _close(self, session: _Session, outcome: str) -> dict[str, Any]:
        svc = self.service
        spec = session.job.spec
        error_code = None
        use = None
        with svc.budgets.locked(spec.grant_id):
            spent = micro_epsilon(max(session.accountant.epsilon_spent - session.spent_before, 0.0))
            try:
                use = svc.checker.record_use(spec.grant_id, session.update.digest, spent)
            except SandboxError as error:
                # A grant revoked or expired mid-training cannot record the use; the receipt says so
                # and keeps the ε the node spent.
                outcome, error_code = "failed", error.code
        plan = session.fed.plan
        rho = 0.0
        if plan.dp_noise_multiplier is not None and plan.dp_clip is not None:
            rho = session.update_rounds / (2.0 * plan.dp_noise_multiplier**2)
        return svc.sign_receipt(
            session.job,
            session.record,
            session.update,
            params_digest=digest_of(session.fed.to_dict()),
            output_digest=digest_of({"masked_inputs_sha256": session.released}),
            cost=PrivacyCost(0.0, rho),
            spent=spent,
            he_context=None,
            use=use,
            outcome=outcome,
            error_code=error_code,
        )

    def _reap(self) -> None:
        """Close sessions past their deadline; one that released anything is recorded as abandoned."""
        now = self.service.now()
        with self._guard:
            expired = [sid for sid, s in self._sessions.items() if s.job.spec.deadline() <= now]
            gone = [self._sessions.pop(sid) for sid in expired]
        for session in gone:
            if session.released:
                try:
                    self._close(session, "abandoned")
                except Exception:  # the chain or the disk failed; the next reader of /receipts sees the gap
                    log.exception("could not close abandoned session %s", session.job.spec.job_id)
