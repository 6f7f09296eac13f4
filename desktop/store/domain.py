"""The store's one door to ``desktop.forms``: procedures, validation, deadlines, folding.

Imports are lazy so that opening the store does not import every procedure declaration
until a dossier is saved or searched. If the forms API moves, only this module changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def get_procedure(code: str) -> Any:
    """Return the declared procedure with this code.

    Raises:
        ValidationError: the code names no procedure (a field error on ``procedure``).
    """
    from desktop.forms import procedures
    from desktop.forms.validation_result import FieldError, ValidationError

    try:
        return procedures.get_procedure(code)
    except (KeyError, ValueError, LookupError):
        raise ValidationError(
            [FieldError("procedure", f"Thủ tục không tồn tại: {code!r}.")]
        ) from None


def validate(
    procedure: Any, data: Mapping[str, Any], *, today: dt.date, received_at: dt.datetime
) -> Any:
    """Validate procedure data; return the forms ``ValidationResult``."""
    from desktop.forms import validation

    return validation.validate(procedure, dict(data), today=today, received_at=received_at)


def due_date(procedure: Any, received_at: dt.datetime) -> dt.date:
    """Return the date the result is promised (statutory working days)."""
    from desktop.forms import workdays

    return workdays.due_date(procedure, received_at)


def fold(text: str) -> str:
    """Return the search key of a text (no diacritics, đ→d, case-folded)."""
    from desktop.forms import vietnamese

    return str(vietnamese.fold(text))


def validation_error(field: str, message: str) -> Exception:
    """Return a forms ``ValidationError`` with one field error."""
    from desktop.forms.validation_result import FieldError, ValidationError

    return ValidationError([FieldError(field, message)])
