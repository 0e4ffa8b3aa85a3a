"""Receipts: what a node signs after every job, for the exchange's audit trail and for the requester.

A receipt is a ``tdex.sandbox.receipt`` (version 1) payload signed with the department's signing key
(`keys.sign_document`: RFC 8785 bytes, Ed25519 or SM2). It names the grant, the dataset version and
its catalogue binding, the template, the hashes of the parameters and of the released output, the
privacy budget spent (ε and ρ, and the micro-ε recorded on chain), the HE context's hash when there
is one, the on-chain use it recorded, and the node and requester organisations. No value computed
from the data is in it, only hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keys import OrgIdentity
from keys.errors import KeysError
from sandbox.node.errors import ReceiptInvalid

__all__ = ["RECEIPT_KIND", "receipt_payload", "verify_receipt"]

RECEIPT_KIND = "tdex.sandbox.receipt"
RECEIPT_VERSION = 1
OUTCOMES = ("completed", "failed", "abandoned")


def _party(identity: OrgIdentity) -> dict[str, Any]:
    return {"org": identity.org, "uscc": identity.uscc, "did": identity.did}


def receipt_payload(
    *,
    receipt_id: str,
    job_id: str,
    outcome: str,
    node: OrgIdentity,
    requester: OrgIdentity,
    grant_id: int,
    resource_code: str,
    catalogue: Mapping[str, Any],
    dataset_digest: str,
    template_digest: str,
    params_digest: str,
    output_digest: str | None,
    epsilon: float,
    rho: float,
    budget_spent_micro: int,
    he_context_digest: str | None,
    use: Mapping[str, Any] | None,
    time: str,
    error_code: str | None = None,
) -> dict[str, Any]:
    """The payload of a receipt (the node signs it with `OrgKeys.sign_document`)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    return {
        "kind": RECEIPT_KIND,
        "version": RECEIPT_VERSION,
        "receipt_id": receipt_id,
        "job_id": job_id,
        "outcome": outcome,
        "error_code": error_code,
        "grant_id": grant_id,
        "resource_code": resource_code,
        "catalogue": dict(catalogue),
        "dataset_digest": dataset_digest,
        "template_digest": template_digest,
        "params_digest": params_digest,
        "output_digest": output_digest,
        "privacy": {"epsilon": epsilon, "rho": rho, "budget_spent_micro": budget_spent_micro},
        "he_context_digest": he_context_digest,
        "chain_use": dict(use) if use is not None else None,
        "node": _party(node),
        "requester": _party(requester),
        "time": time,
    }


def verify_receipt(document: Any, node: OrgIdentity) -> dict[str, Any]:
    """Check a receipt's signature against the node organisation's identity; return its payload.

    Raises `ReceiptInvalid` for any change to the payload or signature, another signer, or a
    document that is not a receipt.
    """
    if not isinstance(document, Mapping):
        raise ReceiptInvalid("not a signed document")
    try:
        payload = node.verify_document(document)
    except KeysError as exc:
        raise ReceiptInvalid(f"{type(exc).__name__}: {exc}") from None
    if not isinstance(payload, dict) or payload.get("kind") != RECEIPT_KIND:
        raise ReceiptInvalid(f"the signed payload is not a {RECEIPT_KIND}")
    if payload.get("version") != RECEIPT_VERSION:
        raise ReceiptInvalid(f"unsupported receipt version {payload.get('version')!r}")
    if (payload.get("node") or {}).get("did") != node.did:
        raise ReceiptInvalid("the receipt names another node than the one that signed it")
    return payload
