"""ABI handling: strict argument checks, and the fast word decoder agreeing with eth_abi."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from ledger._abi import ContractAbi, _Decoder
from ledger._facade import contract_abi

PARAMS = [
    {"name": "a", "type": "uint64", "internalType": "uint64"},
    {"name": "b", "type": "int256", "internalType": "int256"},
    {"name": "c", "type": "bytes32", "internalType": "bytes32"},
    {"name": "d", "type": "address", "internalType": "address"},
    {"name": "e", "type": "bool", "internalType": "bool"},
    {"name": "f", "type": "bytes4", "internalType": "bytes4"},
]


@given(
    a=st.integers(0, 2**64 - 1),
    b=st.integers(-(2**255), 2**255 - 1),
    c=st.binary(min_size=32, max_size=32),
    d=st.binary(min_size=20, max_size=20),
    e=st.booleans(),
    f=st.binary(min_size=4, max_size=4),
)
def test_fast_decoder_agrees_with_eth_abi(a: int, b: int, c: bytes, d: bytes, e: bool, f: bytes) -> None:
    """Word-by-word decoding of static types gives eth_abi's values (addresses checksummed)."""
    types = [p["type"] for p in PARAMS]
    data = encode(types, [a, b, c, "0x" + d.hex(), e, f])
    decoder = _Decoder(PARAMS)
    assert decoder.fast is not None
    expected = list(decode(types, data))
    expected[3] = to_checksum_address(expected[3])
    assert decoder(data) == expected


def test_dynamic_types_fall_back_to_eth_abi() -> None:
    """Arrays are decoded by eth_abi."""
    params = [{"name": "xs", "type": "bytes32[]", "internalType": "bytes32[]"}]
    decoder = _Decoder(params)
    assert decoder.fast is None
    assert decoder(encode(["bytes32[]"], [[b"\x01" * 32]])) == [(b"\x01" * 32,)]


def test_fixed_bytes_must_have_their_exact_length() -> None:
    """A 20-byte value for a bytes32 argument is refused instead of silently padded."""
    fn = contract_abi("AuditAnchor").function("anchor")
    with pytest.raises(TypeError, match="32 bytes"):
        fn.encode([b"\x01" * 20, 1, b"\x02" * 32])
    assert fn.encode(["0x" + "01" * 32, 1, b"\x02" * 32]) == fn.encode([b"\x01" * 32, 1, b"\x02" * 32])


def test_addresses_are_checked() -> None:
    """A non-address for an address argument is refused."""
    fn = contract_abi("Consortium").function("isActive")
    with pytest.raises(TypeError, match="address"):
        fn.encode(["not an address"])


def test_overloads_need_a_signature() -> None:
    """An overloaded name must be given by signature."""
    abi = ContractAbi(
        "Over",
        [
            {"type": "function", "name": "f", "inputs": [], "outputs": [], "stateMutability": "view"},
            {
                "type": "function",
                "name": "f",
                "inputs": [{"name": "x", "type": "uint256"}],
                "outputs": [],
                "stateMutability": "view",
            },
        ],
    )
    with pytest.raises(KeyError, match="overloaded"):
        abi.function("f")
    assert abi.function("f(uint256)").selector == abi.functions["f(uint256)"].selector
