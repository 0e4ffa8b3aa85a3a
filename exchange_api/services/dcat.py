"""The catalogue as DCAT 3 JSON-LD (DCAT-AP mandatory properties present), with ODRL offers."""

from __future__ import annotations

from typing import Any

from exchange_api.schemas.catalog import ResourcePublic
from exchange_api.services import catalog, odrl
from exchange_api.services.context import Ctx

__all__ = ["CONTEXT", "dataset", "export"]

CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "tdex": "urn:tdex:vocab:",
}
_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCY = {
    "realtime": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "semiannual": "ANNUAL_2",
    "annual": "ANNUAL",
    "irregular": "IRREG",
}
SHARE_LABEL = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shareable": "不予共享"}
_MEDIA = {
    "electronic_file": "application/octet-stream",
    "spreadsheet": "text/csv",
    "database": "application/sql",
    "graphic_image": "image/*",
    "streaming_media": "video/*",
    "self_describing": "application/json",
    "service_interface": "application/json",
}


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def dataset(r: ResourcePublic) -> dict[str, Any]:
    """One catalogue entry as a `dcat:Dataset`."""
    version = r.current_version.version
    policy = odrl.offer(r.code, r.provider.uscc, r.share_type.value, r.share_conditions)
    ds: dict[str, Any] = {
        "@id": odrl.target(r.code),
        "@type": "dcat:Dataset",
        "dct:identifier": r.code,
        "dct:title": _zh(r.name),
        "dct:description": _zh(r.summary),
        "dct:publisher": {
            "@id": odrl.party(r.provider.uscc),
            "@type": "foaf:Organization",
            "foaf:name": _zh(r.provider.name),
            "dct:identifier": r.provider.uscc,
        },
        "dcat:theme": {"@type": "skos:Concept", "skos:notation": r.classification.code()},
        "dct:accessRights": {
            "@id": f"urn:tdex:share-type:{r.share_type.value}",
            "skos:prefLabel": _zh(SHARE_LABEL[r.share_type.value]),
        },
        "dct:accrualPeriodicity": {"@id": _FREQ + FREQUENCY[r.update_cycle.value]},
        "dct:issued": {"@value": r.release_date.isoformat(), "@type": "xsd:date"},
        "dct:modified": {"@value": r.updated_at.isoformat(), "@type": "xsd:dateTime"},
        "dcat:version": str(version),
        "tdex:metadataHash": r.current_version.metadata_hash,
        "tdex:openType": r.open_type.value,
        "tdex:dataGrade": r.data_grade.value,
        "dct:conformsTo": {
            "@type": "dct:Standard",
            "csvw:tableSchema": {
                "csvw:column": [
                    {"csvw:name": item.name, "csvw:datatype": item.data_type.value} for item in r.items
                ]
            },
        },
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": _zh(f"{r.name}（{method.value}）"),
                "dcat:mediaType": _MEDIA[r.format.value],
                "dcat:accessService": {
                    "@type": "dcat:DataService",
                    "dct:title": _zh(f"{r.name} {method.value}"),
                    "dcat:endpointDescription": f"urn:tdex:share-method:{method.value}",
                },
            }
            for method in r.share_methods
        ],
        # The ODRL context is scoped to the embedded policy, so its terms keep their ODRL meaning.
        "odrl:hasPolicy": {"@context": odrl.ODRL_CONTEXT, **policy},
    }
    if version > 1:
        ds["dcat:previousVersion"] = {"@id": odrl.target(r.code, version - 1)}
    if r.related_codes:
        ds["dct:relation"] = [{"@id": odrl.target(code)} for code in r.related_codes]
    if r.status == "withdrawn":
        ds["tdex:withdrawn"] = {
            "@value": (r.withdrawn_at.isoformat() if r.withdrawn_at else ""),
            "@type": "xsd:dateTime",
        }
    return ds


def export(ctx: Ctx, cursor: str | None, limit: int) -> tuple[dict[str, Any], str | None]:
    """A page of the active catalogue as one `dcat:Catalog` document."""
    page, next_cursor = catalog.search(ctx, None, catalog.SearchFilters(), cursor, limit)
    doc = {
        "@context": CONTEXT,
        "@id": "urn:tdex:catalog",
        "@type": "dcat:Catalog",
        "dct:title": _zh(ctx.settings.bureau_name or "政务信息资源目录"),
        "dct:description": _zh("政务信息资源目录（DCAT 3），共享条件以 ODRL 要约表示"),
        "dct:publisher": {
            "@type": "foaf:Organization",
            "foaf:name": _zh(ctx.settings.bureau_name or "大数据局"),
        },
        "dcat:dataset": [dataset(r) for r in page],
    }
    return doc, next_cursor
