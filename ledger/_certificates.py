"""Typed facade of the CertificateRegistry contract: certificate anchors, status, status-list versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address

from ledger._chain import Chain
from ledger._facade import Facade, contract_abi, record
from ledger._signing import Signer
from ledger._types import Receipt, TxRequest
from ledger.errors import DeploymentError, revert_class

__all__ = ["Certificate", "CertificateRegistry", "CertificateStatus", "StatusListVersion", "deploy_contract"]


class CertificateStatus(IntEnum):
    """A certificate's status in the registry (NONE: not anchored)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3


@dataclass(frozen=True, slots=True)
class Certificate:
    """An anchored certificate (times in Unix seconds; ``valid_until`` 0 means open-ended)."""

    anchor_id: bytes
    issuer_org_id: bytes
    anchored_by: str
    status: CertificateStatus
    valid_from: int
    valid_until: int
    anchored_at: int
    updated_at: int
    subject_ref: bytes
    document_hash: bytes
    reason_hash: bytes


@dataclass(frozen=True, slots=True)
class StatusListVersion:
    """One anchored version of a status list: the hash of its encodedList, who anchored it and when."""

    list_id: bytes
    version: int
    list_hash: bytes
    anchored_by: str
    anchored_at: int
    block_number: int


_CERTIFICATE_WORDS = 10


def _decode_certificate(anchor_id: bytes, raw: bytes) -> Certificate:
    # `certificate` returns a struct of ten static words, so it is decoded by slicing (the generic
    # ABI decoder costs about a millisecond per record, which a bulk verifier notices).
    word = [raw[32 * i : 32 * (i + 1)] for i in range(_CERTIFICATE_WORDS)]
    return Certificate(
        anchor_id=anchor_id,
        issuer_org_id=word[0],
        anchored_by=to_checksum_address(word[1][12:]),
        status=CertificateStatus(int.from_bytes(word[2], "big")),
        valid_from=int.from_bytes(word[3], "big"),
        valid_until=int.from_bytes(word[4], "big"),
        anchored_at=int.from_bytes(word[5], "big"),
        updated_at=int.from_bytes(word[6], "big"),
        subject_ref=word[7],
        document_hash=word[8],
        reason_hash=word[9],
    )


def deploy_contract(chain: Chain, deployer: Signer, name: str, *args: Any) -> str:
    """Deploy the committed artifact ``name`` with constructor ``args``; return its address."""
    import contracts

    try:
        artifact = contracts.load_artifact(name)
    except contracts.ContractsError as exc:
        raise DeploymentError(str(exc)) from exc
    code = bytes.fromhex(str(artifact["bytecode"]).removeprefix("0x"))
    data = code + contract_abi(name).encode_constructor(args)
    receipt = chain.send(deployer, TxRequest(to=None, data=data, label=f"deploy {name}"))
    if receipt.contract_address is None:  # pragma: no cover - a node bug
        raise DeploymentError(f"{name} deployment {receipt.tx_hash} reports no contract address")
    return receipt.contract_address


class CertificateRegistry(Facade):
    """Certificates anchored by CERT_ISSUER members, their status, and their status lists' versions."""

    CONTRACT = "CertificateRegistry"

    @classmethod
    def deploy(cls, chain: Chain, deployer: Signer, consortium: str) -> CertificateRegistry:
        """Deploy a registry bound to the Consortium at ``consortium``."""
        return cls(chain, deploy_contract(chain, deployer, cls.CONTRACT, consortium))

    # -------------------------------------------------------------------------- mutations

    def anchor(
        self,
        signer: Signer,
        anchor_id: bytes,
        subject_ref: bytes,
        document_hash: bytes,
        valid_from: int,
        valid_until: int,
    ) -> Receipt:
        """Anchor a certificate issued by the signer's organisation (ACTIVE from now)."""
        return self.transact(signer, "anchor", anchor_id, subject_ref, document_hash, valid_from, valid_until)

    def prepare_anchor(
        self, anchor_id: bytes, subject_ref: bytes, document_hash: bytes, valid_from: int, valid_until: int
    ) -> TxRequest:
        """An ``anchor`` transaction for ``Chain.send_many`` (pipelined issuance)."""
        return self.prepare("anchor", anchor_id, subject_ref, document_hash, valid_from, valid_until)

    def set_status(
        self, signer: Signer, anchor_id: bytes, status: CertificateStatus, reason_hash: bytes
    ) -> Receipt:
        """Suspend, reinstate (ACTIVE) or revoke a certificate of the signer's organisation."""
        return self.transact(signer, "setStatus", anchor_id, int(status), reason_hash)

    def set_status_batch(
        self, signer: Signer, anchor_ids: Sequence[bytes], status: CertificateStatus, reason_hash: bytes
    ) -> Receipt:
        """``set_status`` for up to 1,000 certificates in one transaction (all or nothing)."""
        return self.transact(signer, "setStatusBatch", list(anchor_ids), int(status), reason_hash)

    def anchor_status_list(self, signer: Signer, list_id: bytes, version: int, list_hash: bytes) -> Receipt:
        """Anchor version ``version`` (latest + 1) of status list ``list_id``."""
        return self.transact(signer, "anchorStatusList", list_id, version, list_hash)

    # ------------------------------------------------------------------------------ views

    def exists(self, anchor_id: bytes) -> bool:
        """Whether anything is anchored under ``anchor_id``."""
        return bool(self.call("exists", anchor_id))

    def certificate(self, anchor_id: bytes) -> Certificate:
        """The anchored certificate; CertificateRegistryUnknownCertificate when there is none."""
        data = self.abi.function("certificate").encode([anchor_id])
        return _decode_certificate(anchor_id, self.chain.call(self.address, data))

    def find_many(self, anchor_ids: Sequence[bytes], *, batch_size: int = 200) -> list[Certificate | None]:
        """``find`` for many ids in JSON-RPC batches (one round trip per ``batch_size`` ids).

        For verifiers checking many credentials: a node answers a batch of calls far faster than
        the same calls one by one.
        """
        fn = self.abi.function("certificate")
        out: list[Certificate | None] = []
        for start in range(0, len(anchor_ids), batch_size):
            chunk = anchor_ids[start : start + batch_size]
            calls = [
                ("eth_call", [{"to": self.address, "data": "0x" + fn.encode([a]).hex()}, "latest"])
                for a in chunk
            ]
            for anchor_id, answer in zip(chunk, self.chain._batch(calls), strict=True):
                if isinstance(answer, str) and len(answer) >= 2 + 2 * _CERTIFICATE_WORDS * 32:
                    out.append(_decode_certificate(anchor_id, bytes.fromhex(answer[2:])))
                else:
                    out.append(None)  # a revert (unknown id) or an error in this slot
        return out

    def find(self, anchor_id: bytes) -> Certificate | None:
        """The anchored certificate, or None (one call either way)."""
        try:
            return self.certificate(anchor_id)
        except revert_class("CertificateRegistryUnknownCertificate"):
            return None

    def certificates_of(self, subject_ref: bytes) -> list[bytes]:
        """The anchor ids of every certificate anchored for ``subject_ref``, oldest first."""
        count = int(self.call("certificateCount", subject_ref))
        return [bytes(self.call("certificateOf", subject_ref, i)) for i in range(count)]

    def status_list_publisher(self, list_id: bytes) -> bytes:
        """The organisation publishing ``list_id`` (zero bytes when it has no version)."""
        return bytes(self.call("statusListPublisher", list_id))

    def status_list_version_count(self, list_id: bytes) -> int:
        """The latest version number of ``list_id`` (0 when none is anchored)."""
        return int(self.call("statusListVersionCount", list_id))

    def status_list_at(self, list_id: bytes, version: int) -> StatusListVersion:
        """Version ``version`` of ``list_id``; CertificateRegistryUnknownListVersion if there is none."""
        values = self.call("statusListAt", list_id, version)
        return record(StatusListVersion, values, list_id=list_id, version=version)

    def latest_status_list(self, list_id: bytes) -> StatusListVersion | None:
        """The latest anchored version of ``list_id``, or None."""
        count = self.status_list_version_count(list_id)
        return self.status_list_at(list_id, count) if count else None

    def status_list_at_time(self, list_id: bytes, timestamp: int) -> StatusListVersion | None:
        """The version of ``list_id`` current at Unix time ``timestamp`` (None before the first one).

        Binary search over the anchored versions: proves which list was in force at a given time.
        """
        low, high, found = 1, self.status_list_version_count(list_id), None
        while low <= high:
            middle = (low + high) // 2
            version = self.status_list_at(list_id, middle)
            if version.anchored_at <= timestamp:
                found, low = version, middle + 1
            else:
                high = middle - 1
        return found
