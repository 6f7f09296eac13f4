"""How values are shown to a clerk that only screens need: status colours, sizes, book entries.

Small pure functions shared by the dossier screens and dialogs (no Tk here). Dates are written by
:mod:`desktop.forms.dates`, status names by :mod:`desktop.forms.lifecycle` and procedure titles
by :mod:`desktop.forms.procedures`, which the papers and the command line use too.
"""

from __future__ import annotations

#: Bootstyle colour of each status (badges, timeline).
STATUS_STYLES = {
    "tiep_nhan": "info",
    "dang_xu_ly": "primary",
    "cho_ky": "warning",
    "hoan_thanh": "success",
    "tra_lai": "secondary",
    "huy": "danger",
}


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
