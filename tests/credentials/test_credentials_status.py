"""Bitstring Status List: bit order, GZIP + base64url encoding, size limits, entries."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials import MIN_ENTRIES, StatusList, parse_status_entry, status_entry
from credentials._status import MAX_BYTES
from credentials.errors import StatusIndexOutOfRange, StatusListMalformed


def _encode_raw(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw)).rstrip(b"=").decode()


def test_index_zero_is_the_leftmost_bit() -> None:
    """Entry 0 is the most significant bit of the first byte; entry 9 is bit 6 of the second."""
    lst = StatusList()
    lst.set(0)
    lst.set(9)
    raw = lst.to_bytes()
    assert raw[0] == 0x80 and raw[1] == 0x40 and lst.count() == 2


def test_new_list_has_the_minimum_size_and_encodes_with_u_prefix() -> None:
    """A new list holds 131,072 clear entries and encodes as multibase base64url of GZIP."""
    lst = StatusList()
    assert lst.size == MIN_ENTRIES == 131_072
    encoded = lst.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(16 * 1024)
    assert lst.encode() == encoded  # mtime 0: reproducible


@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=50))
def test_round_trip(indices: set[int]) -> None:
    """Encode then decode gives back exactly the set entries."""
    lst = StatusList()
    for i in indices:
        lst.set(i)
    back = StatusList.decode(lst.encode())
    assert {i for i in indices if back[i]} == indices and back.count() == len(indices)


def test_clear_and_bounds() -> None:
    """Entries can be cleared again; indices outside the list raise StatusIndexOutOfRange."""
    lst = StatusList()
    lst.set(5)
    lst.set(5, False)
    assert not lst[5]
    with pytest.raises(StatusIndexOutOfRange) as info:
        lst.set(MIN_ENTRIES)
    assert info.value.code == "credentials.status.out_of_range"


@pytest.mark.parametrize(
    "encoded",
    [
        "H4sIAAAAAAAAA",  # no multibase prefix
        "u!!!",  # not base64url
        "u" + base64.urlsafe_b64encode(b"not gzip").rstrip(b"=").decode(),
        _encode_raw(bytes(1024)),  # too short: 8,192 entries
        _encode_raw(bytes(16 * 1024))[:-20],  # truncated GZIP stream
    ],
)
def test_malformed_lists_are_refused(encoded: str) -> None:
    """A bad prefix, bad base64url, non-GZIP data, a short list or a truncated stream are malformed."""
    with pytest.raises(StatusListMalformed) as info:
        StatusList.decode(encoded)
    assert info.value.code == "credentials.status.malformed"


def test_decompression_is_bounded() -> None:
    """A GZIP stream that inflates beyond the limit is refused before it is all inflated."""
    with pytest.raises(StatusListMalformed):
        StatusList.decode(_encode_raw(bytes(MAX_BYTES + 8)))


def test_entries_round_trip_and_malformed_entries() -> None:
    """status_entry writes a BitstringStatusListEntry that parse_status_entry reads back; bad ones fail."""
    entry = status_entry("https://x.example/status/1", 94567, "revocation")
    assert entry["statusListIndex"] == "94567" and entry["type"] == "BitstringStatusListEntry"
    parsed = parse_status_entry(entry)
    assert (parsed.list_url, parsed.index, parsed.purpose) == (
        "https://x.example/status/1",
        94567,
        "revocation",
    )
    for bad in (
        {**entry, "statusListIndex": 5},
        {**entry, "statusListIndex": "007"},
        {**entry, "statusSize": 2},
    ):
        with pytest.raises(StatusListMalformed):
            parse_status_entry(bad)
