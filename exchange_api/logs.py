"""Structured JSON logs: one JSON object a line, with the request id; secrets never logged.

`JsonFormatter` renders a `logging.LogRecord` with the fields passed in `extra=`; fields whose
name looks like a secret or a signature are dropped. `configure_json_logging()` installs it on
the root logger (production); `access_log()` writes the one line per request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

__all__ = ["ACCESS_LOGGER", "JsonFormatter", "configure_json_logging", "is_secret_field", "safe_request_id"]

ACCESS_LOGGER = "tdex.access"
_SECRET = re.compile(r"secret|password|passphrase|signature|private|authorization|token|cookie|key$", re.I)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("x", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def is_secret_field(name: str) -> bool:
    """Whether a log field's name suggests a secret, key or signature (never logged)."""
    return bool(_SECRET.search(name))


def safe_request_id(value: str | None) -> str | None:
    """A caller's `X-Request-Id` when it is short and plain, else None (a new one is made)."""
    return value if value is not None and _REQUEST_ID.match(value) else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, secret-looking fields removed."""
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name in _STANDARD or name.startswith("_") or is_secret_field(name):
                continue
            out[name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send the root logger (and uvicorn's) to stderr as JSON lines; idempotent."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
