"""The console's languages: zh-CN by default, English on request.

Messages live in ``messages/<area>.<language>.json``, one file per page area and language, so
that each area's wording is edited in one place and a missing translation is caught by a test
(every key exists in every language). ``Translator`` formats a message with named arguments.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from starlette.requests import Request

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Translator", "catalogue", "language_of"]

log = logging.getLogger(__name__)

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "tdex_lang"
_MESSAGES = Path(__file__).resolve().parent / "messages"


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """Every message of `language`, merged from the area files; a key defined twice is an error."""
    merged: dict[str, str] = {}
    for path in sorted(_MESSAGES.glob(f"*.{language}.json")):
        messages = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & messages.keys()
        if clash:
            raise ValueError(f"{path.name} redefines console messages {sorted(clash)}")
        merged.update(messages)
    return merged


def language_of(request: Request) -> str:
    """The page's language: `?lang=`, else the language cookie, else zh-CN."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


class Translator:
    """``t("key", name=value)``: the message in the page's language, formatted."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._messages = catalogue(language)

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._messages.get(key)
        if text is None:
            # Shown as the key rather than failing the page; the message-coverage test catches it.
            log.warning("console message %r missing in %s", key, self.language)
            return key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether `key` is a known message (for keys that arrive in a query string)."""
        return key in self._messages
