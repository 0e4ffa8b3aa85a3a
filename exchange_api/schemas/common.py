"""Schemas shared by every resource: anchors, problems and pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HEX32 = r"^0x[0-9a-f]{64}$"


class Strict(BaseModel):
    """Base of request bodies: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AnchorPublic(BaseModel):
    """Where a chain write stands: pending, sent, anchored (with transaction and block) or failed."""

    status: Literal["pending", "signed", "sent", "anchored", "failed", "none"]
    outbox_id: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    anchored_at: dt.datetime | None = None
    error: str | None = None


class FieldProblem(BaseModel):
    """One rejected field in a problem document."""

    loc: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with the exchange's stable `code`."""

    type: str = Field(description="A URI naming the problem type (`urn:tdex:problem:<code>`).")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine code, e.g. `catalog.invalid_entry`.")
    instance: str | None = None
    errors: list[FieldProblem] | None = None
