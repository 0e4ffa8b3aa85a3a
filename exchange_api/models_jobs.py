"""SQLAlchemy models of sandbox jobs: a job, its parts (one signed node job per grant), department nodes.

Created by migration ``0003_jobs``. Kept apart from `exchange_api.models` so the sandbox's tables
change without touching the catalogue's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange_api.models import Base

__all__ = ["JOB_STATES", "TERMINAL_STATES", "Job", "JobPart", "SandboxNode"]

JOB_STATES = ("submitted", "authorised", "running", "completed", "failed", "cancelled", "expired")
TERMINAL_STATES = frozenset({"completed", "failed", "cancelled", "expired"})


class Job(Base):
    """A computation a requester asked for: its state, when each state was reached, why it ended."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requester_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[dt.datetime]
    plan: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[dt.datetime]
    authorised_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_jobs_state", "state", "submitted_at"),)


class JobPart(Base):
    """One grant's share of a job: the requester's signed node job and what the node answered."""

    __tablename__ = "job_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id"), index=True)
    provider_org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    chain_grant_id: Mapped[int] = mapped_column(Integer)
    node_job_id: Mapped[str] = mapped_column(String(80))
    template: Mapped[str] = mapped_column(String(80))
    signed_job: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    receipt: Mapped[dict[str, Any] | None]
    error_code: Mapped[str | None] = mapped_column(String(64))


class SandboxNode(Base):
    """Where a department's node listens, as the department announced it."""

    __tablename__ = "sandbox_nodes"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    node: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(300))
    updated_at: Mapped[dt.datetime]
