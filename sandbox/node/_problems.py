"""The node's one mapping between errors and HTTP: statuses, RFC 9457 problem bodies, and back to errors.

The server turns a `SandboxError` into ``application/problem+json`` with its stable ``code`` and its
simple attributes under ``fields``; the client turns that body back into the same error class, so
a caller over HTTP catches exactly what an in-process caller would.
"""

from __future__ import annotations

from typing import Any

from sandbox import errors as core_errors
from sandbox.errors import SandboxError
from sandbox.node import errors as node_errors
from sandbox.node.errors import RemoteError

__all__ = ["MEDIA_TYPE", "error_from_problem", "problem_body", "status_of"]

MEDIA_TYPE = "application/problem+json"

_STATUS: dict[str, int] = {
    # The request itself is wrong.
    "sandbox.invalid_parameters": 422,
    "sandbox.state_invalid": 422,
    "sandbox.context_invalid": 422,
    "sandbox.protocol_violation": 422,
    "sandbox.encoding_overflow": 422,
    "sandbox.blob_corrupt": 422,
    "sandbox.dataset_malformed": 422,
    "sandbox.node.row_rejected": 422,
    "sandbox.node.job_rejected": 422,
    "sandbox.node.catalogue_entry_invalid": 422,
    "sandbox.node.receipt_invalid": 422,
    # Not allowed: who asks, what the grant says, what the data may release.
    "sandbox.node.unknown_requester": 403,
    "sandbox.node.wrong_requester": 403,
    "sandbox.node.wrong_resource": 403,
    "sandbox.template_not_allowed": 403,
    "sandbox.rows_requested": 403,
    "sandbox.private_context": 403,
    "sandbox.network_forbidden": 403,
    "sandbox.output_rule_violated": 403,
    "sandbox.group_too_small": 403,
    "sandbox.node.grant_revoked": 403,
    "sandbox.node.grant_expired": 403,
    "sandbox.node.grant_exhausted": 403,
    "sandbox.node.grant_budget_exhausted": 403,
    "sandbox.budget_exceeded": 403,
    # Missing.
    "sandbox.template_unknown": 404,
    "sandbox.blob_missing": 404,
    "sandbox.node.dataset_unknown": 404,
    "sandbox.node.session_unknown": 404,
    "sandbox.node.grant_unknown": 404,
    # State.
    "sandbox.node.job_replayed": 409,
    "sandbox.shares_insufficient": 409,
    "sandbox.dropout_unrecoverable": 409,
    # Dependencies.
    "sandbox.node.chain_unavailable": 503,
}


def _classes() -> dict[str, type[SandboxError]]:
    out: dict[str, type[SandboxError]] = {"sandbox.error": SandboxError}
    for module in (core_errors, node_errors):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, SandboxError):
                out[cls.code] = cls
    return out


_BY_CODE = _classes()


def status_of(error: SandboxError) -> int:
    """The HTTP status of `error` (500 for a code not listed: a bug, not a refusal)."""
    return _STATUS.get(error.code, 500)


def _fields(error: SandboxError) -> dict[str, Any]:
    return {
        k: v
        for k, v in vars(error).items()
        if not k.startswith("_") and (v is None or isinstance(v, str | int | float | bool))
    }


def problem_body(error: SandboxError, instance: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of `error`."""
    body: dict[str, Any] = {
        "type": f"urn:tdex:problem:{error.code}",
        "title": type(error).__name__,
        "status": status_of(error),
        "detail": str(error),
        "code": error.code,
        "fields": _fields(error),
    }
    if instance is not None:
        body["instance"] = instance
    return body


def error_from_problem(body: Any, status: int) -> SandboxError:
    """The error a problem body describes, as its own class with its fields; `RemoteError` otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return RemoteError("unknown", str(body)[:500], status)
    code, detail = body["code"], str(body.get("detail", ""))
    cls = _BY_CODE.get(code)
    if cls is None:
        return RemoteError(code, detail, status)
    error = cls.__new__(cls)
    Exception.__init__(error, detail)
    fields = body.get("fields")
    if isinstance(fields, dict):
        error.__dict__.update({str(k): v for k, v in fields.items()})
    return error
