"""The catalogue: registration, versions with chained hashes, withdrawal, lookup and search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from exchange_api._crypto import record_hash
from exchange_api.errors import DuplicateResource, Forbidden, InvalidTransition, NotFound
from exchange_api.models import Application, Organization, OutboxEntry, Resource, ResourceVersion, SearchTerm
from exchange_api.schemas.catalog import (
    ResourceCreate,
    ResourceFields,
    ResourcePublic,
    ResourceVersionCreate,
    VersionPublic,
)
from exchange_api.schemas.common import AnchorPublic
from exchange_api.schemas.orgs import Role
from exchange_api.services.anchors import anchor_view, enqueue
from exchange_api.services.catalog_rules import check_entry
from exchange_api.services.context import Ctx
from exchange_api.services.events import record_event
from exchange_api.services.orgs import org_id_hash, require_role
from exchange_api.services.pagination import decode_int_cursor, encode_cursor
from exchange_api.services.search_terms import query_terms, text_terms

__all__ = [
    "SearchFilters",
    "get_resource",
    "get_version",
    "list_versions",
    "metadata_document",
    "register",
    "search",
    "withdraw",
]

ENTRY_KIND = "tdex.catalog.entry"
SCHEMA_KIND = "tdex.catalog.schema"
_FIELDS = tuple(ResourceFields.model_fields)


@dataclass(frozen=True)
class SearchFilters:
    """Filters of a catalogue search; None means any."""

    provider: str | None = None
    share_type: str | None = None
    data_grade: str | None = None
    classification: str | None = None
    update_cycle: str | None = None
    status: str | None = "active"


def metadata_document(
    code: str, version: int, provider: Organization, fields: ResourceFields
) -> dict[str, Any]:
    """The canonical record of one version: what its metadata hash is taken over."""
    return {
        "kind": ENTRY_KIND,
        "version": 1,
        "code": code,
        "resource_version": version,
        "provider": {"name": provider.name, "uscc": provider.uscc},
        **fields.model_dump(mode="json"),
    }


def _schema_hash(fields: ResourceFields) -> str:
    return record_hash(
        {"kind": SCHEMA_KIND, "version": 1, "items": [i.model_dump(mode="json") for i in fields.items]}
    )


def _index_terms(session: Session, resource: Resource, fields: ResourceFields) -> None:
    session.execute(delete(SearchTerm).where(SearchTerm.resource_id == resource.id))
    terms = text_terms(fields.name, fields.summary, resource.code, *(i.name for i in fields.items))
    if terms:
        session.execute(insert(SearchTerm), [{"term": t, "resource_id": resource.id} for t in sorted(terms)])


def _mirror(resource: Resource, fields: ResourceFields) -> None:
    resource.name = fields.name
    resource.classification = fields.classification.code()
    resource.share_type = fields.share_type.value
    resource.open_type = fields.open_type.value
    resource.data_grade = fields.data_grade.value
    resource.update_cycle = fields.update_cycle.value
    resource.release_date = fields.release_date


def _chain_payload(
    code: str, provider: Organization, doc: dict[str, Any], fields: ResourceFields
) -> dict[str, Any]:
    return {
        "code": code,
        "provider_org_id_hash": org_id_hash(provider.uscc),
        "share_type": fields.share_type.value,
        "open_type": fields.open_type.value,
        "metadata_hash": record_hash(doc),
        "schema_hash": _schema_hash(fields),
    }


def _provider(ctx: Ctx) -> Organization:
    org = ctx.session.get(Organization, ctx.actor.org_id)
    assert org is not None  # the authenticated caller exists
    return org


def register(ctx: Ctx, data: ResourceCreate) -> ResourcePublic:
    """Register a new entry as version 1, provided by the calling department."""
    require_role(ctx, Role.DEPARTMENT)
    check_entry(data, data.code)
    session = ctx.session
    if session.scalar(select(Resource.id).where(Resource.code == data.code)) is not None:
        raise DuplicateResource(f"resource code {data.code} is already registered")
    provider = _provider(ctx)
    now = ctx.now()
    resource = Resource(
        code=data.code,
        provider_org_id=provider.id,
        status="active",
        current_version=1,
        created_at=now,
        updated_at=now,
    )
    _mirror(resource, data)
    session.add(resource)
    session.flush()
    fields = ResourceFields.model_validate(data.model_dump(include=set(_FIELDS)))
    doc = metadata_document(data.code, 1, provider, fields)
    payload = {**_chain_payload(data.code, provider, doc, fields), "version": 1}
    entry = enqueue(ctx, "catalog.register", provider.id, payload)
    version = ResourceVersion(
        resource_id=resource.id,
        version=1,
        metadata_doc=doc,
        metadata_hash=payload["metadata_hash"],
        previous_hash=None,
        created_at=now,
        anchor_outbox_id=entry.id,
    )
    session.add(version)
    _index_terms(session, resource, fields)
    record_event(
        ctx,
        "catalog.registered",
        provider.id,
        f"resource:{data.code}",
        {"code": data.code, "metadata_hash": version.metadata_hash},
    )
    session.flush()
    return _public(session, [resource])[0]


def _load(ctx: Ctx, code: str) -> Resource:
    resource = ctx.session.scalar(select(Resource).where(Resource.code == code))
    if resource is None:
        raise NotFound(f"no catalogue entry {code!r}")
    return resource


def _own(ctx: Ctx, code: str) -> Resource:
    require_role(ctx, Role.DEPARTMENT)
    resource = _load(ctx, code)
    # The catalogue is public to members, so refusing a non-provider with 403 reveals nothing.
    if resource.provider_org_id != ctx.actor.org_id:
        raise Forbidden(f"only the provider of {code} may change it", code="catalog.not_provider")
    if resource.status == "withdrawn":
        raise InvalidTransition(
            f"{code} was withdrawn; a withdrawn entry does not change", code="catalog.withdrawn"
        )
    return resource


def _current_version(session: Session, resource: Resource) -> ResourceVersion:
    version = session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.version == resource.current_version
        )
    )
    assert version is not None
    return version


def publish_version(ctx: Ctx, code: str, data: ResourceVersionCreate) -> ResourcePublic:
    """Publish the next version of `code`; the old versions stay and the hashes chain."""
    resource = _own(ctx, code)
    check_entry(data, code)
    session = ctx.session
    provider = _provider(ctx)
    previous = _current_version(session, resource)
    number = previous.version + 1
    doc = metadata_document(code, number, provider, data)
    payload = _chain_payload(code, provider, doc, data)
    payload["previous_metadata_hash"] = previous.metadata_hash
    payload["version"] = number
    previous_anchor = (
        session.get(OutboxEntry, previous.anchor_outbox_id) if previous.anchor_outbox_id else None
    )
    entry = enqueue(ctx, "catalog.publish_version", provider.id, payload, depends_on=previous_anchor)
    now = ctx.now()
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=number,
            metadata_doc=doc,
            metadata_hash=payload["metadata_hash"],
            previous_hash=previous.metadata_hash,
            created_at=now,
            anchor_outbox_id=entry.id,
        )
    )
    resource.current_version = number
    resource.updated_at = now
    _mirror(resource, data)
    _index_terms(session, resource, data)
    record_event(
        ctx,
        "catalog.version_published",
        provider.id,
        f"resource:{code}",
        {
            "code": code,
            "resource_version": number,
            "metadata_hash": payload["metadata_hash"],
            "previous_hash": previous.metadata_hash,
        },
    )
    session.flush()
    return _public(session, [resource])[0]


def withdraw(ctx: Ctx, code: str, reason: str) -> ResourcePublic:
    """Withdraw `code`: it stays with its history, waiting applications are cancelled with the reason."""
    resource = _own(ctx, code)
    session = ctx.session
    now = ctx.now()
    current = _current_version(session, resource)
    depends = session.get(OutboxEntry, current.anchor_outbox_id) if current.anchor_outbox_id else None
    enqueue(
        ctx,
        "catalog.withdraw",
        resource.provider_org_id,
        {"code": code, "reason_hash": record_hash({"kind": "tdex.reason", "version": 1, "reason": reason})},
        depends_on=depends,
    )
    resource.status = "withdrawn"
    resource.withdrawn_at = now
    resource.withdraw_reason = reason
    resource.updated_at = now
    cancelled = session.scalars(
        select(Application.id).where(
            Application.resource_id == resource.id, Application.state.in_(("submitted", "under_review"))
        )
    ).all()
    if cancelled:
        session.execute(
            update(Application)
            .where(Application.id.in_(cancelled))
            .values(state="cancelled", decided_at=now, reason=f"resource withdrawn: {reason}")
        )
    record_event(
        ctx,
        "catalog.withdrawn",
        resource.provider_org_id,
        f"resource:{code}",
        {"code": code, "reason": reason, "cancelled": list(cancelled)},
    )
    for app_id in cancelled:
        record_event(
            ctx, "application.cancelled", "system", f"application:{app_id}", {"reason": "resource withdrawn"}
        )
    session.flush()
    return _public(session, [resource])[0]


def get_resource(ctx: Ctx, code: str) -> ResourcePublic:
    """The current state of entry `code` (every member may read the catalogue)."""
    # One query by code (not id, then view): this is the hot signed read measured in bench/api.py.
    row = ctx.session.connection().execute(_VIEW_BY_CODE, {"code": code}).first()
    if row is None:
        raise NotFound(f"no catalogue entry {code!r}")
    return _view(row)


def list_versions(ctx: Ctx, code: str) -> list[VersionPublic]:
    """Every version of `code`, oldest first, with hashes and anchors."""
    resource = _load(ctx, code)
    versions = ctx.session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id == resource.id)
        .order_by(ResourceVersion.version)
    ).all()
    return [_version_public(ctx.session, v) for v in versions]


def get_version(ctx: Ctx, code: str, number: int) -> dict[str, Any]:
    """The canonical metadata record of version `number` of `code` (hash it to check the anchor)."""
    resource = _load(ctx, code)
    version = ctx.session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.version == number
        )
    )
    if version is None:
        raise NotFound(f"{code} has no version {number}")
    return version.metadata_doc


def _version_public(session: Session, v: ResourceVersion) -> VersionPublic:
    return VersionPublic(
        version=v.version,
        metadata_hash=v.metadata_hash,
        previous_hash=v.previous_hash,
        created_at=v.created_at,
        anchor=anchor_view(session, v.anchor_outbox_id),
    )


def _public(session: Session, resources: Sequence[Resource]) -> list[ResourcePublic]:
    return _views(session, [r.id for r in resources])


_CAPPED_COUNT = select(func.count()).select_from(
    select(SearchTerm.resource_id).where(SearchTerm.term == bindparam("term")).limit(1000).subquery()
)
# Built once: re-using one statement object skips SQLAlchemy's per-call construction and result
# adaptation, which cost more than the query itself on this hot read path.
_VIEW_ALL = (
    select(
        Resource.id,
        Resource.code,
        Resource.status,
        Resource.created_at,
        Resource.updated_at,
        Resource.withdrawn_at,
        Resource.withdraw_reason,
        ResourceVersion.version,
        ResourceVersion.metadata_doc,
        ResourceVersion.metadata_hash,
        ResourceVersion.previous_hash,
        ResourceVersion.created_at.label("version_created_at"),
        Organization.id.label("org_id"),
        Organization.name.label("org_name"),
        Organization.uscc,
        OutboxEntry.id.label("outbox_id"),
        OutboxEntry.status.label("outbox_status"),
        OutboxEntry.tx_hash,
        OutboxEntry.block_number,
        OutboxEntry.anchored_at,
        OutboxEntry.last_error,
    )
    .join(
        ResourceVersion,
        and_(
            ResourceVersion.resource_id == Resource.id,
            ResourceVersion.version == Resource.current_version,
        ),
    )
    .join(Organization, Organization.id == Resource.provider_org_id)
    .outerjoin(OutboxEntry, OutboxEntry.id == ResourceVersion.anchor_outbox_id)
)
_VIEW = _VIEW_ALL.where(Resource.id.in_(bindparam("ids", expanding=True)))
_VIEW_BY_CODE = _VIEW_ALL.where(Resource.code == bindparam("code"))


def _views(session: Session, ids: Sequence[int]) -> list[ResourcePublic]:
    """Public views of resources `ids`, in that order, from one query (the hot read path)."""
    if not ids:
        return []
    rows = {row.id: row for row in session.connection().execute(_VIEW, {"ids": list(ids)})}
    return [_view(rows[rid]) for rid in ids]


def _view(row: Row[Any]) -> ResourcePublic:
    """The public view of one `_VIEW_ALL` row."""
    doc = row.metadata_doc
    anchor = (
        AnchorPublic(
            status=row.outbox_status,
            outbox_id=row.outbox_id,
            tx_hash=row.tx_hash,
            block_number=row.block_number,
            anchored_at=row.anchored_at,
            error=row.last_error if row.outbox_status == "failed" else None,
        )
        if row.outbox_id is not None
        else AnchorPublic(status="none")
    )
    return ResourcePublic.model_validate(
        {
            **{k: doc[k] for k in _FIELDS},
            "code": row.code,
            "provider": {"id": row.org_id, "name": row.org_name, "uscc": row.uscc},
            "status": row.status,
            "current_version": {
                "version": row.version,
                "metadata_hash": row.metadata_hash,
                "previous_hash": row.previous_hash,
                "created_at": row.version_created_at,
                "anchor": anchor,
            },
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "withdrawn_at": row.withdrawn_at,
            "withdraw_reason": row.withdraw_reason,
        }
    )


def _rarest(session: Session, terms: list[str]) -> str:
    # A capped count per term is cheap on the (term, resource_id) key and good enough to pick a driver.
    def capped(term: str) -> int:
        return session.connection().execute(_CAPPED_COUNT, {"term": term}).scalar() or 0

    return min(terms, key=capped)


def search(
    ctx: Ctx, q: str | None, filters: SearchFilters, cursor: str | None, limit: int
) -> tuple[list[ResourcePublic], str | None]:
    """Entries matching every term of `q` and every filter, newest first, one page after `cursor`."""
    session = ctx.session
    after = decode_int_cursor("resource", cursor)
    terms = query_terms(q or "")
    if terms:
        driver = _rarest(session, terms) if len(terms) > 1 else terms[0]
        t0 = aliased(SearchTerm)
        stmt = select(Resource.id).join(t0, t0.resource_id == Resource.id).where(t0.term == driver)
        for term in terms:
            if term != driver:
                stmt = stmt.where(
                    exists().where(SearchTerm.term == term, SearchTerm.resource_id == Resource.id)
                )
        key = t0.resource_id
    else:
        stmt = select(Resource.id)
        key = Resource.id
    if after is not None:
        stmt = stmt.where(key < after)
    if filters.provider is not None:
        stmt = stmt.where(Resource.provider_org_id == filters.provider)
    if filters.share_type is not None:
        stmt = stmt.where(Resource.share_type == filters.share_type)
    if filters.data_grade is not None:
        stmt = stmt.where(Resource.data_grade == filters.data_grade)
    if filters.classification is not None:
        # A classification filter matches its whole subtree (类, 类+项, ...).
        stmt = stmt.where(Resource.classification.startswith(filters.classification, autoescape=True))
    if filters.update_cycle is not None:
        stmt = stmt.where(Resource.update_cycle == filters.update_cycle)
    if filters.status is not None:
        stmt = stmt.where(Resource.status == filters.status)
    ids = list(session.connection().execute(stmt.order_by(key.desc()).limit(limit + 1)).scalars())
    more = len(ids) > limit
    ids = ids[:limit]
    next_cursor = encode_cursor("resource", ids[-1]) if more and ids else None
    return _views(session, ids), next_cursor
