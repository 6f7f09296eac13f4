"""How the conflict screens write what the server says: kinds, fields, values, ages, times.

Pure functions (no Tk) shared by the conflict inbox (:mod:`desktop.ui.console.inbox`) and one
conflict side by side (:mod:`desktop.ui.console.conflict_view`). The server names record keys
(``data.tre_noi_sinh``, ``status``) and sends values as stored (ISO dates, codes, Unix ms);
provincial IT reads Vietnamese labels, dd/mm/yyyy dates and names.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from desktop.console.statistics import commune_name
from desktop.forms import record_keys
from desktop.forms.dates import format_datetime_vn, parse_date_vn
from desktop.forms.fields import FieldKind
from desktop.forms.lifecycle import status_label
from desktop.forms.procedures import PROCEDURES, procedure_title
from desktop.forms.records import DATA_PREFIX
from desktop.forms.vietnamese import fold

__all__ = [
    "DEVICE_STATUS_LABELS",
    "KIND_LABELS",
    "RECORD_CHOICE",
    "STATUS_LABELS",
    "age_text",
    "commune_name",
    "count_text",
    "field_label",
    "moment_text",
    "page_text",
    "typed_value",
    "value_text",
]

#: Conflict kinds (``protocol.admin.CONFLICT_KINDS``) as provincial IT reads them.
KIND_LABELS = {
    "field": "Sửa trùng trường",
    "delete": "Xoá/huỷ và sửa",
    "duplicate": "Trùng sự kiện",
    "book_number": "Trùng số sổ",
}
#: A conflict's status.
STATUS_LABELS = {"open": "Đang mở", "resolved": "Đã giải quyết"}
#: A device's status (``protocol.admin.Delivery.status``).
DEVICE_STATUS_LABELS = {"active": "Đang dùng", "revoked": "Đã thu hồi", "cloned": "Bị sao chép"}
#: The pseudo-field of a resolution that keeps or deletes the whole record.
RECORD_CHOICE = "_record"
#: How the whole-record choice is named in the grid.
RECORD_LABEL = "Cả hồ sơ"
#: What an empty value shows.
EMPTY = "—"


def field_label(procedure: str | None, key: str) -> str:
    """Return the Vietnamese name of a record key (the whole-record choice: "Cả hồ sơ")."""
    return RECORD_LABEL if key == RECORD_CHOICE else record_keys.field_label(procedure, key)


def _field_kind(procedure: str | None, key: str) -> tuple[Any, Any] | None:
    """Return the declared field of a ``data.`` key and its procedure, or None."""
    declared = PROCEDURES.get(procedure or "")
    if declared is None or not key.startswith(DATA_PREFIX):
        return None
    name = key[len(DATA_PREFIX) :]
    return (declared, declared.field(name)) if declared.has_field(name) else None


def value_text(procedure: str | None, key: str, value: Any) -> str:
    """Return a stored value as provincial IT reads it (dates dd/mm/yyyy, names for codes)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if key == "status":
        return status_label(str(value))
    if key == "commune":
        return commune_name(str(value))
    if key == "procedure":
        return procedure_title(str(value))
    if key in ("received_at", "due_at"):
        return format_datetime_vn(value)
    found = _field_kind(procedure, key)
    if found is not None:
        from desktop.ui.screen_dossier_detail import field_display

        return field_display(found[0], key[len(DATA_PREFIX) :], value)
    return str(value)


def typed_value(procedure: str | None, key: str, text: str, like: Any = None) -> Any:
    """Return what a typed value stores: an ISO date for a date field, a number for a number.

    Args:
        procedure: the record's procedure.
        key: the record key.
        text: what provincial IT typed.
        like: a value the field holds now (its type decides for keys the form does not declare).

    Raises:
        ValueError: with a Vietnamese message for a date or number that is not one.
    """
    text = text.strip()
    if not text:
        return None
    if isinstance(like, bool):
        if fold(text) in ("co", "dung", "true", "1"):
            return True
        if fold(text) in ("khong", "sai", "false", "0"):
            return False
        raise ValueError(f"«{field_label(procedure, key)}»: hãy nhập «có» hoặc «không».")
    found = _field_kind(procedure, key)
    kind = found[1].kind if found is not None else None
    if kind is FieldKind.DATE:
        return parse_date_vn(text).isoformat()
    wants_number = kind is FieldKind.INTEGER or (
        isinstance(like, int) and not isinstance(like, bool)
    )
    if wants_number:
        if not text.isdigit():
            raise ValueError(f"«{field_label(procedure, key)}» phải là một số, ví dụ 2.")
        return int(text)
    return text


def count_text(number: int) -> str:
    """Return a count the Vietnamese way: ``10.000``."""
    return f"{number:,}".replace(",", ".")


def page_text(offset: int, shown: int, total: int) -> str:
    """Return where a page is: ``1–200 trong 10.000 xung đột`` (``Không có xung đột nào``)."""
    if total == 0 or shown == 0:
        return "Không có xung đột nào" if total == 0 else f"Hết danh sách ({count_text(total)})"
    first, last = offset + 1, offset + shown
    return f"{count_text(first)}–{count_text(last)} trong {count_text(total)} xung đột"


def age_text(created_ms: int, now_ms: int | None = None) -> str:
    """Return how long ago something happened: ``3 ngày``, ``5 giờ``, ``12 phút``."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    minutes = max(now_ms - created_ms, 0) // 60_000
    if minutes < 1:
        return "vừa xong"
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 24 * 60:
        return f"{minutes // 60} giờ"
    return f"{count_text(minutes // (24 * 60))} ngày"


def moment_text(ms: int | None) -> str:
    """Return Unix milliseconds as ``dd/mm/yyyy HH:MM`` in this PC's time (``—`` for none)."""
    if not ms:
        return EMPTY
    return format_datetime_vn(dt.datetime.fromtimestamp(ms / 1000))
