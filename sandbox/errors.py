"""Errors raised by the sandbox: one root class, each subclass with a stable machine `code`.

The tree::

    SandboxError                      sandbox.error
    ├── TemplateUnknown               sandbox.template_unknown
    ├── TemplateNotAllowed            sandbox.template_not_allowed
    ├── InvalidParameters             sandbox.invalid_parameters
    ├── RowsRequested                 sandbox.rows_requested
    ├── OutputRuleViolated            sandbox.output_rule_violated
    ├── NetworkForbidden              sandbox.network_forbidden
    ├── DatasetMalformed              sandbox.dataset_malformed
    ├── GroupTooSmall                 sandbox.group_too_small
    ├── BudgetExceeded                sandbox.budget_exceeded
    ├── StateInvalid                  sandbox.state_invalid
    ├── EncodingOverflow              sandbox.encoding_overflow
    ├── SharesInsufficient            sandbox.shares_insufficient
    ├── DropoutUnrecoverable          sandbox.dropout_unrecoverable
    ├── ProtocolViolation             sandbox.protocol_violation
    ├── PrivateContext                sandbox.private_context
    ├── ContextInvalid                sandbox.context_invalid
    ├── BlobMissing                   sandbox.blob_missing
    └── BlobCorrupt                   sandbox.blob_corrupt

HTTP statuses and problem bodies for these codes are decided in `exchange_api`, not here.
"""

from __future__ import annotations

__all__ = [
    "BlobCorrupt",
    "BlobMissing",
    "BudgetExceeded",
    "ContextInvalid",
    "DatasetMalformed",
    "DropoutUnrecoverable",
    "EncodingOverflow",
    "GroupTooSmall",
    "InvalidParameters",
    "NetworkForbidden",
    "OutputRuleViolated",
    "PrivateContext",
    "ProtocolViolation",
    "RowsRequested",
    "SandboxError",
    "SharesInsufficient",
    "StateInvalid",
    "TemplateNotAllowed",
    "TemplateUnknown",
]


class SandboxError(Exception):
    """Root of every error the sandbox raises; `code` is stable and machine-readable."""

    code: str = "sandbox.error"


class TemplateUnknown(SandboxError):
    """Raised when a job names a template digest that is not in the registry."""

    code = "sandbox.template_unknown"

    def __init__(self, digest: str) -> None:
        super().__init__(f"no registered computation template has digest {digest!r}")
        self.digest = digest


class TemplateNotAllowed(SandboxError):
    """Raised when the grant a job runs under does not list the template's digest."""

    code = "sandbox.template_not_allowed"

    def __init__(self, digest: str, grant_id: str) -> None:
        super().__init__(f"grant {grant_id!r} does not allow template {digest!r}")
        self.digest = digest
        self.grant_id = grant_id


class InvalidParameters(SandboxError):
    """Raised when a job's parameters do not fit the template's parameter schema or the dataset."""

    code = "sandbox.invalid_parameters"

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"parameter {param!r}: {reason}")
        self.param = param
        self.reason = reason


class RowsRequested(SandboxError):
    """Raised when a query would release record-level data (rows, or groups keyed by an identifier)."""

    code = "sandbox.rows_requested"

    def __init__(self, reason: str) -> None:
        super().__init__(f"record-level output refused: {reason}")
        self.reason = reason


class OutputRuleViolated(SandboxError):
    """Raised when a template's output does not satisfy its declared output rule; nothing is released."""

    code = "sandbox.output_rule_violated"

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"output rule {rule!r} violated: {reason}")
        self.rule = rule
        self.reason = reason


class NetworkForbidden(SandboxError):
    """Raised when a computation tries to open a socket or start a process."""

    code = "sandbox.network_forbidden"

    def __init__(self, event: str) -> None:
        super().__init__(f"computations may not use the network or processes (audit event {event!r})")
        self.event = event


class DatasetMalformed(SandboxError):
    """Raised when a dataset does not fit its declared schema; names the item and, if known, the row."""

    code = "sandbox.dataset_malformed"

    def __init__(self, item: str, reason: str, row: int | None = None) -> None:
        where = f"item {item!r}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {reason}")
        self.item = item
        self.reason = reason
        self.row = row


class GroupTooSmall(SandboxError):
    """Raised when a query's selection holds fewer records than the resource's minimum group size."""

    code = "sandbox.group_too_small"

    def __init__(self, minimum: int) -> None:
        # The actual size is deliberately not in the message: it is the thing being protected.
        super().__init__(f"the selected group is smaller than the minimum group size {minimum}")
        self.minimum = minimum


class BudgetExceeded(SandboxError):
    """Raised, before anything runs, when a query's privacy cost exceeds the grant's remaining budget."""

    code = "sandbox.budget_exceeded"

    def __init__(self, grant_id: str, requested: float, remaining: float, what: str = "epsilon") -> None:
        super().__init__(
            f"grant {grant_id!r}: query needs {what}={requested:g} but only {remaining:g} is left"
        )
        self.grant_id = grant_id
        self.requested = requested
        self.remaining = remaining
        self.what = what


class StateInvalid(SandboxError):
    """Raised when serialised state or a message (accountant, protocol message) cannot be loaded."""

    code = "sandbox.state_invalid"

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


class EncodingOverflow(SandboxError):
    """Raised when a value does not fit the fixed-point encoding used for secure aggregation."""

    code = "sandbox.encoding_overflow"

    def __init__(self, limit: float) -> None:
        super().__init__(f"a value exceeds the fixed-point range ±{limit:g}")
        self.limit = limit


class SharesInsufficient(SandboxError):
    """Raised when fewer Shamir shares than the threshold are offered for reconstruction."""

    code = "sandbox.shares_insufficient"

    def __init__(self, got: int, threshold: int) -> None:
        super().__init__(f"{got} shares offered, threshold is {threshold}")
        self.got = got
        self.threshold = threshold


class DropoutUnrecoverable(SandboxError):
    """Raised when too few nodes survive a secure-aggregation round to unmask the sum."""

    code = "sandbox.dropout_unrecoverable"

    def __init__(self, survivors: int, threshold: int) -> None:
        super().__init__(f"only {survivors} nodes survived the round; {threshold} are needed to unmask")
        self.survivors = survivors
        self.threshold = threshold


class ProtocolViolation(SandboxError):
    """Raised when a secure-aggregation message is inconsistent with the round (wrong round, sets, sizes)."""

    code = "sandbox.protocol_violation"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PrivateContext(SandboxError):
    """Raised when a node is handed a homomorphic context that holds a secret key."""

    code = "sandbox.private_context"

    def __init__(self) -> None:
        super().__init__("the homomorphic context holds a secret key; nodes accept public contexts only")


class ContextInvalid(SandboxError):
    """Raised when a homomorphic context or ciphertext cannot be parsed or has parameters we refuse."""

    code = "sandbox.context_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BlobMissing(SandboxError):
    """Raised when a content-addressed blob is not in the store."""

    code = "sandbox.blob_missing"

    def __init__(self, digest: str) -> None:
        super().__init__(f"no blob {digest!r} in the store")
        self.digest = digest


class BlobCorrupt(SandboxError):
    """Raised when a stored blob's bytes no longer hash to its name."""

    code = "sandbox.blob_corrupt"

    def __init__(self, digest: str) -> None:
        super().__init__(f"blob {digest!r} does not match its digest")
        self.digest = digest
