"""How off-chain names become on-chain ids: one rule, used by every writer and reader of the chain.

Catalogue codes (e.g. ``330100-10001/00001``) and organisation USCCs are longer than 32 bytes or
not fixed-size, so the chain keys records by a domain-separated Keccak-256 of the text. A USCC
identifies an organisation, not a person, so hashing it is for size and separation, not secrecy;
personal identifiers never come here (they go on chain only as keyed subject references).
"""

from __future__ import annotations

from eth_utils import keccak

__all__ = ["org_id", "resource_id", "text_hash"]


def text_hash(domain: str, text: str) -> bytes:
    """Keccak-256 of ``domain``, a NUL byte and ``text`` in UTF-8: 32 bytes."""
    return keccak(domain.encode() + b"\x00" + text.encode())


def org_id(uscc: str) -> bytes:
    """The Consortium's org id for the organisation with unified social credit code ``uscc``."""
    return text_hash("tdex.org", uscc)


def resource_id(code: str) -> bytes:
    """The DataCatalog / AccessGrants key of the catalogue resource with code ``code``."""
    return text_hash("tdex.resource", code)
