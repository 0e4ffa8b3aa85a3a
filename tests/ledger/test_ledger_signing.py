"""Local signing: the fast type-2 encoder matches eth-account byte for byte; keys stay private."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import Signer
from ledger._signing import rlp_encode

items = st.recursive(
    st.one_of(st.integers(min_value=0, max_value=2**256 - 1), st.binary(max_size=80)),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@given(items)
def test_rlp_matches_pyrlp(item: object) -> None:
    """The small RLP encoder gives pyrlp's bytes for ints, bytes and nested lists."""
    assert rlp_encode(item) == rlp.encode(item)  # type: ignore[arg-type]


KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


@settings(max_examples=40, deadline=None)
@given(
    chain_id=st.integers(1, 2**40),
    nonce=st.integers(0, 2**32),
    tip=st.integers(0, 10**11),
    base=st.integers(0, 10**11),
    gas=st.integers(21_000, 30_000_000),
    to=st.one_of(st.just(b""), st.binary(min_size=20, max_size=20)),
    value=st.integers(0, 10**24),
    data=st.binary(max_size=300),
)
def test_type2_signature_matches_eth_account(
    chain_id: int, nonce: int, tip: int, base: int, gas: int, to: bytes, value: int, data: bytes
) -> None:
    """For any fields, the raw signed transaction and its hash equal eth-account's."""
    signer = Signer(KEY)
    ours = signer.sign_type2(
        chain_id=chain_id,
        nonce=nonce,
        max_priority_fee=tip,
        max_fee=base + tip,
        gas=gas,
        to=to,
        value=value,
        data=data,
    )
    fields = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": base + tip,
        "gas": gas,
        "value": value,
        "data": data,
        "accessList": [],
    }
    if to:
        fields["to"] = to_checksum_address(to)
    theirs = Account.sign_transaction(fields, KEY)
    assert ours.raw == bytes(theirs.raw_transaction)
    assert ours.tx_hash == bytes(theirs.hash)
    assert Account.recover_transaction(ours.raw) == signer.address


def test_signer_never_shows_its_key() -> None:
    """repr names the address only; the key is exported only on purpose."""
    signer = Signer("0x" + KEY.hex())
    assert signer.address == Account.from_key(KEY).address
    assert KEY.hex() not in repr(signer)
    assert signer.export_private_key() == KEY


@pytest.mark.parametrize("key", [b"\x01" * 31, "0x1234", "zz" * 32])
def test_bad_keys_are_refused(key: bytes | str) -> None:
    """Keys of the wrong size or not hex raise ValueError."""
    with pytest.raises(ValueError, match="32 bytes"):
        Signer(key)
