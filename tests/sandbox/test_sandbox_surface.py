"""The sandbox's public surface and error codes are locked."""

from __future__ import annotations

import ast
import pathlib

import sandbox
from sandbox import errors

ROOT = pathlib.Path(sandbox.__file__).parent


def test_public_names_are_exported() -> None:
    """Every name in __all__ exists and the surface has not changed unnoticed."""
    for name in sandbox.__all__:
        assert hasattr(sandbox, name), name
    assert len(sandbox.__all__) == len(set(sandbox.__all__))
    assert {"Runner", "TemplateRegistry", "BudgetAccountant", "SecAggClient", "FederatedCoordinator"} <= set(
        sandbox.__all__
    )


def test_every_error_has_a_distinct_stable_code() -> None:
    """Each error class declares its own sandbox.* code."""
    classes = [getattr(errors, n) for n in errors.__all__]
    codes = [c.code for c in classes]
    assert all(issubclass(c, errors.SandboxError) for c in classes)
    assert all(code.startswith("sandbox.") for code in codes)
    assert len(codes) == len(set(codes))
    for needed in (
        "sandbox.budget_exceeded",
        "sandbox.group_too_small",
        "sandbox.private_context",
        "sandbox.template_unknown",
        "sandbox.rows_requested",
        "sandbox.dropout_unrecoverable",
    ):
        assert needed in codes


def test_sandbox_never_imports_ledger_or_web_frameworks() -> None:
    """No sandbox module imports ledger, exchange_api, FastAPI or SQLAlchemy."""
    banned = {"ledger", "exchange_api", "fastapi", "sqlalchemy", "tdex"}
    for path in ROOT.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
