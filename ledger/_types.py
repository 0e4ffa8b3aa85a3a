"""Frozen records the client returns: logs, decoded events, receipts, prepared transactions, results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.errors import LedgerError

__all__ = ["Event", "Log", "Receipt", "TxRequest", "TxResult"]


@dataclass(frozen=True, slots=True)
class Log:
    """A raw log entry as the node reports it."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded contract event.

    ``args`` maps the Solidity argument names to Python values: ints (enums as ints), checksummed
    address strings, ``bytes`` for fixed and dynamic bytes, ``str``, tuples for arrays, dicts for
    structs. ``event["grantId"]`` reads one argument.
    """

    contract: str
    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


@dataclass(frozen=True, slots=True)
class Receipt:
    """A mined transaction: status, gas, raw logs and the events decoded from known contracts."""

    tx_hash: str
    block_number: int
    status: bool
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...]
    events: tuple[Event, ...]

    def events_named(self, name: str) -> tuple[Event, ...]:
        """The decoded events called ``name``, in log order."""
        return tuple(e for e in self.events if e.name == name)

    def event(self, name: str) -> Event:
        """The first decoded event called ``name``; KeyError naming what was emitted when there is none."""
        for e in self.events:
            if e.name == name:
                return e
        emitted = ", ".join(e.name for e in self.events) or "no known events"
        raise KeyError(f"transaction {self.tx_hash} emitted no {name} ({emitted})")


@dataclass(frozen=True, slots=True)
class TxRequest:
    """A transaction to sign and send: target (None deploys), calldata, value and an optional gas limit."""

    to: str | None
    data: bytes
    value: int = 0
    gas: int | None = None
    #: What this is, for messages (e.g. ``AuditAnchor.anchor``).
    label: str = ""


@dataclass(frozen=True, slots=True)
class TxResult:
    """The outcome of one transaction of a pipelined batch: a receipt, or the error that stopped it."""

    request: TxRequest
    tx_hash: str | None = None
    receipt: Receipt | None = None
    error: LedgerError | None = field(default=None)

    @property
    def ok(self) -> bool:
        """Whether the transaction was mined and succeeded."""
        return self.receipt is not None and self.error is None

    def unwrap(self) -> Receipt:
        """The receipt, or raise the error (e.g. the typed revert)."""
        if self.error is not None:
            raise self.error
        assert self.receipt is not None
        return self.receipt
