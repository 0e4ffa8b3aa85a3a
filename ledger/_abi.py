"""ABI handling: function calldata, output and event decoding, prepared once per contract ABI."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_utils import is_hex_address, to_checksum_address

from ledger import _enums

__all__ = ["ContractAbi", "EventAbi", "FunctionAbi", "abi_type", "checksum", "normalise_output"]

AbiEntry = Mapping[str, Any]

_ENUMS: dict[str, type[IntEnum]] = {name: getattr(_enums, name) for name in _enums.__all__}


@lru_cache(maxsize=8192)
def _checksum_cached(lowered: str) -> str:
    return to_checksum_address(lowered)


def checksum(address: str | bytes) -> str:
    """EIP-55 checksummed form of an address (cached: the same few addresses recur in every receipt)."""
    if isinstance(address, bytes):
        address = "0x" + address.hex()
    return _checksum_cached(address.lower())


def _static_word_decoder(param: AbiEntry) -> Callable[[bytes], Any] | None:
    """A decoder of one 32-byte ABI word for static elementary types, None for anything else.

    eth_abi's general decoder costs about 25 µs per value here; slicing the word costs 1 µs, and
    events and views are decoded for every receipt and call.
    """
    kind: str = param["type"]
    if kind.endswith("]") or kind.startswith("tuple"):
        return None
    internal = str(param.get("internalType", ""))
    if internal.startswith("enum "):
        enum = _ENUMS.get(internal.rsplit(".", 1)[-1])
        if enum is not None:
            return lambda w: enum(int.from_bytes(w, "big"))
    if kind.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    if kind.startswith("int"):
        return lambda w: int.from_bytes(w, "big", signed=True)
    if kind == "address":
        return lambda w: checksum(w[12:])
    if kind == "bool":
        return lambda w: w[31] == 1
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])
        return lambda w: bytes(w[:size])
    return None


class _Decoder:
    """Decodes a fixed list of ABI parameters, word by word when all are static elementary types."""

    def __init__(self, params: Sequence[AbiEntry]) -> None:
        self.params = tuple(params)
        self.types = [abi_type(p) for p in self.params]
        words = [_static_word_decoder(p) for p in self.params]
        self.fast: list[Callable[[bytes], Any]] | None = None
        if all(w is not None for w in words):
            self.fast = [w for w in words if w is not None]

    def __call__(self, data: bytes) -> list[Any]:
        if self.fast is not None and len(data) >= 32 * len(self.fast):
            return [f(data[32 * i : 32 * i + 32]) for i, f in enumerate(self.fast)]
        values = abi_decode(self.types, data)
        return [normalise_output(p, v) for p, v in zip(self.params, values, strict=True)]


def abi_type(param: AbiEntry) -> str:
    """The canonical type string of an ABI parameter (tuples expanded, e.g. ``(bytes32,uint8)[]``)."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", ()))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def _signature(entry: AbiEntry) -> str:
    return f"{entry['name']}({','.join(abi_type(p) for p in entry.get('inputs', ()))})"


def normalise_output(param: AbiEntry, value: Any) -> Any:
    """An eth_abi value in the client's shape: checksummed addresses, structs as dicts, arrays as tuples."""
    kind: str = param["type"]
    if kind.endswith("]"):
        element = dict(param, type=kind[: kind.rindex("[")])
        return tuple(normalise_output(element, v) for v in value)
    if kind == "tuple":
        return {c["name"]: normalise_output(c, v) for c, v in zip(param["components"], value, strict=True)}
    if kind == "address":
        return checksum(value)
    internal = param.get("internalType", "")
    if internal.startswith("enum "):
        enum = _ENUMS.get(internal.rsplit(".", 1)[-1])
        if enum is not None:
            return enum(value)
    return value


def _input_converter(param: AbiEntry) -> Callable[[Any], Any]:
    """A function checking and converting one argument to what eth_abi encodes, strictly.

    eth_abi pads a short value into ``bytes32`` silently; a digest of the wrong length is almost
    always a bug, so fixed-size bytes must have their exact length here.
    """
    kind: str = param["type"]
    name = param.get("name") or "argument"
    if kind.endswith("]"):
        element = _input_converter(dict(param, type=kind[: kind.rindex("[")]))
        return lambda v: [element(x) for x in v]
    if kind == "tuple":
        parts = [(c.get("name", ""), _input_converter(c)) for c in param["components"]]

        def convert_tuple(v: Any) -> tuple[Any, ...]:
            if isinstance(v, Mapping):
                return tuple(conv(v[n]) for n, conv in parts)
            return tuple(conv(x) for (_, conv), x in zip(parts, v, strict=True))

        return convert_tuple
    if kind.startswith("bytes") and kind != "bytes":
        size = int(kind[5:])

        def convert_fixed(v: Any) -> bytes:
            if isinstance(v, str):
                v = bytes.fromhex(v.removeprefix("0x"))
            if not isinstance(v, bytes | bytearray) or len(v) != size:
                raise TypeError(f"{name} must be {size} bytes, got {v!r}")
            return bytes(v)

        return convert_fixed
    if kind == "bytes":
        return lambda v: bytes.fromhex(v.removeprefix("0x")) if isinstance(v, str) else bytes(v)
    if kind == "address":

        def convert_address(v: Any) -> str:
            text = getattr(v, "address", v)
            if not isinstance(text, str) or not is_hex_address(text):
                raise TypeError(f"{name} must be an address, got {v!r}")
            return checksum(text)

        return convert_address
    if kind.startswith(("uint", "int")):
        return lambda v: int(v)
    return lambda v: v


@dataclass(frozen=True)
class FunctionAbi:
    """One contract function: its selector, input encoding and output decoding."""

    name: str
    signature: str
    selector: bytes
    inputs: tuple[AbiEntry, ...]
    outputs: tuple[AbiEntry, ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str
    converters: tuple[Callable[[Any], Any], ...]
    decoder: _Decoder = field(repr=False, compare=False)

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> FunctionAbi:
        inputs = tuple(entry.get("inputs", ()))
        outputs = tuple(entry.get("outputs", ()))
        signature = _signature(entry)
        return cls(
            name=entry["name"],
            signature=signature,
            selector=keccak(signature.encode())[:4],
            inputs=inputs,
            outputs=outputs,
            input_types=tuple(abi_type(p) for p in inputs),
            output_types=tuple(abi_type(p) for p in outputs),
            mutability=entry.get("stateMutability", "nonpayable"),
            converters=tuple(_input_converter(p) for p in inputs),
            decoder=_Decoder(outputs),
        )

    def encode(self, args: Sequence[Any]) -> bytes:
        """Calldata: selector followed by the ABI-encoded arguments."""
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.signature} takes {len(self.inputs)} arguments, got {len(args)}")
        values = [conv(a) for conv, a in zip(self.converters, args, strict=True)]
        return self.selector + abi_encode(self.input_types, values)

    def decode_output(self, data: bytes) -> Any:
        """The decoded return value: None, a single value, or a dict by output name."""
        if not self.outputs:
            return None
        decoded = self.decoder(data)
        if len(decoded) == 1:
            return decoded[0]
        return {
            (p.get("name") or f"output{i}"): v
            for i, (p, v) in enumerate(zip(self.outputs, decoded, strict=True))
        }


class EventAbi:
    """One event: its topic and the decoding of its indexed and data arguments (prepared once)."""

    def __init__(self, entry: AbiEntry) -> None:
        self.name: str = entry["name"]
        self.signature = _signature(entry)
        self.topic: bytes = keccak(self.signature.encode())
        self.inputs: tuple[AbiEntry, ...] = tuple(entry.get("inputs", ()))
        self.anonymous = bool(entry.get("anonymous", False))
        self._names = [p["name"] for p in self.inputs]
        indexed = [p for p in self.inputs if p.get("indexed")]
        # An indexed dynamic value (string, bytes, array, struct) is stored as its keccak hash only.
        self._topic_decoders: list[tuple[str, Callable[[bytes], Any]]] = [
            (p["name"], _static_word_decoder(p) or bytes) for p in indexed
        ]
        self._data_names = [p["name"] for p in self.inputs if not p.get("indexed")]
        self._data = _Decoder([p for p in self.inputs if not p.get("indexed")])

    @classmethod
    def from_abi(cls, entry: AbiEntry) -> EventAbi:
        """Prepare the decoding of one ABI event entry."""
        return cls(entry)

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        """Arguments by name, in declaration order."""
        values: dict[str, Any] = {}
        for (name, decode), topic in zip(self._topic_decoders, topics[1:], strict=True):
            values[name] = decode(topic)
        if self._data_names:
            values.update(zip(self._data_names, self._data(data), strict=True))
        return {name: values[name] for name in self._names}


class ContractAbi:
    """Functions by name and signature, events by topic, errors by selector, of one contract."""

    def __init__(self, name: str, abi: Sequence[AbiEntry]) -> None:
        self.name = name
        self.abi = tuple(abi)
        self.functions: dict[str, FunctionAbi] = {}
        self._overloaded: set[str] = set()
        self.events: dict[bytes, EventAbi] = {}
        self.events_by_name: dict[str, EventAbi] = {}
        self.constructor_inputs: tuple[AbiEntry, ...] = ()
        for entry in abi:
            kind = entry.get("type")
            if kind == "function":
                fn = FunctionAbi.from_abi(entry)
                if fn.name in self.functions:
                    self._overloaded.add(fn.name)
                self.functions.setdefault(fn.name, fn)
                self.functions[fn.signature] = fn
            elif kind == "event":
                event = EventAbi.from_abi(entry)
                self.events[event.topic] = event
                self.events_by_name[event.name] = event
            elif kind == "constructor":
                self.constructor_inputs = tuple(entry.get("inputs", ()))

    def function(self, name: str) -> FunctionAbi:
        """The function named ``name`` (or with signature ``name``, which overloads need)."""
        if name in self._overloaded:
            raise KeyError(f"{self.name}.{name} is overloaded; name it by signature, e.g. {name}(uint256)")
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"{self.name} has no function {name!r}") from None

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        """ABI-encoded constructor arguments (to append to the creation bytecode)."""
        if len(args) != len(self.constructor_inputs):
            raise TypeError(
                f"{self.name} constructor takes {len(self.constructor_inputs)} arguments, got {len(args)}"
            )
        converters = [_input_converter(p) for p in self.constructor_inputs]
        values = [conv(a) for conv, a in zip(converters, args, strict=True)]
        return abi_encode([abi_type(p) for p in self.constructor_inputs], values)
