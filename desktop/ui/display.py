"""How values are shown to a clerk that only screens need: status colours, sizes, book entries,
the cells of a dossier list.

Small pure functions shared by the dossier screens and dialogs (no Tk here). Dates are written by
:mod:`desktop.forms.dates`, status names by :mod:`desktop.forms.lifecycle` and procedure titles
by :mod:`desktop.forms.procedures`, which the papers and the command line use too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from desktop.forms.dates import format_date_vn, format_datetime_vn
from desktop.forms.lifecycle import (
    CHO_KY,
    DANG_XU_LY,
    HOAN_THANH,
    HUY,
    TIEP_NHAN,
    TRA_LAI,
    status_label,
)
from desktop.forms.procedures import procedure_title

if TYPE_CHECKING:
    from desktop.store.records import DossierSummary

#: Bootstyle colour of each status (badges, timeline).
STATUS_STYLES = {
    TIEP_NHAN: "info",
    DANG_XU_LY: "primary",
    CHO_KY: "warning",
    HOAN_THANH: "success",
    TRA_LAI: "secondary",
    HUY: "danger",
}

#: What a cell of a dossier list shows, by cell name.
SUMMARY_CELLS: dict[str, Callable[[DossierSummary], str]] = {
    "dossier_no": lambda s: s.dossier_no,
    "name": lambda s: s.display_name,
    "procedure": lambda s: procedure_title(s.procedure),
    "procedure_short": lambda s: procedure_title(s.procedure, short=True),
    "received": lambda s: format_datetime_vn(s.received_at),
    "received_day": lambda s: format_datetime_vn(s.received_at, with_time=False),
    "due": lambda s: format_date_vn(s.due_at) if s.due_at else "",
    # The dashboard writes the promised date as a moment (its column shows the date part).
    "due_moment": lambda s: format_datetime_vn(s.due_at),
    "status": lambda s: status_label(s.status),
}


def summary_cells(summary: DossierSummary, cells: Sequence[str]) -> tuple[str, ...]:
    """Return the texts of a dossier list row (one per name in ``cells``, see SUMMARY_CELLS)."""
    return tuple(SUMMARY_CELLS[cell](summary) for cell in cells)


def format_size(size: int | None) -> str:
    """Return a byte count for people: ``812 B``, ``45 KB``, ``2,3 MB`` (Vietnamese comma)."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def book_entry(book_number: object, book_type: object, book_year: object) -> str:
    """Return the register book entry as the paper prints it: ``Số 12, Quyển số 01/2025 (KS)``.

    One book per event type per year, so the year's book is volume 01 (as printing writes it).
    """
    if not book_number:
        return "Chưa vào sổ"
    volume = f", Quyển số 01/{book_year}" if book_year else ""
    kind = f" (sổ {book_type})" if book_type else ""
    return f"Số {book_number}{volume}{kind}"
