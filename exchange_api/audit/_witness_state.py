"""A witness's memory: the last checkpoint it cosigned per log, in a JSON file written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from tlog import Checkpoint

__all__ = ["load_witness_state", "save_witness_state"]


def load_witness_state(path: Path) -> dict[str, Checkpoint]:
    """The last cosigned checkpoint per origin from a state file (empty when there is none yet)."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    return {origin: Checkpoint.from_text(text) for origin, text in saved.items()}


def save_witness_state(path: Path, state: Mapping[str, Checkpoint]) -> None:
    """Write the state so that a crash leaves the old file or the new one, synced before returning."""
    # A temporary file, synced, then renamed over the old one: never half a state on disk, and the
    # new one is there before the caller hands out a cosignature that depends on it.
    data = json.dumps({o: cp.to_text() for o, cp in state.items()}, indent=2, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
