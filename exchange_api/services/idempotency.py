"""`Idempotency-Key`: the first response to a key is kept and replayed for the same request."""

from __future__ import annotations

from dataclasses import dataclass

from exchange_api.errors import FieldError, IdempotencyKeyReused
from exchange_api.models import IdempotencyRecord
from exchange_api.services.context import Ctx

__all__ = ["StoredResponse", "lookup", "remember"]


@dataclass(frozen=True)
class StoredResponse:
    """A response kept for replay."""

    status_code: int
    body: str
    location: str | None


def lookup(ctx: Ctx, key: str, request_hash: str) -> StoredResponse | None:
    """The kept response for `key` if this request repeats it; a different request is refused."""
    record = ctx.session.get(IdempotencyRecord, (ctx.actor.org_id, key))
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request",
            errors=[FieldError("/headers/Idempotency-Key", "reused with a different method, path or body")],
        )
    return StoredResponse(record.status_code, record.response_body, record.location)


def remember(ctx: Ctx, key: str, request_hash: str, response: StoredResponse) -> None:
    """Keep `response` for `key`, in the same transaction as the change it reports."""
    ctx.session.add(
        IdempotencyRecord(
            org_id=ctx.actor.org_id,
            key=key,
            request_hash=request_hash,
            status_code=response.status_code,
            response_body=response.body,
            location=response.location,
            created_at=ctx.now(),
        )
    )
