"""JSON Schemas of the certificate types (营业执照, 食品经营许可证, ...) and the registry that checks them.

Each certificate type is a VC 2.0 credential type with one JSON Schema (draft 2020-12) over the whole
credential, named in the credential's `credentialSchema` (type `JsonSchema`, W3C VC JSON Schema).
Schemas live here as Python values, so they ship with the package and are versioned with the
code: a change of fields is a new schema id (`.../v2`), never an edit of a published one.
Validation is offline (no `$ref` is ever fetched).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from credentials._model import as_list, check_data_model
from credentials.errors import CredentialMalformed, SchemaViolation, UnknownSchema

__all__ = [
    "BUSINESS_LICENCE",
    "CERTIFICATE_TYPES",
    "CREDIT_THRESHOLD",
    "FOOD_OPERATION_PERMIT",
    "SCHEMA_BASE",
    "CertificateType",
    "SchemaRegistry",
    "certificate_type",
    "default_registry",
]

SCHEMA_BASE = "https://tdex.example/schemas/credentials/"
_DRAFT = "https://json-schema.org/draft/2020-12/schema"

# GB 32100 charset (no I, O, Z, S, V); the check characters are verified by `keys.validate_uscc` at
# issuance, which a JSON Schema cannot express.
_USCC = {"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _credential_schema(
    schema_id: str, title: str, credential_type: str, subject: Mapping[str, Any], *, needs_until: bool
) -> dict[str, Any]:
    required = ["@context", "type", "issuer", "validFrom", "credentialSubject"]
    if needs_until:
        required.append("validUntil")
    return {
        "$schema": _DRAFT,
        "$id": schema_id,
        "title": title,
        "type": "object",
        "required": required,
        "properties": {
            "type": {"type": "array", "contains": {"const": credential_type}},
            "issuer": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string", "pattern": "^did:"}, "name": _TEXT},
            },
            "credentialSubject": subject,
        },
    }


def _subject(properties: Mapping[str, Any], required: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "type": {"type": "string"}, **properties},
    }


@dataclass(frozen=True, slots=True)
class CertificateType:
    """A kind of certificate: its short key, VC type, Chinese title, schema and default validity in years."""

    key: str
    credential_type: str
    title: str
    schema_id: str
    schema: Mapping[str, Any]
    default_validity_years: int | None

    @property
    def subject_properties(self) -> tuple[str, ...]:
        """The credentialSubject fields the schema allows (besides `id` and `type`)."""
        subject = self.schema["properties"]["credentialSubject"]["properties"]
        return tuple(k for k in subject if k not in ("id", "type"))


_BL_ID = SCHEMA_BASE + "business-licence/v1"
BUSINESS_LICENCE = CertificateType(
    key="business-licence",
    credential_type="BusinessLicenceCredential",
    title="营业执照 (business licence)",
    schema_id=_BL_ID,
    schema=_credential_schema(
        _BL_ID,
        "营业执照 business licence v1",
        "BusinessLicenceCredential",
        _subject(
            {
                "uscc": {**_USCC, "description": "统一社会信用代码"},
                "name": {**_TEXT, "description": "名称"},
                "entityType": {**_TEXT, "description": "类型, e.g. 有限责任公司"},
                "legalRepresentative": {**_TEXT, "description": "法定代表人 / 负责人 / 经营者"},
                "registeredCapital": {**_TEXT, "description": "注册资本, e.g. 1000万元人民币"},
                "establishedOn": {**_DATE, "description": "成立日期"},
                "operatingPeriodFrom": {**_DATE, "description": "营业期限自"},
                "operatingPeriodUntil": {
                    "description": "营业期限至: a date, or 长期 (no end)",
                    "anyOf": [_DATE, {"const": "长期"}],
                },
                "domicile": {**_TEXT, "description": "住所"},
                "businessScope": {**_TEXT, "description": "经营范围"},
                "registrationAuthority": {**_TEXT, "description": "登记机关"},
            },
            (
                "uscc",
                "name",
                "entityType",
                "legalRepresentative",
                "establishedOn",
                "domicile",
                "businessScope",
                "registrationAuthority",
            ),
        ),
        needs_until=False,
    ),
    default_validity_years=None,
)

_FP_ID = SCHEMA_BASE + "food-operation-permit/v1"
FOOD_OPERATION_PERMIT = CertificateType(
    key="food-operation-permit",
    credential_type="FoodOperationPermitCredential",
    title="食品经营许可证 (food operation permit)",
    schema_id=_FP_ID,
    schema=_credential_schema(
        _FP_ID,
        "食品经营许可证 food operation permit v1",
        "FoodOperationPermitCredential",
        _subject(
            {
                # JY + category digit (1 食品销售, 2 餐饮服务, 3 单位食堂) + 6-digit region + 6-digit
                # serial + check digit.
                "permitNumber": {
                    "type": "string",
                    "pattern": "^JY[1-3][0-9]{13}$",
                    "description": "许可证编号",
                },
                "uscc": {**_USCC, "description": "社会信用代码"},
                "operatorName": {**_TEXT, "description": "经营者名称"},
                "legalRepresentative": {**_TEXT, "description": "法定代表人（负责人）"},
                "domicile": {**_TEXT, "description": "住所"},
                "premises": {**_TEXT, "description": "经营场所"},
                "businessFormat": {
                    "enum": ["食品销售经营者", "餐饮服务经营者", "单位食堂"],
                    "description": "主体业态",
                },
                "operatingItems": {
                    "type": "array",
                    "minItems": 1,
                    "items": _TEXT,
                    "description": "经营项目",
                },
                "supervisoryAuthority": {**_TEXT, "description": "日常监督管理机构"},
                "issuingAuthority": {**_TEXT, "description": "发证机关"},
                "complaintHotline": {
                    "type": "string",
                    "pattern": "^[0-9-]{3,20}$",
                    "description": "投诉举报电话",
                },
            },
            (
                "permitNumber",
                "uscc",
                "operatorName",
                "legalRepresentative",
                "domicile",
                "premises",
                "businessFormat",
                "operatingItems",
                "issuingAuthority",
            ),
        ),
        needs_until=True,  # a food operation permit is valid for five years
    ),
    default_validity_years=5,
)

_CT_ID = SCHEMA_BASE + "credit-threshold/v1"
CREDIT_THRESHOLD = CertificateType(
    key="credit-threshold",
    credential_type="CreditThresholdAttestation",
    title="信用分门槛证明 (credit score threshold attestation)",
    schema_id=_CT_ID,
    schema=_credential_schema(
        _CT_ID,
        "credit score threshold attestation v1",
        "CreditThresholdAttestation",
        _subject(
            {
                "uscc": _USCC,
                "subjectRef": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                "scoreAtLeast": {"type": "integer", "minimum": 0, "maximum": 1000},
                "model": {"type": "string", "pattern": "^tdex-credit-v[0-9]+$"},
                "asOf": {"type": "string"},
                "checkpoint": {
                    "type": "object",
                    "required": ["eventCount", "eventsDigest"],
                    "additionalProperties": False,
                    "properties": {
                        "ledger": {"type": "string"},
                        "eventCount": {"type": "integer", "minimum": 0},
                        "eventsDigest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
                "audience": _TEXT,
            },
            ("uscc", "subjectRef", "scoreAtLeast", "model", "asOf", "checkpoint"),
        ),
        needs_until=True,
    ),
    default_validity_years=None,  # attestations set their own, short, window
)

CERTIFICATE_TYPES: Mapping[str, CertificateType] = {
    t.key: t for t in (BUSINESS_LICENCE, FOOD_OPERATION_PERMIT, CREDIT_THRESHOLD)
}


def certificate_type(key: str) -> CertificateType:
    """The certificate type named `key` (e.g. `business-licence`); UnknownSchema when there is none."""
    try:
        return CERTIFICATE_TYPES[key]
    except KeyError:
        raise UnknownSchema(
            f"unknown certificate type {key!r}; known: {', '.join(sorted(CERTIFICATE_TYPES))}"
        ) from None


class SchemaRegistry:
    """JSON Schemas by id, compiled once; checks credentials against the schemas they name."""

    def __init__(self, schemas: Iterable[Mapping[str, Any]] = ()) -> None:
        self._schemas: dict[str, Mapping[str, Any]] = {}
        self._validators: dict[str, Any] = {}
        for schema in schemas:
            self.register(schema)

    def register(self, schema: Mapping[str, Any]) -> None:
        """Add a schema under its `$id`; another schema under a known id is refused."""
        schema_id = schema.get("$id")
        if not isinstance(schema_id, str) or not schema_id:
            raise ValueError("a registered schema needs a string $id")
        if schema_id in self._schemas and self._schemas[schema_id] != schema:
            raise ValueError(f"schema {schema_id} is already registered with other content")
        self._validators[schema_id] = jsonschema_rs.validator_for(
            copy.deepcopy(dict(schema)), validate_formats=True, offline=True
        )
        self._schemas[schema_id] = schema

    def __contains__(self, schema_id: object) -> bool:
        return schema_id in self._schemas

    def schema(self, schema_id: str) -> Mapping[str, Any]:
        """The schema registered as `schema_id`; UnknownSchema otherwise."""
        try:
            return self._schemas[schema_id]
        except KeyError:
            raise UnknownSchema(f"no schema {schema_id!r} is registered") from None

    def validate(self, credential: Mapping[str, Any]) -> list[str]:
        """Check the VC 2.0 data model and every `credentialSchema`; return the schema ids checked.

        Raises SchemaViolation (naming the JSON path of the first fault) or UnknownSchema.
        """
        try:
            check_data_model(credential)
        except CredentialMalformed as exc:
            raise SchemaViolation(f"not a VC 2.0 credential: {exc}") from None
        checked = []
        for ref in as_list(credential.get("credentialSchema")):
            if ref.get("type") != "JsonSchema":
                raise UnknownSchema(
                    f"credentialSchema type {ref.get('type')!r} is not supported (JsonSchema)"
                )
            schema_id = str(ref["id"])
            validator = self._validators.get(schema_id)
            if validator is None:
                raise UnknownSchema(f"no schema {schema_id!r} is registered")
            for error in validator.iter_errors(_without_proof(credential)):
                path = "/".join(str(p) for p in error.instance_path) or "(root)"
                raise SchemaViolation(f"{schema_id}: at {path}: {error.message}")
            checked.append(schema_id)
        return checked


def _without_proof(credential: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if k != "proof"}


def default_registry() -> SchemaRegistry:
    """A registry holding the schemas of every built-in certificate type."""
    return SchemaRegistry(t.schema for t in CERTIFICATE_TYPES.values())
