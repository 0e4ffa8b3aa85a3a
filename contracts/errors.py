"""Errors raised by the contracts package (building and loading the compiled artifacts).

Exception tree::

    ContractsError                 contracts.error
    ├── ArtifactNotFoundError      contracts.artifact_not_found
    └── BuildError                 contracts.build_failed
"""

from __future__ import annotations

__all__ = ["ArtifactNotFoundError", "BuildError", "ContractsError"]


class ContractsError(Exception):
    """Root of every error raised by the contracts package."""

    code = "contracts.error"


class ArtifactNotFoundError(ContractsError):
    """Raised when a compiled artifact is asked for by a name that has none."""

    code = "contracts.artifact_not_found"


class BuildError(ContractsError):
    """Raised when the compiler is missing, is the wrong version, or reports a problem."""

    code = "contracts.build_failed"
