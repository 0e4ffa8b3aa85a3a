"""The tdex Solidity contracts: sources in `src/`, the build in `build.py`, artifacts in `build/`.

Only the committed artifacts are read at run time; compiling needs `python -m contracts.build`.
"""

from __future__ import annotations

from contracts._artifacts import ARTIFACT_NAMES, artifact_sha256, load_artifact
from contracts.errors import ArtifactNotFoundError, BuildError, ContractsError

__all__ = [
    "ARTIFACT_NAMES",
    "ArtifactNotFoundError",
    "BuildError",
    "ContractsError",
    "artifact_sha256",
    "load_artifact",
]
