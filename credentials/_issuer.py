"""An issuing department: signs certificates, keeps its status lists, says what to anchor and audit.

The issuer never talks to the chain. Each operation returns the values to anchor (for the
CertificateRegistry) and an audit event (for the audit log); the application sends both, through
its outbox, after it has stored the credential.

Every certificate gets one index, the same in the issuer's revocation and suspension lists; indices
are drawn at random (the Bitstring Status List spec's advice: an index says nothing about when or
in which order a credential was issued).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from credentials._anchor import (
    CertificateStatus,
    certificate_anchor_id,
    document_hash,
    encoded_list_hash,
    parse_chain_account,
    reason_hash,
    status_list_id,
)
from credentials._model import as_list, build_credential, issuer_id
from credentials._proof import add_proof, cryptosuite_for
from credentials._schemas import CertificateType, SchemaRegistry, certificate_type, default_registry
from credentials._status import (
    MIN_ENTRIES,
    StatusList,
    StatusPurpose,
    build_status_list_credential,
    parse_status_entry,
    status_entry,
)
from credentials._time import Clock, format_time, parse_time, system_clock
from credentials.errors import CredentialsError, IssuanceError
from keys import KeysError, SigningKey, subject_ref, validate_uscc

__all__ = [
    "ISSUER_STATE_KIND",
    "CertificateAnchorRequest",
    "CertificateIssuer",
    "IssuedCertificate",
    "StatusChange",
    "StatusListUpdate",
]

ISSUER_STATE_KIND = "tdex.cert-issuer-state"


def _add_years(moment: datetime, years: int) -> datetime:
    # Same day and time `years` later; 29 February becomes 28 February in a common year.
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@dataclass(frozen=True, slots=True)
class CertificateAnchorRequest:
    """The arguments of CertificateRegistry.anchor for one certificate (times in Unix seconds, 0 = none)."""

    anchor_id: bytes
    subject_ref: bytes
    document_hash: bytes
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A signed certificate, what to anchor for it, its status index and its audit event."""

    credential: dict[str, Any]
    anchor: CertificateAnchorRequest
    status_index: int
    audit_event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusListUpdate:
    """A new version of one status list: the signed list credential and what to anchor for it."""

    list_url: str
    list_id: bytes
    version: int
    list_hash: bytes
    credential: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """Status changes of one or more certificates and the list versions that publish them."""

    changes: tuple[tuple[bytes, CertificateStatus, bytes], ...]
    list_updates: tuple[StatusListUpdate, ...]
    audit_events: tuple[dict[str, Any], ...]


@dataclass
class _List:
    purpose: StatusPurpose
    url: str
    bits: StatusList
    version: int = 0
    signed: dict[str, Any] = field(default_factory=dict)


class CertificateIssuer:
    """Issues certificates as VC 2.0 credentials signed by `key` (the department's e-seal key).

    Parameters
    ----------
    key:
        Ed25519 (eddsa-jcs-2022) or SM2 (sm2-jcs-tdex-2026) signing key; its did:key is the issuer id.
    name:
        The department's name, written as `issuer.name`.
    status_base_url:
        Base URL of the published status lists (`<base>/revocation`, `<base>/suspension`).
    subject_secret:
        The deployment secret of `keys.subject_ref`, for the keyed subject reference on chain.
    chain_account:
        The department's CAIP-10 chain account (`eip155:<chain>:<address>`); when given, credentials
        claim an anchor there and verifiers require it.
    """

    def __init__(
        self,
        key: SigningKey,
        *,
        name: str,
        status_base_url: str,
        subject_secret: bytes,
        chain_account: str | None = None,
        schemas: SchemaRegistry | None = None,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        list_size: int = MIN_ENTRIES,
        state: Mapping[str, Any] | None = None,
    ) -> None:
        if chain_account is not None:
            parse_chain_account(chain_account)
        self._key = key
        self._suite = cryptosuite_for(key).suite
        self._name = name
        self._secret = subject_secret
        self._account = chain_account
        self._schemas = schemas if schemas is not None else default_registry()
        self._clock = clock
        self._rng = rng or random.SystemRandom()
        base = status_base_url.rstrip("/")
        self._lists = {p: _List(p, f"{base}/{p}", StatusList(list_size)) for p in StatusPurpose}
        self._allocated = StatusList(list_size)
        if state is not None:
            self._load(state)

    # -------------------------------------------------------------------------- identity

    @property
    def did(self) -> str:
        """The issuer's DID (the did:key of its signing key)."""
        return self._key.verify_key.did

    @property
    def issuer(self) -> dict[str, Any]:
        """The `issuer` object written into credentials."""
        out: dict[str, Any] = {"id": self.did, "name": self._name}
        if self._account is not None:
            out["chainAccount"] = self._account
        return out

    @property
    def account(self) -> str | None:
        """The issuer's chain address (lower case), when it has a chain account."""
        return parse_chain_account(self._account)[1] if self._account else None

    # ---------------------------------------------------------------------------- issuing

    def _allocate(self) -> int:
        free = self._allocated.size - self._allocated.count()
        if free == 0:
            raise IssuanceError("every index of the status lists is in use: start a new list")
        while True:
            index = self._rng.randrange(self._allocated.size)
            if not self._allocated[index]:
                self._allocated.set(index)
                return index

    def issue(
        self,
        kind: CertificateType | str,
        subject: Mapping[str, Any],
        *,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        credential_id: str | None = None,
    ) -> IssuedCertificate:
        """Sign a certificate of `kind` for `subject` (its claims, including `uscc`).

        The subject's USCC is checked (GB 32100 check characters), the credential is checked against
        its schema before it is signed, and a status index is allocated. Raises IssuanceError,
        SchemaViolation or UnknownSchema.
        """
        ctype = kind if isinstance(kind, CertificateType) else certificate_type(kind)
        uscc = subject.get("uscc")
        if not isinstance(uscc, str):
            raise IssuanceError("the subject needs a uscc (统一社会信用代码)")
        try:
            validate_uscc(uscc)
        except KeysError as exc:
            raise IssuanceError(f"subject uscc: {exc}") from None
        now = self._clock()
        start = valid_from or now
        end = valid_until
        if end is None and ctype.default_validity_years is not None:
            end = _add_years(start, ctype.default_validity_years)
        index = self._allocate()
        try:
            unsigned = build_credential(
                types=[ctype.credential_type],
                issuer=self.issuer,
                subject={"type": ctype.credential_type.removesuffix("Credential"), **subject},
                valid_from=start,
                valid_until=end,
                credential_id=credential_id,
                schemas=[ctype.schema_id],
                status=[status_entry(self._lists[p].url, index, p) for p in StatusPurpose],
                extra={"name": ctype.title},
            )
            self._schemas.validate(unsigned)
        except CredentialsError:
            self._allocated.set(index, False)
            raise
        credential = add_proof(unsigned, self._key, created=now)
        anchor = CertificateAnchorRequest(
            anchor_id=certificate_anchor_id(credential["id"], self._suite),
            subject_ref=subject_ref(uscc, self._secret, suite=self._suite),
            document_hash=document_hash(credential, self._suite),
            valid_from=int(parse_time(credential["validFrom"], "validFrom").timestamp()),
            valid_until=int(end.timestamp()) if end is not None else 0,
        )
        event = {
            "kind": "tdex.cert.issued",
            "version": 1,
            "at": format_time(now),
            "issuer": self.did,
            "certificateType": ctype.key,
            "credentialId": credential["id"],
            "anchorId": anchor.anchor_id.hex(),
            "subjectRef": anchor.subject_ref.hex(),
            "documentHash": anchor.document_hash.hex(),
        }
        return IssuedCertificate(credential, anchor, index, event)

    # ----------------------------------------------------------------------- status lists

    def _index_of(self, credential: Mapping[str, Any]) -> int:
        if issuer_id(credential) != self.did:
            raise IssuanceError("this credential was issued by another issuer")
        indices = set()
        for raw in as_list(credential.get("credentialStatus")):
            entry = parse_status_entry(raw)
            if entry.list_url in (lst.url for lst in self._lists.values()):
                indices.add(entry.index)
        if len(indices) != 1:
            raise IssuanceError("the credential has no (or inconsistent) entries in this issuer's lists")
        return indices.pop()

    def _publish(self, purpose: StatusPurpose) -> StatusListUpdate:
        lst = self._lists[purpose]
        lst.version += 1
        unsigned = build_status_list_credential(
            list_url=lst.url,
            issuer=self.issuer,
            purpose=purpose,
            status_list=lst.bits,
            valid_from=self._clock(),
        )
        lst.signed = add_proof(unsigned, self._key, created=self._clock())
        encoded = lst.signed["credentialSubject"]["encodedList"]
        return StatusListUpdate(
            lst.url,
            status_list_id(lst.url, self._suite),
            lst.version,
            encoded_list_hash(encoded, self._suite),
            lst.signed,
        )

    def publish_all(self) -> tuple[StatusListUpdate, ...]:
        """Sign (and version) both lists as they are: call once after creating the issuer."""
        return tuple(self._publish(p) for p in StatusPurpose)

    def status_list_credential(self, purpose: StatusPurpose | str) -> dict[str, Any]:
        """The latest signed status list credential for `purpose` (signing version 1 if none yet)."""
        lst = self._lists[StatusPurpose(purpose)]
        if not lst.signed:
            self._publish(lst.purpose)
        return lst.signed

    def status_list_credentials(self) -> dict[str, dict[str, Any]]:
        """URL → latest signed status list credential, for both lists (a verifier's `status_lists`)."""
        return {self._lists[p].url: self.status_list_credential(p) for p in StatusPurpose}

    def change_status(
        self, items: Iterable[tuple[Mapping[str, Any], CertificateStatus, str]]
    ) -> StatusChange:
        """Apply status changes (credential, new status, reason) and publish each changed list once.

        ACTIVE clears a suspension (a revoked certificate cannot come back); SUSPENDED sets the
        suspension bit; REVOKED sets the revocation bit. Raises IssuanceError for a credential of
        another issuer or an attempt to reinstate a revoked one.
        """
        now = format_time(self._clock())
        changes = []
        events = []
        touched: set[StatusPurpose] = set()
        revocation = self._lists[StatusPurpose.REVOCATION].bits
        suspension = self._lists[StatusPurpose.SUSPENSION].bits
        for credential, status, reason in items:
            index = self._index_of(credential)
            if revocation[index]:
                raise IssuanceError(f"{credential.get('id')} is revoked; revocation is final")
            if status is CertificateStatus.REVOKED:
                revocation.set(index)
                touched.add(StatusPurpose.REVOCATION)
            else:
                suspension.set(index, status is CertificateStatus.SUSPENDED)
                touched.add(StatusPurpose.SUSPENSION)
            anchor_id = certificate_anchor_id(str(credential["id"]), self._suite)
            why = reason_hash(reason, self._suite)
            changes.append((anchor_id, status, why))
            events.append(
                {
                    "kind": "tdex.cert.status-changed",
                    "version": 1,
                    "at": now,
                    "issuer": self.did,
                    "credentialId": credential["id"],
                    "anchorId": anchor_id.hex(),
                    "status": str(status),
                    "reasonHash": why.hex(),
                }
            )
        updates = tuple(self._publish(p) for p in StatusPurpose if p in touched)
        return StatusChange(tuple(changes), updates, tuple(events))

    def suspend(self, credential: Mapping[str, Any], reason: str) -> StatusChange:
        """Suspend one certificate (暂停); `reinstate` undoes it."""
        return self.change_status([(credential, CertificateStatus.SUSPENDED, reason)])

    def reinstate(self, credential: Mapping[str, Any], reason: str) -> StatusChange:
        """Lift a suspension."""
        return self.change_status([(credential, CertificateStatus.ACTIVE, reason)])

    def revoke(self, credential: Mapping[str, Any], reason: str) -> StatusChange:
        """Revoke one certificate (吊销/撤销); final."""
        return self.change_status([(credential, CertificateStatus.REVOKED, reason)])

    # ------------------------------------------------------------------------------ state

    def to_state(self) -> dict[str, Any]:
        """The issuer's public state as JSON (lists, versions, allocated indices); no key material."""
        return {
            "kind": ISSUER_STATE_KIND,
            "version": 1,
            "lists": {
                str(p): {"url": lst.url, "version": lst.version, "signed": lst.signed}
                for p, lst in self._lists.items()
            },
            "allocated": self._allocated.encode(),
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        if state.get("kind") != ISSUER_STATE_KIND or state.get("version") != 1:
            raise IssuanceError(f"not a {ISSUER_STATE_KIND} v1 document")
        try:
            self._allocated = StatusList.decode(state["allocated"])
            for purpose, lst in self._lists.items():
                saved = state["lists"][str(purpose)]
                if saved["url"] != lst.url:
                    raise IssuanceError(f"the saved {purpose} list lives at {saved['url']}, not {lst.url}")
                lst.version = int(saved["version"])
                lst.signed = dict(saved["signed"])
                if lst.signed:
                    lst.bits = StatusList.decode(lst.signed["credentialSubject"]["encodedList"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IssuanceError(f"malformed issuer state: {exc}") from None
