"""The chain's certificate and credit records as `credentials` reads them (read only).

`ChainAnchors` is `credentials.CertificateAnchors` over `ledger.CertificateRegistry`; the exchange
(`create_app_from_env`), the CLI (`tdex cert`) and the demo use it. It imports only `credentials`
and `ledger` (no FastAPI, no SQLAlchemy), so the CLI can load it cheaply.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from credentials import AnchoredCertificate, AnchoredStatusList, CertificateStatus

if TYPE_CHECKING:
    import ledger

__all__ = ["ChainAnchors"]


class ChainAnchors:
    """`credentials.CertificateAnchors` over the ledger's CertificateRegistry facade (read only).

    `list_cache_s` lets a verifier that checks many credentials reuse a status list's latest
    anchored version for that many seconds (three calls saved per credential); 0, the default,
    reads the chain every time. A cached answer can be up to that old.
    """

    def __init__(self, registry: ledger.CertificateRegistry, *, list_cache_s: float = 0.0) -> None:
        self.registry = registry
        self._cache_s = list_cache_s
        self._lists: dict[bytes, tuple[float, AnchoredStatusList | None]] = {}
        self._prefetched: dict[bytes, Any] = {}

    @property
    def chain_id(self) -> int:
        return self.registry.chain.chain_id

    def prefetch(self, anchor_ids: list[bytes]) -> None:
        """Read these certificates in JSON-RPC batches; the next `certificate` call for each uses it."""
        self._prefetched.update(zip(anchor_ids, self.registry.find_many(anchor_ids), strict=True))

    def certificate(self, anchor_id: bytes) -> AnchoredCertificate | None:
        if anchor_id in self._prefetched:
            found = self._prefetched.pop(anchor_id)
        else:
            found = self.registry.find(anchor_id)
        if found is None:
            return None
        return AnchoredCertificate(
            anchor_id=anchor_id,
            issuer_org=found.issuer_org_id,
            anchored_by=found.anchored_by.lower(),
            subject_ref=found.subject_ref,
            document_hash=found.document_hash,
            valid_from=found.valid_from,
            valid_until=found.valid_until,
            status=CertificateStatus[found.status.name],
            reason_hash=found.reason_hash,
            anchored_at=found.anchored_at,
            updated_at=found.updated_at,
        )

    def status_list(self, list_id: bytes) -> AnchoredStatusList | None:
        now = time.monotonic()
        cached = self._lists.get(list_id)
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        found = self._read_list(list_id)
        if self._cache_s > 0:
            self._lists[list_id] = (now, found)
        return found

    def _read_list(self, list_id: bytes) -> AnchoredStatusList | None:
        latest = self.registry.latest_status_list(list_id)
        if latest is None:
            return None
        return AnchoredStatusList(
            list_id=list_id,
            publisher_org=self.registry.status_list_publisher(list_id),
            version=latest.version,
            list_hash=latest.list_hash,
            anchored_by=latest.anchored_by.lower(),
            anchored_at=latest.anchored_at,
        )
