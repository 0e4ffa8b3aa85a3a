"""Helpers shared by the `credentials` tests: a fixed clock, an issuing department, in-memory anchors.

Test modules import from here, never from `conftest` (every test folder has a `conftest` module and
only one of them can be `import conftest` at a time).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from credentials import (
    CertificateIssuer,
    CreditBook,
    CreditCategory,
    InMemoryAnchors,
    IssuedCertificate,
    StatusChange,
    Verifier,
    chain_account,
    issue_business_licence,
)
from keys import SigningKey, Suite

NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
SECRET = b"deployment-secret-for-tests-0001"
USCC = "91110000600037341L"
ISSUER_ACCOUNT = "0x" + "1d" * 20
CHAIN_ID = 1337


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Department:
    """An issuing department wired to in-memory anchors, as the application wires it to the chain."""

    issuer: CertificateIssuer
    anchors: InMemoryAnchors
    clock: Clock
    account: str

    def issue_licence(self, **overrides: Any) -> IssuedCertificate:
        fields: dict[str, Any] = {
            "uscc": USCC,
            "name": "某某物流有限公司",
            "entity_type": "有限责任公司（自然人投资或控股）",
            "legal_representative": "张三",
            "established_on": date(2019, 5, 20),
            "domicile": "某市某区物流园路1号",
            "business_scope": "道路普通货物运输；仓储服务（不含危险化学品）",
            "registration_authority": "某市市场监督管理局",
            "registered_capital": "1000万元人民币",
        }
        fields.update(overrides)
        issued = issue_business_licence(self.issuer, **fields)
        a = issued.anchor
        self.anchors.anchor(
            self.account, a.anchor_id, a.subject_ref, a.document_hash, a.valid_from, a.valid_until
        )
        return issued

    def apply(self, change: StatusChange) -> None:
        for anchor_id, status, why in change.changes:
            self.anchors.set_status(self.account, anchor_id, status, why)
        for update in change.list_updates:
            self.anchors.anchor_status_list(self.account, update.list_id, update.version, update.list_hash)

    def verifier(self, **kwargs: Any) -> Verifier:
        kwargs.setdefault("status_lists", lambda url: self.issuer.status_list_credentials().get(url))
        kwargs.setdefault("anchors", self.anchors)
        kwargs.setdefault("clock", self.clock)
        return Verifier(**kwargs)


def make_department(suite: Suite = Suite.INTL, *, account: str = ISSUER_ACCOUNT) -> Department:
    """A department with a fresh key of `suite`, its lists published and anchored."""
    clock = Clock()
    anchors = InMemoryAnchors(CHAIN_ID)
    issuer = CertificateIssuer(
        SigningKey.generate(suite),
        name="某市市场监督管理局",
        status_base_url="https://certs.tdex.example/status/market",
        subject_secret=SECRET,
        chain_account=chain_account(CHAIN_ID, account),
        clock=clock,
        rng=random.Random(7),
    )
    for update in issuer.publish_all():
        anchors.anchor_status_list(account, update.list_id, update.version, update.list_hash)
    return Department(issuer, anchors, clock, account)


# Credit: a small ledger of events, times in Unix seconds.
DAY = 86_400
T0 = 1_700_000_000
REF = b"\x01" * 32
OTHER = b"\x02" * 32
EVIDENCE = b"\xee" * 32
RECORDER = "0x" + "aa" * 20


def credit_book() -> CreditBook:
    """Two events of REF (a penalty, a commendation) and a serious-dishonesty listing of OTHER."""
    book = CreditBook()
    book.record(RECORDER, REF, CreditCategory.ADMINISTRATIVE_PENALTY, -100, EVIDENCE, T0, now=T0)
    book.record(RECORDER, REF, CreditCategory.COMMENDATION, 37, EVIDENCE, T0 - 200 * DAY, now=T0)
    book.record(RECORDER, OTHER, CreditCategory.SERIOUS_DISHONESTY, -300, EVIDENCE, T0, now=T0)
    return book
