"""Organisations and their request-signing keys."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from exchange_api.schemas.common import AnchorPublic, Strict


class Role(StrEnum):
    """Consortium roles (the chain's `Role` enum names)."""

    ADMIN = "ADMIN"
    DEPARTMENT = "DEPARTMENT"
    ENTERPRISE = "ENTERPRISE"
    AUDITOR = "AUDITOR"


class Capability(StrEnum):
    """Consortium capabilities (the chain's `Capability` flag names); they live on chain only."""

    CREDIT_RECORDER = "CREDIT_RECORDER"
    CERT_ISSUER = "CERT_ISSUER"
    LOG_OPERATOR = "LOG_OPERATOR"
    WITNESS = "WITNESS"


class OrgCreate(Strict):
    """What the bureau gives to admit an organisation."""

    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(min_length=18, max_length=18, description="统一社会信用代码 (GB 32100-2015).")
    role: Role
    chain_account: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    capabilities: list[Capability] = Field(
        default_factory=list,
        max_length=4,
        description="Consortium capabilities granted with the admission (recorded on chain).",
    )
    public_keys: list[str] = Field(
        min_length=1,
        max_length=8,
        description="Request-signing public keys as did:key (Ed25519 or SM2); the key id is `did#fragment`.",
    )
    uscc_override_reason: str | None = Field(
        default=None,
        min_length=10,
        max_length=1000,
        description="Admits a legal early pilot code that fails the check digit; recorded and audited.",
    )


class KeyPublic(BaseModel):
    """A public key as listed: `key_id` is what request signatures name as `keyid`."""

    key_id: str
    public_key: str
    status: str
    created_at: dt.datetime


class OrgPublic(BaseModel):
    """An organisation as any member sees it."""

    id: str
    name: str
    uscc: str
    role: Role
    status: str
    chain_account: str | None
    created_at: dt.datetime
    keys: list[KeyPublic]
    anchor: AnchorPublic
