"""A trained federated model as JSON, and sealed to the requester: only the requester's key opens it.

The coordinator (the exchange, or whoever drives the rounds) sees the model while it averages the
sums; it seals the result to the requester's X25519 (or SM2) key with the job id as associated
data and keeps only the envelope.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keys import OrgKeys, PublicEncryptionKey, canonical_json, parse_json, seal
from sandbox._federated import FederatedModel, RoundMetrics
from sandbox.errors import StateInvalid

__all__ = ["model_from_dict", "model_to_dict", "open_model", "seal_model"]

MODEL_KIND = "tdex.sandbox.model"


def model_to_dict(model: FederatedModel) -> dict[str, Any]:
    """JSON form (kind ``tdex.sandbox.model``, version 1), survivors and metrics of each round included."""
    return {
        "kind": MODEL_KIND,
        "version": 1,
        "model": model.kind,
        "features": list(model.features),
        "weights": [float(w) for w in model.weights],
        "bias": float(model.bias),
        "mean": [float(m) for m in model.mean],
        "scale": [float(s) for s in model.scale],
        "survivors": [list(s) for s in model.survivors],
        "rounds": [r.to_dict() for r in model.rounds],
    }


def model_from_dict(raw: Any) -> FederatedModel:
    """Inverse of `model_to_dict`."""
    if not isinstance(raw, dict) or raw.get("kind") != MODEL_KIND or raw.get("version") != 1:
        raise StateInvalid(MODEL_KIND, "wrong kind or version")
    try:
        return FederatedModel(
            raw["model"],
            tuple(raw["features"]),
            np.asarray(raw["weights"], dtype=np.float64),
            float(raw["bias"]),
            np.asarray(raw["mean"], dtype=np.float64),
            np.asarray(raw["scale"], dtype=np.float64),
            tuple(tuple(s) for s in raw.get("survivors", ())),
            tuple(RoundMetrics.from_dict(r) for r in raw.get("rounds", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateInvalid(MODEL_KIND, f"malformed model: {exc}") from None


def seal_model(model: FederatedModel, recipient: PublicEncryptionKey, job_id: str) -> bytes:
    """The model sealed to the requester's public encryption key, bound to the job id."""
    return seal(recipient, canonical_json(model_to_dict(model)), aad=job_id.encode())


def open_model(keys: OrgKeys, envelope: bytes, job_id: str) -> FederatedModel:
    """The requester opens its model (`keys.errors.DecryptionFailed` for any other key or job)."""
    return model_from_dict(parse_json(keys.open_sealed(envelope, aad=job_id.encode())))
