"""The exchange service: catalogue, applications and grants over HTTP, anchored through an outbox.

The public surface is small: `create_app` (the FastAPI app), `Settings` (read from the
environment), `ExchangeClient` (a client that signs its requests) and the error root
`ExchangeError`. Everything else is reached through its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exchange_api.app import create_app
    from exchange_api.client import ExchangeClient
    from exchange_api.core.config import Settings
    from exchange_api.errors import ExchangeError

__all__ = ["ExchangeClient", "ExchangeError", "Settings", "create_app"]

# Imported on first use, so `import exchange_api.audit` (or the CLI) does not load FastAPI and
# SQLAlchemy until something asks for them.
_LAZY = {
    "create_app": "exchange_api.app",
    "ExchangeClient": "exchange_api.client",
    "Settings": "exchange_api.core.config",
    "ExchangeError": "exchange_api.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exchange_api' has no attribute {name!r}")
