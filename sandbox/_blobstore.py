"""Content-addressed blob storage: a blob is named by the SHA-256 of its bytes and stored once."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from sandbox.errors import BlobCorrupt, BlobMissing, InvalidParameters

__all__ = ["BlobStore", "FilesystemBlobStore", "MemoryBlobStore", "blob_digest"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def blob_digest(data: bytes) -> str:
    """``sha256:<hex>`` of `data`: the blob's name."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _check(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidParameters("digest", "must be sha256:<64 lower-case hex digits>")
    return digest


class BlobStore(Protocol):
    """Where large artifacts (HE contexts, encrypted models) live, referenced by digest."""

    def put(self, data: bytes) -> str:
        """Store `data` (idempotent); return its digest."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes named `digest`; `BlobMissing` or `BlobCorrupt` otherwise."""
        ...

    def __contains__(self, digest: object) -> bool: ...


class MemoryBlobStore:
    """A blob store in a dict, for tests and in-process demos."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        """Store `data`; return its digest."""
        digest = blob_digest(data)
        self._blobs.setdefault(digest, bytes(data))
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes named `digest`."""
        try:
            data = self._blobs[_check(digest)]
        except KeyError:
            raise BlobMissing(digest) from None
        if blob_digest(data) != digest:
            raise BlobCorrupt(digest)
        return data

    def __contains__(self, digest: object) -> bool:
        return digest in self._blobs


class FilesystemBlobStore:
    """Blobs as files ``<root>/sha256/<2 hex>/<64 hex>``, written atomically, verified on every read."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        hexdigest = _check(digest).split(":", 1)[1]
        return self.root / "sha256" / hexdigest[:2] / hexdigest

    def put(self, data: bytes) -> str:
        """Store `data` once; a second put of the same bytes writes nothing."""
        digest = blob_digest(data)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes named `digest`, checked against it."""
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        if blob_digest(data) != digest:
            raise BlobCorrupt(digest)
        return data

    def __contains__(self, digest: object) -> bool:
        try:
            return isinstance(digest, str) and self._path(digest).exists()
        except InvalidParameters:
            return False
