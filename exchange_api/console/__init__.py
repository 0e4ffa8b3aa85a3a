"""The web console: server-rendered pages for departments, enterprises and auditors at ``/console``.

Pages call the same service functions as the signed API, as the organisation signed in to the
browser (see `_auth` for how signing in works without a password or a pasted key). Page modules
are listed in `PAGES`; shared machinery is in `_pages` (rendering, errors, CSRF), `_i18n`
(zh-CN by default, English) and `_charts` (inline SVG).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from exchange_api.console._auth import sign_challenge

__all__ = ["PAGES", "install", "sign_challenge"]

# Page modules, each with a `router` of ConsoleRoute routes, mounted under /console.
PAGES: tuple[str, ...] = ("home", "workspace", "catalog", "inbox", "audit")


def install(app: FastAPI) -> None:
    """Mount the console's pages and static files on `app` (kept out of the OpenAPI document)."""
    for name in PAGES:
        module = importlib.import_module(f"exchange_api.console.{name}")
        app.include_router(module.router, prefix="/console", include_in_schema=False)
    static = Path(__file__).resolve().parent / "static"
    app.mount("/console/static", StaticFiles(directory=static), name="console-static")
