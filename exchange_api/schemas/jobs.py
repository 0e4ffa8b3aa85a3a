"""Sandbox jobs and department node endpoints (request and response bodies)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from exchange_api.schemas.common import Strict


class JobKind(StrEnum):
    """What the exchange does with the nodes' answers."""

    AGGREGATE = "aggregate"  # one node, a private aggregate; the output is sealed by the node
    HE_SUM = "he_sum"  # several nodes encrypt sums; the exchange adds the ciphertexts
    HE_SCORES = "he_scores"  # one node scores under the requester's encrypted model
    FEDERATED = "federated"  # several nodes train; the exchange coordinates and seals the model


class JobState(StrEnum):
    """submitted → authorised → running → completed / failed / cancelled / expired."""

    SUBMITTED = "submitted"
    AUTHORISED = "authorised"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class JobPartCreate(Strict):
    """One grant's part: the exchange's grant id and the requester's signed node job for it."""

    grant_id: str = Field(max_length=40)
    job: dict[str, Any] = Field(description="A `tdex.signed` document of a `tdex.sandbox.job` payload.")


class JobCreate(Strict):
    """A job: its kind, a deadline, one part per grant (node), and the training plan when federated."""

    kind: JobKind
    deadline: dt.datetime
    parts: list[JobPartCreate] = Field(min_length=1, max_length=16)
    seal_to: str | None = Field(
        default=None,
        max_length=200,
        description="The requester's public encryption key (multibase X25519, or SM2) to seal a model to; "
        "required for federated jobs.",
    )


class JobCancel(Strict):
    """Why the requester cancels."""

    reason: str = Field(min_length=1, max_length=2000)


class JobPartPublic(BaseModel):
    """A part as listed: its grant, node job, state and the node's signed receipt once there is one."""

    grant_id: str
    provider_org_id: str
    chain_grant_id: int
    node_job_id: str
    template: str
    state: str
    error_code: str | None
    receipt: dict[str, Any] | None


class JobPublic(BaseModel):
    """A job with the time it reached each state and the stored reason of how it ended."""

    id: str
    kind: JobKind
    state: JobState
    requester_org_id: str
    deadline: dt.datetime
    submitted_at: dt.datetime
    authorised_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    reason: str | None
    has_result: bool
    parts: list[JobPartPublic]


class JobPage(BaseModel):
    """A page of jobs, newest first."""

    items: list[JobPublic]
    next_cursor: str | None = None


class TrainingRound(BaseModel):
    """A federated round's global model evaluated over all its participants' records (sums only)."""

    round: int
    participants: int
    accuracy: float
    loss: float


class JobResult(BaseModel):
    """What a completed job released, only for its requester: sealed to it or under its HE key.

    ``sealed`` holds base64 envelopes (`keys.seal` to the requester, the node's job id as
    associated data for aggregates, the job id for a model); ``ciphertexts`` base64 CKKS vectors;
    ``rounds`` a federated job's accuracy and mean log-loss per round (aggregates, not the model).
    """

    job_id: str
    kind: JobKind
    sealed: dict[str, str] = Field(default_factory=dict)
    ciphertexts: list[str] = Field(default_factory=list)
    values: int | None = None
    context_digest: str | None = None
    rounds: list[TrainingRound] = Field(default_factory=list)


class NodeRegistration(Strict):
    """A department announces where its node listens and the node's name (its organisation name)."""

    node: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    url: str = Field(min_length=8, max_length=300, pattern=r"^https?://")


class NodePublic(BaseModel):
    """A registered node endpoint."""

    org_id: str
    node: str
    url: str
    updated_at: dt.datetime
