"""USCC validation through `keys.validate_uscc`, with its explicit, recorded override."""

from __future__ import annotations

from typing import Any

__all__ = ["validate_uscc"]


def validate_uscc(code: str, *, approved_by: str, override_reason: str | None) -> dict[str, Any] | None:
    """Validate `code`; return the override record when a failing check was accepted on purpose.

    Raises `ValueError` naming the position and the expected character when the code is not valid.
    Format faults (length, characters) are never overridden; only a failing check character is.
    """
    from keys import IdentifierOverride
    from keys import validate_uscc as _validate
    from keys.errors import IdentifierError

    override = (
        IdentifierOverride(code=code, approved_by=approved_by, reason=override_reason)
        if override_reason
        else None
    )
    try:
        info = _validate(code, allow_override=override)
    except IdentifierError as error:
        raise ValueError(str(error)) from None
    record = getattr(info, "override", None)
    return record.to_json() if record is not None else None
