"""The registry of declared procedures, keyed by code.

Callers look a procedure up here (``get_procedure("khai_sinh")``) rather than importing the
per-procedure modules, so adding a procedure means declaring it and adding one line below.
"""

from __future__ import annotations

from desktop.forms.birth import BIRTH
from desktop.forms.death import DEATH
from desktop.forms.marital_status import MARITAL_STATUS
from desktop.forms.marriage import MARRIAGE
from desktop.forms.model import Procedure

PROCEDURES: dict[str, Procedure] = {p.code: p for p in (BIRTH, DEATH, MARITAL_STATUS, MARRIAGE)}
"""Every declared procedure by code, in the order the clerk picks from."""


def get_procedure(code: str) -> Procedure:
    """Return the procedure declared under ``code`` (``khai_sinh``, ``khai_tu`` …).

    Raises:
        ValueError: no procedure has that code (the message lists the known codes).
    """
    try:
        return PROCEDURES[code]
    except (KeyError, TypeError):
        known = ", ".join(PROCEDURES)
        raise ValueError(f"unknown procedure {code!r}; known procedures: {known}") from None


def procedure_title(code: str | None, *, short: bool = False) -> str:
    """Return a procedure's title (``Đăng ký khai sinh``; ``Khai sinh`` when ``short``).

    An unknown code is returned as it is, so a record from a newer release still shows.
    """
    if not code:
        return ""
    procedure = PROCEDURES.get(code)
    if procedure is None:
        return code
    return (procedure.short_title or procedure.title) if short else procedure.title


def all_procedures() -> list[Procedure]:
    """Return every declared procedure in display order."""
    return list(PROCEDURES.values())


def procedure_by_national_code(national_code: str) -> Procedure:
    """Return the procedure with a national portal code (``1.001193``).

    Raises:
        ValueError: no declared procedure has that code.
    """
    for p in PROCEDURES.values():
        if p.national_code == national_code:
            return p
    raise ValueError(f"no declared procedure has national code {national_code!r}")
