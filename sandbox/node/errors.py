"""Errors raised by the department node: subclasses of `sandbox.errors.SandboxError`, each with a stable code.

The node also raises the computation core's errors (`BudgetExceeded`, `TemplateNotAllowed`,
`GroupTooSmall`, `RowsRequested`, `PrivateContext`, ...) unchanged. The node's own tree::

    SandboxError                          sandbox.error
    └── NodeError                         sandbox.node.error
        ├── GrantUnknown                  sandbox.node.grant_unknown
        ├── GrantRevoked                  sandbox.node.grant_revoked
        ├── GrantExpired                  sandbox.node.grant_expired
        ├── GrantExhausted                sandbox.node.grant_exhausted
        ├── GrantBudgetExhausted          sandbox.node.grant_budget_exhausted
        ├── WrongRequester                sandbox.node.wrong_requester
        ├── WrongResource                 sandbox.node.wrong_resource
        ├── ChainUnavailable              sandbox.node.chain_unavailable
        ├── JobRejected                   sandbox.node.job_rejected
        ├── JobReplayed                   sandbox.node.job_replayed
        ├── UnknownRequester              sandbox.node.unknown_requester
        ├── SessionUnknown                sandbox.node.session_unknown
        ├── DatasetUnknown                sandbox.node.dataset_unknown
        ├── CatalogueEntryInvalid         sandbox.node.catalogue_entry_invalid
        ├── ReceiptInvalid                sandbox.node.receipt_invalid
        ├── NodeUnavailable               sandbox.node.unavailable
        └── RemoteError                   sandbox.node.remote_error
    DatasetMalformed                      sandbox.dataset_malformed
    └── DatasetRowRejected                sandbox.node.row_rejected

HTTP statuses for these codes are decided in `sandbox.node._problems` (the node's one mapping).
"""

from __future__ import annotations

from sandbox.errors import DatasetMalformed, SandboxError

__all__ = [
    "CatalogueEntryInvalid",
    "ChainUnavailable",
    "DatasetRowRejected",
    "DatasetUnknown",
    "GrantBudgetExhausted",
    "GrantExhausted",
    "GrantExpired",
    "GrantRevoked",
    "GrantUnknown",
    "JobRejected",
    "JobReplayed",
    "NodeError",
    "NodeUnavailable",
    "ReceiptInvalid",
    "RemoteError",
    "SessionUnknown",
    "UnknownRequester",
    "WrongRequester",
    "WrongResource",
]


class NodeError(SandboxError):
    """Root of the errors the department node adds to the sandbox's."""

    code = "sandbox.node.error"


class GrantUnknown(NodeError):
    """Raised when the chain holds no grant with the job's grant id."""

    code = "sandbox.node.grant_unknown"

    def __init__(self, grant_id: int) -> None:
        super().__init__(f"the chain holds no grant {grant_id}")
        self.grant_id = grant_id


class GrantRevoked(NodeError):
    """Raised when the grant a job runs under was revoked on chain."""

    code = "sandbox.node.grant_revoked"

    def __init__(self, grant_id: int) -> None:
        super().__init__(f"grant {grant_id} was revoked on chain")
        self.grant_id = grant_id


class GrantExpired(NodeError):
    """Raised when the grant's expiry has passed by the chain's clock."""

    code = "sandbox.node.grant_expired"

    def __init__(self, grant_id: int, expiry: int, now: int | None = None) -> None:
        when = f" (chain time {now})" if now is not None else ""
        super().__init__(f"grant {grant_id} expired at {expiry}{when}")
        self.grant_id = grant_id
        self.expiry = expiry
        self.now = now


class GrantExhausted(NodeError):
    """Raised when the grant has no uses left."""

    code = "sandbox.node.grant_exhausted"

    def __init__(self, grant_id: int, max_uses: int) -> None:
        super().__init__(f"grant {grant_id} has used all of its {max_uses} uses")
        self.grant_id = grant_id
        self.max_uses = max_uses


class GrantBudgetExhausted(NodeError):
    """Raised when the privacy budget left on chain (micro-ε) is below what the job would spend."""

    code = "sandbox.node.grant_budget_exhausted"

    def __init__(self, grant_id: int, needed: int, left: int) -> None:
        super().__init__(f"grant {grant_id}: the job needs {needed} micro-ε, {left} are left on chain")
        self.grant_id = grant_id
        self.needed = needed
        self.left = left


class WrongRequester(NodeError):
    """Raised when the organisation that signed the job is not the grant's grantee."""

    code = "sandbox.node.wrong_requester"

    def __init__(self, grant_id: int, requester: str) -> None:
        super().__init__(f"grant {grant_id} was not issued to {requester!r}")
        self.grant_id = grant_id
        self.requester = requester


class WrongResource(NodeError):
    """Raised when the grant is for another resource or another provider than the job's dataset."""

    code = "sandbox.node.wrong_resource"

    def __init__(self, grant_id: int, resource_code: str) -> None:
        super().__init__(f"grant {grant_id} does not cover this node's resource {resource_code!r}")
        self.grant_id = grant_id
        self.resource_code = resource_code


class ChainUnavailable(NodeError):
    """Raised when the node cannot read or write the chain; no job runs without checking it."""

    code = "sandbox.node.chain_unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the chain is unavailable: {reason}")
        self.reason = reason


class JobRejected(NodeError):
    """Raised when a job document is malformed, unsigned, expired, or addressed to another node."""

    code = "sandbox.node.job_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(f"job rejected: {reason}")
        self.reason = reason


class JobReplayed(NodeError):
    """Raised when a job id was already run by this node (a signed job runs once)."""

    code = "sandbox.node.job_replayed"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} was already submitted to this node")
        self.job_id = job_id


class UnknownRequester(NodeError):
    """Raised when a job is signed by a key that is not in the node's member directory."""

    code = "sandbox.node.unknown_requester"

    def __init__(self, who: str) -> None:
        super().__init__(f"{who!r} is not a member this node knows")
        self.who = who


class SessionUnknown(NodeError):
    """Raised when a federated message names a session this node does not hold (or no longer holds)."""

    code = "sandbox.node.session_unknown"

    def __init__(self, session_id: str) -> None:
        super().__init__(f"no federated session {session_id!r} on this node")
        self.session_id = session_id


class DatasetUnknown(NodeError):
    """Raised when the node holds no dataset for a resource code (or no such version)."""

    code = "sandbox.node.dataset_unknown"

    def __init__(self, what: str) -> None:
        super().__init__(f"no dataset {what!r} on this node")
        self.what = what


class CatalogueEntryInvalid(NodeError):
    """Raised when a catalogue entry or a node policy cannot describe a sandbox dataset."""

    code = "sandbox.node.catalogue_entry_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(f"catalogue entry: {reason}")
        self.reason = reason


class ReceiptInvalid(NodeError):
    """Raised when a receipt's signature, signer or fields do not verify."""

    code = "sandbox.node.receipt_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(f"receipt does not verify: {reason}")
        self.reason = reason


class NodeUnavailable(NodeError):
    """Raised by the HTTP client when a node does not answer (a dropout, for federated rounds)."""

    code = "sandbox.node.unavailable"

    def __init__(self, node: str, reason: str) -> None:
        super().__init__(f"node {node!r} is unavailable: {reason}")
        self.node = node
        self.reason = reason


class RemoteError(NodeError):
    """Raised by the HTTP client for a problem whose code it has no class for."""

    code = "sandbox.node.remote_error"

    def __init__(self, remote_code: str, detail: str, status: int) -> None:
        super().__init__(f"{remote_code} ({status}): {detail}")
        self.remote_code = remote_code
        self.detail = detail
        self.status = status


class DatasetRowRejected(DatasetMalformed):
    """Raised at ingestion when a value does not fit its item; names the line and the column."""

    code = "sandbox.node.row_rejected"

    def __init__(self, column: str, column_number: int, line: int, reason: str) -> None:
        SandboxError.__init__(self, f"line {line}, column {column_number} ({column!r}): {reason}")
        self.item = column
        self.reason = reason
        self.row = line
        self.column = column
        self.column_number = column_number
        self.line = line
