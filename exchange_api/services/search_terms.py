"""Search terms of a text: CJK bigrams and lower-cased words (a portable inverted index).

Chinese has no spaces, so neither SQLite's default FTS5 tokenizer nor PostgreSQL's `simple`
configuration finds "人口" inside "人口基础信息". Overlapping bigrams (the CJK analyser's classic
approach) do, behave the same on both databases, and keep lookups on a B-tree index. Single
characters are indexed for names only (a one-character query looks for it in names), which keeps
the index near one row per distinct bigram.
"""

from __future__ import annotations

import re

__all__ = ["query_terms", "text_terms"]

_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[0-9A-Za-z_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_TERM = 64


def _terms(text: str, *, unigrams: bool) -> list[str]:
    out: list[str] = []
    for run in _RUN.findall(text):
        if _CJK.match(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            if unigrams or len(run) == 1:
                out.extend(run)
        else:
            out.append(run.lower()[:MAX_TERM])
    return out


def text_terms(name: str, *texts: str) -> set[str]:
    """The distinct terms under which a document named `name` containing `texts` is found."""
    found = set(_terms(name, unigrams=True))
    for text in texts:
        found.update(_terms(text, unigrams=False))
    return found


def query_terms(query: str) -> list[str]:
    """The distinct terms a document must all contain to match `query` (order kept)."""
    seen: dict[str, None] = {}
    for term in _terms(query, unigrams=False):
        seen.setdefault(term, None)
    return list(seen)
