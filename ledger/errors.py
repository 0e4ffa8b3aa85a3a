"""Errors of the ledger client: one root, a stable machine `code` on every class.

Exception tree::

    LedgerError                      ledger.error
    ├── BadUrl                       ledger.bad_url
    ├── Unreachable                  ledger.unreachable
    ├── RpcError                     ledger.rpc
    ├── Unsupported                  ledger.unsupported
    ├── AnvilError                   ledger.anvil
    ├── TransactionRejected          ledger.tx_rejected
    ├── NonceConflict                ledger.nonce_conflict
    ├── ReceiptTimeout               ledger.receipt_timeout
    ├── DeploymentError              ledger.deployment
    └── ContractRevert               ledger.revert
        ├── RevertWithReason         ledger.revert.Error          (Solidity `Error(string)`)
        ├── Panic                    ledger.revert.Panic          (Solidity `Panic(uint256)`)
        ├── UnknownRevert            ledger.revert.unknown        (data no ABI explains)
        └── one class per custom error of the contracts, generated into `ledger._revert_errors`
            (e.g. `AccessGrantsGrantExpired`, code `ledger.revert.AccessGrantsGrantExpired`)

Raw errors of the three backends (JSON-RPC error objects, eth-tester exceptions, socket errors)
are translated to these in one place, `ledger._backends`; revert data is decoded here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from eth_abi import decode as _abi_decode
from eth_abi.exceptions import DecodingError

__all__ = [
    "AnvilError",
    "BadUrl",
    "ContractRevert",
    "DeploymentError",
    "LedgerError",
    "NonceConflict",
    "Panic",
    "ReceiptTimeout",
    "RevertWithReason",
    "RpcError",
    "TransactionRejected",
    "UnknownRevert",
    "Unreachable",
    "Unsupported",
    "decode_revert",
    "revert_class",
]


class LedgerError(Exception):
    """Root of every error the ledger client raises."""

    code: ClassVar[str] = "ledger.error"


class BadUrl(LedgerError):
    """Raised when a chain URL is malformed or names an unsupported scheme."""

    code = "ledger.bad_url"


class Unreachable(LedgerError):
    """Raised when the chain does not answer (refused, reset, timed out) after the allowed retries."""

    code = "ledger.unreachable"


class RpcError(LedgerError):
    """Raised when the node answers a request with a JSON-RPC error the client has no better type for."""

    code = "ledger.rpc"

    def __init__(self, message: str, *, rpc_code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.data = data


class Unsupported(LedgerError):
    """Raised when the backend cannot do what was asked (time travel or dev funding on a real chain)."""

    code = "ledger.unsupported"


class AnvilError(LedgerError):
    """Raised when the local Anvil node cannot be found, started or made ready."""

    code = "ledger.anvil"


class TransactionRejected(LedgerError):
    """Raised when the node refuses a signed transaction (funds, fees, gas limit); it was not mined."""

    code = "ledger.tx_rejected"


class NonceConflict(LedgerError):
    """Raised when another transaction took this transaction's nonce, so it can never be mined."""

    code = "ledger.nonce_conflict"


class ReceiptTimeout(LedgerError):
    """Raised when a broadcast transaction has no receipt within the allowed time."""

    code = "ledger.receipt_timeout"

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class DeploymentError(LedgerError):
    """Raised when an artifact is missing or unreadable, or a manifest does not fit the chain."""

    code = "ledger.deployment"


class ContractRevert(LedgerError):
    """Raised when a contract call or transaction reverts; subclasses name the Solidity error.

    Attributes
    ----------
    error_name:
        The Solidity error name, e.g. ``"AccessGrantsGrantExpired"``.
    arguments:
        The decoded error arguments by their Solidity names (``args`` stays the usual exception
        tuple). Generated subclasses also expose each argument as a snake_case attribute.
    data:
        The raw revert data (selector and ABI-encoded arguments).
    tx_hash:
        The hash of the mined transaction that reverted, or None when the revert was found by a
        call or a gas estimate before anything was sent.
    """

    code: ClassVar[str] = "ledger.revert"
    error_name: ClassVar[str] = ""
    signature: ClassVar[str] = ""
    selector: ClassVar[bytes] = b""
    # (solidity name, python attribute, ABI type) per argument, in order.
    abi_inputs: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    # Arguments that are Solidity enums, converted to their Python IntEnum.
    enum_args: ClassVar[tuple[tuple[str, Callable[[int], Any]], ...]] = ()

    def __init__(
        self, arguments: Mapping[str, Any], *, data: bytes = b"", tx_hash: str | None = None
    ) -> None:
        self.arguments: Mapping[str, Any] = dict(arguments)
        self.data = data
        self.tx_hash = tx_hash
        for solidity_name, attribute, _ in self.abi_inputs:
            setattr(self, attribute, self.arguments[solidity_name])
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.arguments.items())
        super().__init__(f"{self.error_name or type(self).__name__}({shown})")

    @classmethod
    def from_data(cls, data: bytes, *, tx_hash: str | None = None) -> ContractRevert:
        """Decode ``data`` (selector + arguments) into an instance of this class."""
        types = [t for _, _, t in cls.abi_inputs]
        values = _abi_decode(types, data[4:]) if types else ()
        arguments: dict[str, Any] = {}
        for (name, _, abi_type), value in zip(cls.abi_inputs, values, strict=True):
            convert = dict(cls.enum_args).get(name)
            arguments[name] = convert(value) if convert else _normalise(abi_type, value)
        return cls(arguments, data=data, tx_hash=tx_hash)

    def with_tx_hash(self, tx_hash: str) -> ContractRevert:
        """A copy of this error that names the mined transaction it came from."""
        return type(self)(self.arguments, data=self.data, tx_hash=tx_hash)


class RevertWithReason(ContractRevert):
    """Raised when a contract reverts with a reason string (Solidity `Error(string)`)."""

    code = "ledger.revert.Error"
    error_name = "Error"
    signature = "Error(string)"
    selector = bytes.fromhex("08c379a0")
    abi_inputs = (("reason", "reason", "string"),)
    reason: str


class Panic(ContractRevert):
    """Raised when a contract hits a Solidity panic (assert, overflow, division by zero...)."""

    code = "ledger.revert.Panic"
    error_name = "Panic"
    signature = "Panic(uint256)"
    selector = bytes.fromhex("4e487b71")
    abi_inputs = (("code", "panic_code", "uint256"),)
    panic_code: int


class UnknownRevert(ContractRevert):
    """Raised when a revert carries data that matches no known error (or no data at all)."""

    code = "ledger.revert.unknown"
    error_name = "UnknownRevert"

    def __init__(
        self, arguments: Mapping[str, Any] | None = None, *, data: bytes = b"", tx_hash: str | None = None
    ) -> None:
        super().__init__(arguments or {"data": "0x" + data.hex()}, data=data, tx_hash=tx_hash)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value)


def _normalise(abi_type: str, value: Any) -> Any:
    # eth_abi returns lowercase addresses; checksummed ones compare equal to what users pass around.
    if abi_type == "address":
        from eth_utils import to_checksum_address

        return to_checksum_address(value)
    return value


def _builtin_classes() -> dict[bytes, type[ContractRevert]]:
    return {RevertWithReason.selector: RevertWithReason, Panic.selector: Panic}


def revert_class(error_name: str) -> type[ContractRevert]:
    """The exception class raised for the Solidity error ``error_name`` (e.g. "DataCatalogResourceExists").

    Raises
    ------
    KeyError
        When no contract artifact declares that error.
    """
    from ledger._revert_errors import REVERT_CLASSES

    candidates: list[type[ContractRevert]] = [*REVERT_CLASSES.values(), RevertWithReason, Panic]
    for cls in candidates:
        if cls.error_name == error_name:
            return cls
    raise KeyError(f"no contract declares an error named {error_name!r}")


def decode_revert(data: bytes, *, tx_hash: str | None = None) -> ContractRevert:
    """Turn raw revert data into the typed exception for its selector (UnknownRevert if none fits)."""
    from ledger._revert_errors import REVERT_CLASSES

    cls = REVERT_CLASSES.get(data[:4]) or _builtin_classes().get(data[:4])
    if cls is None:
        return UnknownRevert(data=data, tx_hash=tx_hash)
    try:
        return cls.from_data(data, tx_hash=tx_hash)
    except (DecodingError, ValueError, TypeError):
        return UnknownRevert(data=data, tx_hash=tx_hash)
