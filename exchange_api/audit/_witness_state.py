"""A witness's memory: the last checkpoint it cosigned per log, in a JSON file written atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from keys import write_file_atomic
from tlog import Checkpoint

__all__ = ["load_witness_state", "save_witness_state"]


def load_witness_state(path: Path) -> dict[str, Checkpoint]:
    """The last cosigned checkpoint per origin from a state file (empty when there is none yet)."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    return {origin: Checkpoint.from_text(text) for origin, text in saved.items()}


def save_witness_state(path: Path, state: Mapping[str, Checkpoint]) -> None:
    """Write the state so that a crash leaves the old file or the new one, synced before returning.

    Synced before returning because the caller hands out a cosignature that depends on it.
    """
    data = json.dumps({o: cp.to_text() for o, cp in state.items()}, indent=2, sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, data)
