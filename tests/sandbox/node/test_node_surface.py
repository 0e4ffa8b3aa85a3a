"""The node package's public surface, its import rule, and its one error-to-HTTP mapping are locked."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import sandbox.node as sn
from keys import OrgKeys
from keys.errors import DecryptionFailed
from sandbox import FederatedModel
from sandbox import errors as core_errors
from sandbox.errors import SandboxError
from sandbox.node import errors as node_errors
from sandbox.node._problems import _STATUS

ROOT = pathlib.Path(sn.__file__).parent
ALL_ERRORS = [getattr(core_errors, n) for n in core_errors.__all__] + [
    getattr(node_errors, n) for n in node_errors.__all__
]


def test_public_names_are_exported() -> None:
    """Every name in __all__ exists, once."""
    for name in sn.__all__:
        assert hasattr(sn, name), name
    assert len(sn.__all__) == len(set(sn.__all__))


def test_the_node_never_imports_ledger_or_web_frameworks() -> None:
    """sandbox.node reaches the chain only through GrantChecker: no ledger, exchange, FastAPI, SQLAlchemy."""
    banned = {"ledger", "exchange_api", "fastapi", "sqlalchemy", "tdex", "web3"}
    for path in ROOT.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"


def test_every_node_error_has_a_distinct_code_and_a_status() -> None:
    """Node errors are SandboxErrors with their own sandbox.node.* codes, each mapped to a 4xx or 503."""
    codes = [c.code for c in ALL_ERRORS]
    assert len(codes) == len(set(codes))
    for cls in ALL_ERRORS:
        if cls in (node_errors.NodeError, node_errors.NodeUnavailable, node_errors.RemoteError, SandboxError):
            continue
        assert issubclass(cls, SandboxError)
        assert cls.code in _STATUS, f"{cls.__name__} has no HTTP status"


@pytest.mark.parametrize(
    "error",
    [
        node_errors.GrantExpired(7, 100, 200),
        node_errors.GrantBudgetExhausted(7, 500_000, 10),
        node_errors.DatasetRowRejected("employees", 3, 12, "not an integer"),
        core_errors.BudgetExceeded("7", 0.5, 0.1),
        core_errors.GroupTooSmall(10),
    ],
)
def test_a_problem_body_turns_back_into_the_same_error(error: SandboxError) -> None:
    """Over HTTP a caller catches the class the node raised, with its fields."""
    body = sn.problem_body(error, "/jobs")
    assert body["type"] == f"urn:tdex:problem:{error.code}" and body["status"] == sn.status_of(error)
    again = sn.error_from_problem(body, body["status"])
    assert type(again) is type(error) and again.code == error.code and str(again) == str(error)
    assert {k: v for k, v in vars(again).items()} == {k: v for k, v in vars(error).items()}


def test_an_unknown_problem_code_becomes_a_remote_error() -> None:
    """A code this client does not know is kept, not guessed."""
    error = sn.error_from_problem({"code": "exchange.other", "detail": "x"}, 418)
    assert isinstance(error, node_errors.RemoteError) and error.remote_code == "exchange.other"


def test_a_sealed_model_round_trips_for_its_requester_only() -> None:
    """The trained model survives JSON and sealing; another key or another job id cannot open it."""
    model = FederatedModel(
        "logistic", ("a", "b"), np.array([0.5, -1.25]), 0.125, np.array([1.0, 2.0]), np.array([3.0, 4.0]),
        (("x", "y"), ("x",)),
    )  # fmt: skip
    bank, other = OrgKeys.generate("bank"), OrgKeys.generate("other")
    envelope = sn.seal_model(model, bank.identity.public_encryption_key, "job-7")
    opened = sn.open_model(bank, envelope, "job-7")
    assert sn.model_to_dict(opened) == sn.model_to_dict(model)
    with pytest.raises(DecryptionFailed):
        sn.open_model(other, envelope, "job-7")
    with pytest.raises(DecryptionFailed):
        sn.open_model(bank, envelope, "job-8")
