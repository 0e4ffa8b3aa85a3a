"""Typed reverts: every custom error decodes to its class with named arguments; raw shapes normalised."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

import ledger
from ledger import _codegen, _enums
from ledger._backends import JsonRpcError, revert_data
from ledger._revert_errors import REVERT_CLASSES
from ledger.errors import (
    ContractRevert,
    LedgerError,
    Panic,
    RevertWithReason,
    UnknownRevert,
    decode_revert,
    revert_class,
)

SAMPLES: dict[str, Any] = {
    "address": "0x" + "Ab" * 20,
    "bool": True,
    "string": "why",
    "bytes": b"\x01\x02",
}


def _sample(abi_type: str) -> Any:
    if abi_type in SAMPLES:
        return SAMPLES[abi_type]
    if abi_type.startswith("bytes"):
        return bytes(range(1, int(abi_type[5:]) + 1))
    if abi_type.startswith(("uint", "int")):
        return 2
    raise AssertionError(f"no sample for {abi_type}")


def test_generated_module_is_in_sync_with_the_artifacts() -> None:
    """Regenerating ledger/_revert_errors.py from contracts/build gives the committed file."""
    assert _codegen.main(["--check"]) == 0


@pytest.mark.parametrize(
    "cls", sorted(REVERT_CLASSES.values(), key=lambda c: c.error_name), ids=lambda c: c.error_name
)
def test_every_custom_error_decodes_to_its_class(cls: type[ContractRevert]) -> None:
    """Selector plus encoded arguments decode to the generated class, arguments by name and as attributes."""
    types = [t for _, _, t in cls.abi_inputs]
    values = [_sample(t) for t in types]
    data = cls.selector + encode(types, values)
    error = decode_revert(data, tx_hash="0x" + "cd" * 32)
    assert type(error) is cls
    assert error.code == f"ledger.revert.{cls.error_name}"
    assert error.tx_hash == "0x" + "cd" * 32
    assert error.data == data
    for (solidity_name, attribute, abi_type), value in zip(cls.abi_inputs, values, strict=True):
        expected = to_checksum_address(value) if abi_type == "address" else value
        assert error.arguments[solidity_name] == expected
        assert getattr(error, attribute) == expected
    assert revert_class(cls.error_name) is cls
    assert cls.error_name in str(error)


def test_enum_arguments_become_enums() -> None:
    """An error argument declared as a Solidity enum comes back as the Python IntEnum member."""
    cls = revert_class("AccessGrantsApplicationNotPending")
    error = decode_revert(cls.selector + encode(["uint256", "uint8"], [4, 3]))
    assert error.arguments["status"] is ledger.ApplicationStatus.REJECTED


def test_builtin_reverts() -> None:
    """Error(string) and Panic(uint256) decode to their classes."""
    reason = decode_revert(RevertWithReason.selector + encode(["string"], ["nope"]))
    assert isinstance(reason, RevertWithReason) and reason.reason == "nope"
    panic = decode_revert(Panic.selector + encode(["uint256"], [0x11]))
    assert isinstance(panic, Panic) and panic.panic_code == 0x11
    assert panic.code == "ledger.revert.Panic"


@pytest.mark.parametrize(
    "data", [b"", b"\xde\xad\xbe\xef", REVERT_CLASSES and next(iter(REVERT_CLASSES)) + b"\x00"]
)
def test_unexplained_data_is_unknown_revert(data: bytes) -> None:
    """No data, an unknown selector or truncated arguments give UnknownRevert with the raw data."""
    error = decode_revert(data)
    assert type(error) is UnknownRevert
    assert error.code == "ledger.revert.unknown"
    assert error.data == data


def test_unknown_error_name() -> None:
    """Asking for an error no contract declares is a KeyError naming it."""
    with pytest.raises(KeyError, match="NoSuchError"):
        revert_class("NoSuchError")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # Anvil / geth
        (JsonRpcError(3, "execution reverted: custom error 0xdeadbeef", "0xdeadbeef"), b"\xde\xad\xbe\xef"),
        # Besu
        (JsonRpcError(-32000, "Execution reverted", "0xdeadbeef"), b"\xde\xad\xbe\xef"),
        # Nodes that nest the data
        (JsonRpcError(-32603, "Internal error", {"data": "0xdeadbeef"}), b"\xde\xad\xbe\xef"),
        (
            JsonRpcError(-32603, "Internal error", {"originalError": {"data": "0xdeadbeef"}}),
            b"\xde\xad\xbe\xef",
        ),
        # A bare revert()
        (JsonRpcError(-32000, "execution reverted", None), b""),
        # Not a revert at all
        (JsonRpcError(-32000, "header not found", None), None),
    ],
)
def test_revert_data_shapes(error: JsonRpcError, expected: bytes | None) -> None:
    """Each node's way of reporting revert data is normalised in one function."""
    assert revert_data(error) == expected


def test_every_error_has_a_stable_code() -> None:
    """Every exception class of the package declares its own code under ``ledger.``."""
    classes = [
        obj for obj in vars(ledger.errors).values() if isinstance(obj, type) and issubclass(obj, LedgerError)
    ]
    classes += list(REVERT_CLASSES.values())
    codes = [cls.code for cls in classes]
    assert all(code.startswith("ledger.") for code in codes)
    assert len(set(codes)) == len(codes)


def _solidity_enums() -> dict[str, list[str]]:
    source = "\n".join(p.read_text() for p in Path(ledger.__file__).parent.parent.glob("contracts/src/*.sol"))
    return {
        m.group(1): [v.strip() for v in m.group(2).split(",") if v.strip()]
        for m in re.finditer(r"enum\s+(\w+)\s*\{([^}]*)\}", source)
    }


def test_python_enums_mirror_the_solidity_enums() -> None:
    """Each IntEnum in ledger._enums has the members of the Solidity enum of that name, in order."""
    solidity = _solidity_enums()
    for name in _enums.__all__:
        enum = getattr(_enums, name)
        if name == "Capability":
            continue
        assert [m.name for m in enum] == solidity[name], name
        assert [m.value for m in enum] == list(range(len(solidity[name])))
