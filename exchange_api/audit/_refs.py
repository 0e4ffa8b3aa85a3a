"""What an entry concerns: the organisations, resources, grants and applications trail queries find it by.

Refs are read from the actor, the subject and the record's well-known fields, then widened through
the store (an application brings its applicant, provider and resource). Lookups never flush the
session: objects the caller added but has not flushed yet are found in ``session.new``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange_api.models import Application, Grant, Resource

__all__ = ["entry_refs"]

T = TypeVar("T")
_SYSTEM_ACTORS = {"", "system"}


def _find(session: Session, model: type[T], key: Any) -> T | None:
    for obj in session.new:
        if isinstance(obj, model) and getattr(obj, "id", None) == key:
            return obj
    with session.no_autoflush:
        return session.get(model, key)


def _resource_code(session: Session, resource_id: int | None) -> str | None:
    if resource_id is None:
        return None
    resource = _find(session, Resource, resource_id)
    return resource.code if resource is not None else None


def _by_code(session: Session, code: str) -> Resource | None:
    for obj in session.new:
        if isinstance(obj, Resource) and obj.code == code:
            return obj
    with session.no_autoflush:
        return session.scalar(select(Resource).where(Resource.code == code))


def entry_refs(session: Session, actor: str, subject: str, record: Mapping[str, Any]) -> set[str]:
    """The refs of an entry by ``actor`` on ``subject`` with ``record``."""
    refs: set[str] = set()
    if actor not in _SYSTEM_ACTORS:
        refs.add(f"org:{actor}")
    kind, _, ident = subject.partition(":")
    wanted: list[tuple[str, Any]] = []
    if ident and kind in {"org", "resource", "grant", "application", "job", "certificate", "credit"}:
        wanted.append((kind, ident))
    elif subject and not ident:
        refs.add(subject)
    for field, ref_kind in (
        ("org_id", "org"),
        ("code", "resource"),
        ("resource_code", "resource"),
        ("grant_id", "grant"),
        ("application_id", "application"),
        ("job_id", "job"),
    ):
        value = record.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # the sandbox names grants by their chain id
        if isinstance(value, str) and value:
            wanted.append((ref_kind, value))
    for ref_kind, value in wanted:
        refs.add(f"{ref_kind}:{value}")
        if ref_kind == "application":
            app = _find(session, Application, value)
            if app is not None:
                refs.update((f"org:{app.applicant_org_id}", f"org:{app.provider_org_id}"))
                code = _resource_code(session, app.resource_id)
                if code:
                    refs.add(f"resource:{code}")
        elif ref_kind == "grant":
            grant = _find(session, Grant, value)
            if grant is not None:
                refs.update(
                    (
                        f"org:{grant.grantee_org_id}",
                        f"org:{grant.provider_org_id}",
                        f"application:{grant.application_id}",
                    )
                )
                code = _resource_code(session, grant.resource_id)
                if code:
                    refs.add(f"resource:{code}")
        elif ref_kind == "resource":
            resource = _by_code(session, value)
            if resource is not None:
                refs.add(f"org:{resource.provider_org_id}")
    return {ref[:200] for ref in refs}
