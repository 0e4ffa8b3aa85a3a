"""The W3C Verifiable Credentials 2.0 data model: building credentials and checking their shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from credentials._time import format_time, parse_time
from credentials.errors import CredentialMalformed

__all__ = [
    "VC_V2_CONTEXT",
    "as_list",
    "build_credential",
    "check_data_model",
    "issuer_id",
    "new_credential_id",
    "unsecured",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
_BASE_TYPE = "VerifiableCredential"


def as_list(value: Any) -> list[Any]:
    """A JSON-LD "one or many" value as a list (an absent value is an empty list)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def new_credential_id() -> str:
    """A fresh `urn:uuid:` identifier (random UUID v4)."""
    return f"urn:uuid:{uuid.uuid4()}"


def unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of `document` without its `proof`."""
    return {k: v for k, v in document.items() if k != "proof"}


def issuer_id(credential: Mapping[str, Any]) -> str:
    """The issuer's identifier: `issuer` when it is a string, else `issuer.id`."""
    issuer = credential.get("issuer")
    if isinstance(issuer, str) and issuer:
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str) and issuer["id"]:
        return str(issuer["id"])
    raise CredentialMalformed("issuer must be a URL or an object with an id")


def _check_typed_objects(credential: Mapping[str, Any], name: str, required: Sequence[str]) -> None:
    for item in as_list(credential.get(name)):
        if not isinstance(item, Mapping):
            raise CredentialMalformed(f"every {name} must be an object")
        for key in required:
            if not isinstance(item.get(key), str) or not item[key]:
                raise CredentialMalformed(f"every {name} needs a string {key!r}")


def check_data_model(credential: Mapping[str, Any]) -> None:
    """Check the VC 2.0 shape a verifier relies on; raise CredentialMalformed naming the first fault.

    Checked: `@context` starts with the v2 context; `type` includes VerifiableCredential; `issuer`
    is a URL or an object with an id; `credentialSubject` is one or more objects; `validFrom` and
    `validUntil` are dateTimeStamps in order; `credentialStatus` and `credentialSchema` entries are
    objects with a `type` (and schemas an `id`). Everything else is left to the schema.
    """
    if not isinstance(credential, Mapping):
        raise CredentialMalformed("a credential must be a JSON object")
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2_CONTEXT:
        raise CredentialMalformed(f"@context must be a list that starts with {VC_V2_CONTEXT}")
    types = as_list(credential.get("type"))
    if _BASE_TYPE not in types or not all(isinstance(t, str) for t in types):
        raise CredentialMalformed("type must include VerifiableCredential")
    if "id" in credential and not isinstance(credential["id"], str):
        raise CredentialMalformed("id must be a string (a URL)")
    issuer_id(credential)
    subjects = as_list(credential.get("credentialSubject"))
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        raise CredentialMalformed("credentialSubject must be one or more non-empty objects")
    valid_from = parse_time(credential["validFrom"], "validFrom") if "validFrom" in credential else None
    valid_until = parse_time(credential["validUntil"], "validUntil") if "validUntil" in credential else None
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise CredentialMalformed("validUntil is before validFrom")
    _check_typed_objects(credential, "credentialStatus", ("type",))
    _check_typed_objects(credential, "credentialSchema", ("id", "type"))


def build_credential(
    *,
    types: Iterable[str],
    issuer: str | Mapping[str, Any],
    subject: Mapping[str, Any],
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    schemas: Iterable[str] = (),
    status: Iterable[Mapping[str, Any]] = (),
    contexts: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsecured VC 2.0 credential (no proof yet), checked with `check_data_model`.

    `schemas` are JSON Schema ids (written as `credentialSchema` of type JsonSchema); `status` are
    status entries (see `status_entry`); `extra` adds top-level properties such as `name`.
    """
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT, *contexts],
        "id": credential_id or new_credential_id(),
        "type": ["VerifiableCredential", *[t for t in types if t != _BASE_TYPE]],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        "validFrom": format_time(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_time(valid_until)
    credential["credentialSubject"] = dict(subject)
    schema_list = [{"id": s, "type": "JsonSchema"} for s in schemas]
    if schema_list:
        credential["credentialSchema"] = schema_list[0] if len(schema_list) == 1 else schema_list
    status_list = [dict(s) for s in status]
    if status_list:
        credential["credentialStatus"] = status_list[0] if len(status_list) == 1 else status_list
    for key, value in (extra or {}).items():
        credential.setdefault(key, value)
    check_data_model(credential)
    return credential
