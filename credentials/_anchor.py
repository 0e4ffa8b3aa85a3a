"""What a credential anchors on chain, how the verifier reads anchors, and an in-memory registry.

This package never talks to a chain: it computes the values (anchor id, document hash, reason
hash, status-list hashes) and reads anchors through the `CertificateAnchors` protocol, which the
application implements over the ledger's CertificateRegistry facade (or `InMemoryAnchors` here).

All hashes use the proof's suite: SHA-256 for eddsa-jcs-2022, SM3 for sm2-jcs-tdex-2026.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from credentials.errors import CredentialMalformed
from keys import Suite, canonical_json, digest

__all__ = [
    "AnchoredCertificate",
    "AnchoredStatusList",
    "CertificateAnchors",
    "CertificateStatus",
    "InMemoryAnchors",
    "certificate_anchor_id",
    "chain_account",
    "document_hash",
    "encoded_list_hash",
    "parse_chain_account",
    "reason_hash",
    "status_list_id",
]

_CAIP10 = re.compile(r"eip155:([1-9][0-9]{0,15}):(0x[0-9a-fA-F]{40})")


class CertificateStatus(StrEnum):
    """A certificate's status in the registry (the order of the contract's enum, from 1)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


def certificate_anchor_id(credential_id: str, suite: Suite | str) -> bytes:
    """The registry key of a credential: H("tdex/cert-anchor/v1" 0x00 ‖ credential id)."""
    return digest(suite, b"tdex/cert-anchor/v1\x00" + credential_id.encode("utf-8"))


def document_hash(credential: Mapping[str, Any], suite: Suite | str) -> bytes:
    """H(hashData) of the credential's (first) proof: the document and its proof configuration.

    hashData = H(JCS(proof configuration)) ‖ H(JCS(document without proof)) is exactly what the
    issuer's signature covers, so the anchor binds the content, the signing key, the suite and the
    time; the verifier reuses the bytes it already computed to check the proof.
    """
    from credentials._proof import proof_hash_data

    return digest(suite, proof_hash_data(credential)[1])


def status_list_id(list_url: str, suite: Suite | str) -> bytes:
    """The registry key of a status list: H("tdex/status-list/v1" 0x00 ‖ list credential URL)."""
    return digest(suite, b"tdex/status-list/v1\x00" + list_url.encode("utf-8"))


def encoded_list_hash(encoded_list: str, suite: Suite | str) -> bytes:
    """H(encodedList as ASCII): what each anchored status-list version records."""
    return digest(suite, encoded_list.encode("ascii"))


def reason_hash(reason: str, suite: Suite | str) -> bytes:
    """H(JCS({kind, version, reason})) of a suspension or revocation reason (the text stays off chain)."""
    return digest(suite, canonical_json({"kind": "tdex.cert-status-reason", "version": 1, "reason": reason}))


def chain_account(chain_id: int, address: str) -> str:
    """A CAIP-10 account id, `eip155:<chain id>:<address>`, as written in a credential's issuer."""
    result = f"eip155:{chain_id}:{address}"
    parse_chain_account(result)
    return result


def parse_chain_account(value: object) -> tuple[int, str]:
    """(chain id, lower-case address) of a CAIP-10 eip155 account id; CredentialMalformed otherwise."""
    match = _CAIP10.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise CredentialMalformed("issuer.chainAccount must be a CAIP-10 id eip155:<chain id>:<0x address>")
    return int(match.group(1)), match.group(2).lower()


@dataclass(frozen=True, slots=True)
class AnchoredCertificate:
    """A certificate as the registry holds it (times are Unix seconds; `valid_until` 0 means open-ended).

    `issuer_org` is the issuing organisation (it keeps the certificate across account rotations);
    `anchored_by` is the account that anchored it, which the credential names as `chainAccount`.
    """

    anchor_id: bytes
    issuer_org: bytes
    anchored_by: str
    subject_ref: bytes
    document_hash: bytes
    valid_from: int
    valid_until: int
    status: CertificateStatus
    reason_hash: bytes
    anchored_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class AnchoredStatusList:
    """The latest anchored version of a status list: its publishing organisation, number and hash."""

    list_id: bytes
    publisher_org: bytes
    version: int
    list_hash: bytes
    anchored_by: str
    anchored_at: int


class CertificateAnchors(Protocol):
    """Read access to the certificate registry of one chain."""

    @property
    def chain_id(self) -> int:
        """The chain the registry is on (a credential's issuer.chainAccount must name it)."""
        ...

    def certificate(self, anchor_id: bytes) -> AnchoredCertificate | None:
        """The anchored certificate `anchor_id`, or None when nothing is anchored under it."""
        ...

    def status_list(self, list_id: bytes) -> AnchoredStatusList | None:
        """The latest anchored version of status list `list_id`, or None."""
        ...


def _org_of(account: str) -> bytes:
    return digest(Suite.INTL, b"in-memory-org\x00" + account.lower().encode("ascii"))


class InMemoryAnchors:
    """A registry in memory with the contract's rules, for tests, benchmarks and offline demos.

    Each account acts for its own organisation unless `org` names another (as after a rotation).
    """

    def __init__(self, chain_id: int = 1337) -> None:
        self._chain_id = chain_id
        self._certs: dict[bytes, AnchoredCertificate] = {}
        self._lists: dict[bytes, AnchoredStatusList] = {}
        self.clock = 0

    @property
    def chain_id(self) -> int:
        return self._chain_id

    def anchor(
        self,
        issuer: str,
        anchor_id: bytes,
        subject_ref: bytes,
        document_hash: bytes,
        valid_from: int,
        valid_until: int,
        *,
        org: bytes | None = None,
    ) -> None:
        """Record a new certificate; an anchor id is used once."""
        if anchor_id in self._certs:
            raise ValueError("certificate already anchored")
        self._certs[anchor_id] = AnchoredCertificate(
            anchor_id,
            org or _org_of(issuer),
            issuer.lower(),
            subject_ref,
            document_hash,
            valid_from,
            valid_until,
            CertificateStatus.ACTIVE,
            b"\x00" * 32,
            self.clock,
            self.clock,
        )

    def set_status(
        self,
        issuer: str,
        anchor_id: bytes,
        status: CertificateStatus,
        reason: bytes,
        *,
        org: bytes | None = None,
    ) -> None:
        """Change a certificate's status (its issuing organisation only; revocation is final)."""
        current = self._certs[anchor_id]
        if current.issuer_org != (org or _org_of(issuer)) or current.status is CertificateStatus.REVOKED:
            raise ValueError("only the issuer changes the status, and never after revocation")
        self._certs[anchor_id] = replace(current, status=status, reason_hash=reason, updated_at=self.clock)

    def anchor_status_list(
        self, issuer: str, list_id: bytes, version: int, list_hash: bytes, *, org: bytes | None = None
    ) -> None:
        """Record version `version` (the previous plus one, from 1) of a status list."""
        publisher = org or _org_of(issuer)
        current = self._lists.get(list_id)
        expected = 1 if current is None else current.version + 1
        if version != expected or (current is not None and current.publisher_org != publisher):
            raise ValueError("status list versions count up by one, by one organisation")
        self._lists[list_id] = AnchoredStatusList(
            list_id, publisher, version, list_hash, issuer.lower(), self.clock
        )

    def certificate(self, anchor_id: bytes) -> AnchoredCertificate | None:
        return self._certs.get(anchor_id)

    def status_list(self, list_id: bytes) -> AnchoredStatusList | None:
        return self._lists.get(list_id)
