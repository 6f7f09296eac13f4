"""How values are shown to a clerk: dates dd/mm/yyyy, statuses and procedures by name, sizes.

Small pure functions shared by the dossier screens and dialogs (no Tk here), so that every
screen writes a date, a status or a file size the same way.
"""

from __future__ import annotations

import datetime as dt

_STATUS_LABELS = {
    "tiep_nhan": "Tiếp nhận",
    "dang_xu_ly": "Đang xử lý",
    "cho_ky": "Chờ ký",
    "hoan_thanh": "Hoàn thành",
    "tra_lai": "Trả lại",
    "huy": "Huỷ",
}

#: The button text that moves a dossier into each status.
TRANSITION_ACTIONS = {
    "dang_xu_ly": "Chuyển xử lý",
    "cho_ky": "Trình ký",
    "hoan_thanh": "Hoàn thành (đã ký)",
    "tra_lai": "Trả lại hồ sơ",
    "huy": "Huỷ hồ sơ",
}

#: Bootstyle colour of each status (badges, timeline).
STATUS_STYLES = {
    "tiep_nhan": "info",
    "dang_xu_ly": "primary",
    "cho_ky": "warning",
    "hoan_thanh": "success",
    "tra_lai": "secondary",
    "huy": "danger",
}


def status_label(status: str | None) -> str:
    """Return the Vietnamese name of a dossier status (the code itself when unknown)."""
    if not status:
        return ""
    return _STATUS_LABELS.get(status, status)


def procedure_title(code: str | None) -> str:
    """Return the title of a procedure (``Đăng ký khai sinh``), the code when unknown."""
    if not code:
        return ""
    from desktop.forms.procedures import PROCEDURES

    procedure = PROCEDURES.get(code)
    return procedure.title if procedure is not None else code


def _parse(value: object) -> dt.datetime | dt.date | None:
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def format_date_vn(value: object) -> str:
    """Return an ISO date (or datetime) as dd/mm/yyyy; other text unchanged."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    return f"{parsed.day:02d}/{parsed.month:02d}/{parsed.year:04d}"


def format_datetime_vn(value: object, *, with_time: bool = True) -> str:
    """Return an ISO datetime as ``dd/mm/yyyy HH:MM`` (just the date for a date)."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    text = f"{parsed.day:02d}/{parsed.month:02d}/{parsed.year:04d}"
    if with_time and isinstance(parsed, dt.datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone()
        text += f" {parsed.hour:02d}:{parsed.minute:02d}"
    return text


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
