"""Read access to the committed contract artifacts under `contracts/build/`."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from contracts.errors import ArtifactNotFoundError

# Deployment order: each contract's constructor takes addresses of the ones before it.
ARTIFACT_NAMES: tuple[str, ...] = (
    "Consortium",
    "DataCatalog",
    "AccessGrants",
    "AuditAnchor",
    "CertificateRegistry",
    "CreditLedger",
)


@cache
def _artifact_bytes(name: str) -> bytes:
    if name not in ARTIFACT_NAMES:
        known = ", ".join(ARTIFACT_NAMES)
        raise ArtifactNotFoundError(f"no contract artifact named {name!r}; known: {known}")
    path = resources.files("contracts").joinpath("build", f"{name}.json")
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ArtifactNotFoundError(
            f"artifact {name!r} is missing at contracts/build/{name}.json; run `python -m contracts.build`"
        ) from exc


def load_artifact(name: str) -> dict[str, Any]:
    """Return the committed artifact `name` (abi, bytecode, deployedBytecode, compiler, sourceHash, ...).

    Each call returns a fresh dict, so callers may modify it.
    """
    data: dict[str, Any] = json.loads(_artifact_bytes(name))
    return data


def artifact_sha256(name: str) -> str:
    """Return the hex SHA-256 of the committed artifact file `name`, for deployment manifests."""
    return hashlib.sha256(_artifact_bytes(name)).hexdigest()
