"""Cross-field rules of a catalogue entry that a field-by-field schema cannot say (pure functions)."""

from __future__ import annotations

import re

from exchange_api.errors import FieldError, InvalidCatalogEntry
from exchange_api.schemas.catalog import CODE_PATTERN, OpenType, ResourceFields, ShareType

__all__ = ["check_entry"]

_CODE = re.compile(CODE_PATTERN)


def check_entry(fields: ResourceFields, code: str) -> None:
    """Raise `InvalidCatalogEntry` listing every broken rule of the entry `code` with `fields`."""
    errors: list[FieldError] = []
    conditions = (fields.share_conditions or "").strip()
    if fields.share_type is ShareType.CONDITIONAL and not conditions:
        errors.append(FieldError("/share_conditions", "a conditional share must state its conditions"))
    if fields.share_type is ShareType.NOT_SHAREABLE and not conditions:
        errors.append(FieldError("/share_conditions", "a not-shareable resource must state its legal basis"))
    if fields.share_type is ShareType.UNCONDITIONAL and conditions:
        # The 2025 regulation forbids providers from adding conditions to an unconditional share.
        errors.append(FieldError("/share_conditions", "an unconditional share takes no conditions"))
    if fields.share_type is not ShareType.NOT_SHAREABLE and not fields.share_methods:
        errors.append(FieldError("/share_methods", "a shareable resource needs at least one share method"))
    if fields.share_type is ShareType.NOT_SHAREABLE and fields.open_type is OpenType.OPEN:
        errors.append(FieldError("/open_type", "a resource not shared among departments cannot be open"))
    if len(set(fields.share_methods)) != len(fields.share_methods):
        errors.append(FieldError("/share_methods", "share methods must not repeat"))
    prefix = code.split("/", 1)[0]
    if prefix != fields.classification.code():
        errors.append(
            FieldError(
                "/code", f"the code's classification part {prefix!r} must be {fields.classification.code()!r}"
            )
        )
    names = [item.name for item in fields.items]
    for index, name in enumerate(names):
        if names.index(name) != index:
            errors.append(FieldError(f"/items/{index}/name", f"item name {name!r} repeats"))
    for index, related in enumerate(fields.related_codes):
        if not _CODE.fullmatch(related):
            errors.append(FieldError(f"/related_codes/{index}", f"{related!r} is not a resource code"))
        elif related == code:
            errors.append(FieldError(f"/related_codes/{index}", "an entry cannot relate to itself"))
    if errors:
        raise InvalidCatalogEntry(f"the catalogue entry breaks {len(errors)} rule(s)", errors=errors)
