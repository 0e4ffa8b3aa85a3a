"""Shared machinery of the typed contract facades: artifact ABIs and struct-to-dataclass mapping."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, TypeVar

from ledger._abi import ContractAbi
from ledger._chain import Chain
from ledger._contract import ContractClient
from ledger.errors import DeploymentError

__all__ = ["Facade", "contract_abi", "record"]

T = TypeVar("T")


@cache
def contract_abi(name: str) -> ContractAbi:
    """The parsed ABI of the committed artifact ``name`` (read once per process)."""
    try:
        import contracts
    except ImportError as exc:  # pragma: no cover - the package ships with the repository
        raise DeploymentError("the contracts package is not importable") from exc
    try:
        artifact = contracts.load_artifact(name)
    except contracts.ContractsError as exc:
        raise DeploymentError(str(exc)) from exc
    return ContractAbi(name, artifact["abi"])


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def record(cls: type[T], values: Mapping[str, Any], **extra: Any) -> T:
    """Build the frozen dataclass ``cls`` from a decoded struct (camelCase keys) plus ``extra`` fields."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {_snake(k): v for k, v in values.items() if _snake(k) in names}
    kwargs.update(extra)
    return cls(**kwargs)


class Facade(ContractClient):
    """A ContractClient for one of the tdex contracts, its ABI taken from the committed artifact."""

    CONTRACT: ClassVar[str] = ""

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, self.CONTRACT, contract_abi(self.CONTRACT), address)
