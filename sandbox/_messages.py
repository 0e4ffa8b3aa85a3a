"""Secure-aggregation messages: frozen dataclasses with `to_dict` / `from_dict` for the HTTP transport.

Every message carries ``kind`` and ``version``; bytes travel as base64, integer vectors as the
base64 of their little-endian uint64 bytes, Shamir shares as ``[x, "<hex y>"]``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from sandbox._shamir import Share
from sandbox.errors import StateInvalid

__all__ = [
    "MaskedInput",
    "PlainInput",
    "RoundConfig",
    "ShareKeys",
    "SharesDelivery",
    "UnmaskRequest",
    "UnmaskResponse",
]

_VERSION = 1
T = TypeVar("T")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: Any) -> bytes:
    if not isinstance(s, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(s, validate=True)


def _load(kind: str, data: Any, build: Callable[[Mapping[str, Any]], T]) -> T:
    if not isinstance(data, Mapping) or data.get("kind") != kind or data.get("version") != _VERSION:
        raise StateInvalid(kind, "wrong kind or version")
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise StateInvalid(kind, f"malformed message: {exc}") from None


def _strs(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ValueError("expected a list of node ids")
    return tuple(raw)


@dataclass(frozen=True)
class RoundConfig:
    """Coordinator → nodes: who takes part, the threshold, the vector length and its encoding."""

    round_id: str
    participants: tuple[str, ...]
    threshold: int
    dimension: int
    frac_bits: int = 24
    modulus_bits: int = 64

    KIND = "tdex.sandbox.secagg.round_config"

    def index_of(self, node_id: str) -> int:
        """The node's 1-based Shamir x coordinate."""
        return self.participants.index(node_id) + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "participants": list(self.participants),
            "threshold": self.threshold,
            "dimension": self.dimension,
            "frac_bits": self.frac_bits,
            "modulus_bits": self.modulus_bits,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoundConfig:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(
                str(d["round_id"]),
                _strs(d["participants"]),
                int(d["threshold"]),
                int(d["dimension"]),
                int(d["frac_bits"]),
                int(d["modulus_bits"]),
            ),
        )


@dataclass(frozen=True)
class ShareKeys:
    """Node → coordinator: its Shamir shares for each peer, each sealed with the pair's key."""

    round_id: str
    sender: str
    sealed: Mapping[str, bytes]

    KIND = "tdex.sandbox.secagg.share_keys"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "sender": self.sender,
            "sealed": {k: _b64(v) for k, v in sorted(self.sealed.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShareKeys:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(
                str(d["round_id"]), str(d["sender"]), {str(k): _unb64(v) for k, v in d["sealed"].items()}
            ),
        )


@dataclass(frozen=True)
class SharesDelivery:
    """Coordinator → one node: the nodes still in the round and the sealed shares addressed to it."""

    round_id: str
    recipient: str
    active: tuple[str, ...]
    sealed: Mapping[str, bytes]

    KIND = "tdex.sandbox.secagg.shares_delivery"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "recipient": self.recipient,
            "active": list(self.active),
            "sealed": {k: _b64(v) for k, v in sorted(self.sealed.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SharesDelivery:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(
                str(d["round_id"]),
                str(d["recipient"]),
                _strs(d["active"]),
                {str(k): _unb64(v) for k, v in d["sealed"].items()},
            ),
        )


@dataclass(frozen=True)
class MaskedInput:
    """Node → coordinator: the node's encoded vector plus its self-mask and pairwise masks, mod 2^k."""

    round_id: str
    sender: str
    masked: npt.NDArray[np.uint64]

    KIND = "tdex.sandbox.secagg.masked_input"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "sender": self.sender,
            "masked": _b64(self.masked.astype("<u8").tobytes()),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskedInput:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(
                str(d["round_id"]),
                str(d["sender"]),
                np.frombuffer(_unb64(d["masked"]), dtype="<u8").astype(np.uint64),
            ),
        )


@dataclass(frozen=True)
class PlainInput:
    """Node → coordinator without secure aggregation (baseline measurements only): the clear vector."""

    round_id: str
    sender: str
    vector: npt.NDArray[np.float64]

    KIND = "tdex.sandbox.secagg.plain_input"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "sender": self.sender,
            "vector": [float(v) for v in self.vector],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlainInput:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(str(d["round_id"]), str(d["sender"]), np.asarray(d["vector"], dtype=np.float64)),
        )


@dataclass(frozen=True)
class UnmaskRequest:
    """Coordinator → survivors: whose masked input arrived (survivors) and who dropped after sharing."""

    round_id: str
    survivors: tuple[str, ...]
    dropped: tuple[str, ...]

    KIND = "tdex.sandbox.secagg.unmask_request"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "survivors": list(self.survivors),
            "dropped": list(self.dropped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnmaskRequest:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND, data, lambda d: cls(str(d["round_id"]), _strs(d["survivors"]), _strs(d["dropped"]))
        )


@dataclass(frozen=True)
class UnmaskResponse:
    """Survivor → coordinator: shares of survivors' self-mask seeds, and of dropped nodes' pair seeds.

    ``pair_shares`` is keyed ``"<dropped>/<survivor>"``: the sender's share of the seed the dropped
    node shared with that survivor. A node never reveals both kinds for the same node.
    """

    round_id: str
    sender: str
    self_shares: Mapping[str, Share]
    pair_shares: Mapping[str, Share]

    KIND = "tdex.sandbox.secagg.unmask_response"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "kind": self.KIND,
            "version": _VERSION,
            "round_id": self.round_id,
            "sender": self.sender,
            "self_shares": {k: v.to_list() for k, v in sorted(self.self_shares.items())},
            "pair_shares": {k: v.to_list() for k, v in sorted(self.pair_shares.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnmaskResponse:
        """Inverse of `to_dict`."""
        return _load(
            cls.KIND,
            data,
            lambda d: cls(
                str(d["round_id"]),
                str(d["sender"]),
                {str(k): Share.from_list(v) for k, v in d["self_shares"].items()},
                {str(k): Share.from_list(v) for k, v in d["pair_shares"].items()},
            ),
        )
