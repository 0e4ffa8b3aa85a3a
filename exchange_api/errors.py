"""Errors of the exchange service: one root, every class with a stable machine `code`.

HTTP statuses are decided elsewhere, in `exchange_api.problems`, and nowhere else::

    ExchangeError
    ├── InvalidInput                 exchange.invalid_input        bad field values (list in `errors`)
    │   ├── InvalidCatalogEntry      catalog.invalid_entry
    │   ├── InvalidUSCC              org.invalid_uscc
    │   └── IdempotencyKeyReused     idempotency.key_reused
    ├── NotAuthenticated             auth.*                        unsigned, expired, replayed, forged
    ├── Forbidden                    auth.forbidden                role or ownership refuses it
    ├── NotFound                     exchange.not_found
    ├── Conflict                     exchange.conflict
    │   ├── DuplicateResource        catalog.duplicate_code
    │   ├── DuplicateOrganization    org.duplicate_uscc
    │   ├── InvalidTransition        workflow.invalid_transition
    │   └── GrantNotUsable           grant.not_usable
    └── ChainError                   chain.*                       raised inside the relay only
        ├── ChainUnavailable         chain.unavailable
        └── ChainRejected            chain.rejected
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "ChainError",
    "ChainRejected",
    "ChainUnavailable",
    "Conflict",
    "DuplicateOrganization",
    "DuplicateResource",
    "ExchangeError",
    "FieldError",
    "Forbidden",
    "GrantNotUsable",
    "IdempotencyKeyReused",
    "InvalidCatalogEntry",
    "InvalidInput",
    "InvalidTransition",
    "InvalidUSCC",
    "NotAuthenticated",
    "NotFound",
]


@dataclass(frozen=True)
class FieldError:
    """One rejected field: where it is (`loc`, a JSON-pointer-like path) and what was wrong."""

    loc: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The problem-document form of this field error."""
        return {"loc": self.loc, "message": self.message}


class ExchangeError(Exception):
    """Root of every error the exchange service raises on purpose."""

    code: ClassVar[str] = "exchange.error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may narrow its class code
        self.extra = extra


class InvalidInput(ExchangeError):
    """Raised when request fields are well-formed JSON but their values are not acceptable."""

    code = "exchange.invalid_input"

    def __init__(self, detail: str, errors: Sequence[FieldError] = (), **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.errors = tuple(errors)


class InvalidCatalogEntry(InvalidInput):
    """Raised when a catalogue entry breaks a rule of the catalogue (conditions, basis, code...)."""

    code = "catalog.invalid_entry"


class InvalidUSCC(InvalidInput):
    """Raised when an organisation's unified social credit code fails validation."""

    code = "org.invalid_uscc"


class IdempotencyKeyReused(InvalidInput):
    """Raised when an `Idempotency-Key` comes back with a different request body."""

    code = "idempotency.key_reused"


class NotAuthenticated(ExchangeError):
    """Raised when a request is unsigned, expired, replayed, forged or names an unknown key."""

    code = "auth.unauthenticated"


class Forbidden(ExchangeError):
    """Raised when the caller's role or ownership does not allow the operation."""

    code = "auth.forbidden"


class NotFound(ExchangeError):
    """Raised when an object does not exist, or exists but must not be revealed to the caller."""

    code = "exchange.not_found"


class Conflict(ExchangeError):
    """Raised when the request is valid but conflicts with the current state."""

    code = "exchange.conflict"


class DuplicateResource(Conflict):
    """Raised when a resource code is registered a second time."""

    code = "catalog.duplicate_code"


class DuplicateOrganization(Conflict):
    """Raised when an organisation with the same USCC is admitted a second time."""

    code = "org.duplicate_uscc"


class InvalidTransition(Conflict):
    """Raised when a workflow object is asked to move to a state its current state does not allow."""

    code = "workflow.invalid_transition"


class GrantNotUsable(Conflict):
    """Raised when a grant is used before its anchor is confirmed, after revocation or expiry."""

    code = "grant.not_usable"


class ChainError(ExchangeError):
    """Raised by a `ChainWriter` when a chain write cannot be completed."""

    code = "chain.error"


class ChainUnavailable(ChainError):
    """Raised when the chain cannot be reached; the relay retries later."""

    code = "chain.unavailable"


class ChainRejected(ChainError):
    """Raised when the chain rejects a transaction for good (a revert); the relay does not retry."""

    code = "chain.rejected"
