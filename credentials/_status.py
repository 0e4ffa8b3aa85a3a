"""W3C Bitstring Status List v1.0: the list, its GZIP + base64url encoding, entries and list credentials.

Bit `i` of a list is bit 7 - (i mod 8) of byte i // 8 (index 0 is the leftmost bit of the first
byte). `encodedList` is multibase base64url without padding (prefix `u`) of the GZIP-compressed
bitstring; a list has at least 131,072 entries (16 KiB), so one credential hides among many.
Only `statusSize` 1 is produced and read (one bit per credential and purpose).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from credentials._model import as_list, build_credential, check_data_model, issuer_id
from credentials._time import parse_time
from credentials.errors import (
    CredentialMalformed,
    StatusIndexOutOfRange,
    StatusListMalformed,
    StatusListMismatch,
)

__all__ = [
    "MIN_ENTRIES",
    "STATUS_ENTRY_TYPE",
    "STATUS_LIST_CREDENTIAL_TYPE",
    "StatusEntry",
    "StatusList",
    "StatusPurpose",
    "build_status_list_credential",
    "parse_status_entry",
    "read_status_list_credential",
    "status_entry",
]

MIN_ENTRIES = 131_072
# A decoded list larger than this is refused: it bounds what a hostile GZIP stream can make us allocate.
MAX_BYTES = 16 * 1024 * 1024
STATUS_ENTRY_TYPE = "BitstringStatusListEntry"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
_LIST_TYPE = "BitstringStatusList"


class StatusPurpose(StrEnum):
    """What a set bit means: `revocation` is final, `suspension` can be undone."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusList:
    """A mutable bitstring of at least 131,072 one-bit entries, all clear when new."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        if size < MIN_ENTRIES or size % 8:
            raise StatusListMalformed(f"a status list has a multiple of 8 entries, at least {MIN_ENTRIES}")
        self._bits = bytearray(size // 8)

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self._bits) * 8

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise StatusIndexOutOfRange(f"status index {index} is outside 0..{self.size - 1}")

    def __getitem__(self, index: int) -> bool:
        self._check(index)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        """Set (or clear, with `value=False`) entry `index`."""
        self._check(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def count(self) -> int:
        """Number of set entries."""
        return sum(b.bit_count() for b in self._bits)

    def to_bytes(self) -> bytes:
        """The raw bitstring."""
        return bytes(self._bits)

    def encode(self) -> str:
        """`u` + base64url (no padding) of the GZIP-compressed bitstring (mtime 0, so reproducible)."""
        compressed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def from_bytes(cls, raw: bytes) -> StatusList:
        """A list over the raw bitstring `raw` (at least 16 KiB)."""
        result = cls.__new__(cls)
        if len(raw) * 8 < MIN_ENTRIES:
            raise StatusListMalformed(f"the list has {len(raw) * 8} entries, fewer than {MIN_ENTRIES}")
        result._bits = bytearray(raw)
        return result

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Inverse of `encode`; StatusListMalformed for a bad prefix, base64url, GZIP, or a short list."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListMalformed("encodedList must be multibase base64url (starting with 'u')")
        body = encoded[1:]
        if "=" in body:
            raise StatusListMalformed("encodedList must be base64url without padding")
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise StatusListMalformed("encodedList is not base64url") from None
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing
        try:
            raw = inflater.decompress(compressed, MAX_BYTES + 1)
        except zlib.error:
            raise StatusListMalformed("encodedList is not GZIP data") from None
        if len(raw) > MAX_BYTES:
            raise StatusListMalformed(f"the decoded list is larger than {MAX_BYTES} bytes")
        if not inflater.eof:
            raise StatusListMalformed("encodedList holds a truncated GZIP stream")
        return cls.from_bytes(raw)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A parsed BitstringStatusListEntry: which list, which index, which purpose."""

    list_url: str
    index: int
    purpose: str


def status_entry(list_url: str, index: int, purpose: StatusPurpose | str) -> dict[str, Any]:
    """A BitstringStatusListEntry for a credential's `credentialStatus`."""
    if index < 0:
        raise ValueError("a status index is not negative")
    return {
        "id": f"{list_url}#{index}",
        "type": STATUS_ENTRY_TYPE,
        "statusPurpose": str(StatusPurpose(purpose)),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def parse_status_entry(entry: Mapping[str, Any]) -> StatusEntry:
    """Read a BitstringStatusListEntry; StatusListMalformed when a field is missing or wrong."""
    if not isinstance(entry, Mapping) or entry.get("type") != STATUS_ENTRY_TYPE:
        raise StatusListMalformed(f"credentialStatus type must be {STATUS_ENTRY_TYPE}")
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    index = entry.get("statusListIndex")
    if not isinstance(purpose, str) or not purpose:
        raise StatusListMalformed("statusPurpose must be a string")
    if not isinstance(url, str) or not url:
        raise StatusListMalformed("statusListCredential must be a URL")
    if not isinstance(index, str) or not index.isdigit() or (len(index) > 1 and index[0] == "0"):
        raise StatusListMalformed("statusListIndex must be a base-10 integer written as a string")
    if entry.get("statusSize", 1) != 1:
        raise StatusListMalformed("only statusSize 1 is supported")
    return StatusEntry(url, int(index), purpose)


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: StatusPurpose | str,
    status_list: StatusList,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An unsecured BitstringStatusListCredential publishing `status_list` for `purpose`."""
    return build_credential(
        types=[STATUS_LIST_CREDENTIAL_TYPE],
        issuer=issuer,
        credential_id=list_url,
        valid_from=valid_from,
        valid_until=valid_until,
        subject={
            "id": f"{list_url}#list",
            "type": _LIST_TYPE,
            "statusPurpose": str(StatusPurpose(purpose)),
            "encodedList": status_list.encode(),
        },
    )


def read_status_list_credential(
    list_credential: Mapping[str, Any],
    entry: StatusEntry,
    *,
    expected_issuer: str,
    now: datetime,
) -> str:
    """Check a status list credential's shape, id, issuer, purpose and window; return its encodedList.

    The proof is not checked here (the verifier does it, with its cache). The list must come from
    the credential's own issuer: this deployment does not delegate status to third parties.
    """
    try:
        check_data_model(list_credential)
    except CredentialMalformed as exc:
        raise StatusListMalformed(f"status list credential: {exc}") from None
    if STATUS_LIST_CREDENTIAL_TYPE not in as_list(list_credential.get("type")):
        raise StatusListMalformed(f"the status list credential is not a {STATUS_LIST_CREDENTIAL_TYPE}")
    if list_credential.get("id") != entry.list_url:
        raise StatusListMismatch(f"the status list credential's id is not {entry.list_url}")
    if issuer_id(list_credential) != expected_issuer:
        raise StatusListMismatch(
            f"the status list is issued by {issuer_id(list_credential)[:60]}, not by the credential's issuer"
        )
    if "validFrom" in list_credential and parse_time(list_credential["validFrom"], "validFrom") > now:
        raise StatusListMismatch("the status list credential is not valid yet")
    if "validUntil" in list_credential and parse_time(list_credential["validUntil"], "validUntil") < now:
        raise StatusListMismatch("the status list credential has expired: fetch a fresh one")
    subjects = as_list(list_credential.get("credentialSubject"))
    subject = subjects[0]
    if len(subjects) != 1 or subject.get("type") != _LIST_TYPE:
        raise StatusListMalformed(f"the status list credential's subject must be one {_LIST_TYPE}")
    if entry.purpose not in as_list(subject.get("statusPurpose")):
        raise StatusListMismatch(f"the list's statusPurpose is not {entry.purpose!r}")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise StatusListMalformed("encodedList must be a string")
    return encoded
