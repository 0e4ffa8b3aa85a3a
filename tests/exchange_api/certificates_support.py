"""Helpers for the tests of certificates and attestations: an issuing department and a credit centre."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from api_support import World, make_uscc
from sqlalchemy import select

from credentials import (
    CertificateIssuer,
    IssuedCertificate,
    attest_threshold,
    compute_score,
    issue_business_licence,
)
from exchange_api.client import ExchangeClient
from exchange_api.models import Event
from keys import SigningKey

STATUS_BASE = "https://exchange.example/status-lists/market"


class Market:
    """A CERT_ISSUER department with its status lists published at the exchange."""

    def __init__(self, world: World) -> None:
        self.key = SigningKey.generate()
        org = world["bureau"].client.admit(
            {
                "name": "市场监督管理局",
                "uscc": make_uscc(90),
                "role": "DEPARTMENT",
                "capabilities": ["CERT_ISSUER"],
                "public_keys": [self.key.verify_key.did],
            }
        )
        self.org_id: str = org["id"]
        self.client: ExchangeClient = world.client_for(self.key)
        self.issuer = CertificateIssuer(
            self.key,
            name="某市市场监督管理局",
            status_base_url=STATUS_BASE,
            subject_secret=b"deployment-subject-secret",
            clock=world.clock,
        )
        self.client.post(
            "/certificates/status", {"status_lists": [u.credential for u in self.issuer.publish_all()]}
        )

    def licence(self, uscc: str) -> IssuedCertificate:
        """Issue and register a business licence for `uscc`."""
        issued = issue_business_licence(
            self.issuer,
            uscc=uscc,
            name="某某物流有限公司",
            entity_type="有限责任公司",
            legal_representative="张三",
            established_on=dt.date(2020, 5, 1),
            domicile="某市某区某路1号",
            business_scope="道路普通货物运输",
            registration_authority="某市市场监督管理局",
        )
        self.client.post("/certificates", {"credential": issued.credential})
        return issued

    def suspend(self, issued: IssuedCertificate, reason: str = "责令停业整顿") -> None:
        """Suspend `issued` and publish the changed list with the exchange."""
        change = self.issuer.suspend(issued.credential, reason)
        self.client.post(
            "/certificates/status",
            {
                "status_lists": [u.credential for u in change.list_updates],
                "changes": [
                    {"credential_id": issued.credential["id"], "status": "suspended", "reason": reason}
                ],
            },
        )


class CreditCentre:
    """A CREDIT_RECORDER department that signs threshold attestations and registers them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.key = SigningKey.generate()
        org = world["bureau"].client.admit(
            {
                "name": "信用中心",
                "uscc": make_uscc(91),
                "role": "DEPARTMENT",
                "capabilities": ["CREDIT_RECORDER"],
                "public_keys": [self.key.verify_key.did],
            }
        )
        self.org_id: str = org["id"]
        self.client: ExchangeClient = world.client_for(self.key)

    def attest(self, uscc: str, threshold: int = 650, audience: str | None = None) -> dict[str, Any]:
        """Sign an attestation that `uscc`'s score (no events: 700) is at least `threshold`; register it."""
        ref = hashlib.sha256(uscc.encode()).digest()
        score = compute_score([], ref, as_of=int(self.world.clock().timestamp()))
        doc = attest_threshold(
            self.key,
            score,
            uscc=uscc,
            threshold=threshold,
            attester_name="信用中心",
            audience=audience,
            valid_for=dt.timedelta(days=30),
            now=self.world.clock(),
        )
        self.client.post("/credit/attestations", {"attestation": doc})
        return doc


def event_kinds(world: World) -> list[str]:
    """The kinds of every audit event, in order."""
    with world.app.state.sessions() as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))
