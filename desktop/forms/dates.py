"""Dates as clerks type and read them: dd/mm/yyyy in, dd/mm/yyyy (HH:MM) out.

Records keep ISO dates (``2025-03-15``) and datetimes; every screen, paper and message shows them
through the functions here, so a date is written the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["format_date_vn", "format_datetime_vn", "parse_date_vn", "parse_iso_date"]

_DATE_VN = re.compile(r"^\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})\s*$")
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_NOT_A_DATE = "Ngày phải viết theo dạng ngày/tháng/năm, ví dụ 15/03/2025."


def parse_date_vn(text: str) -> dt.date:
    """Parse a date typed the Vietnamese way: ``15/03/2025``, ``5/3/2025``, ``15-03-2025``.

    ISO ``2025-03-15`` is accepted too.

    Raises:
        ValueError: with a Vietnamese message when the text is not a date or the date is
            impossible (31/02/2025).
    """
    if not isinstance(text, str):
        raise ValueError(_NOT_A_DATE)
    m = _DATE_VN.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _DATE_ISO.match(text)
        if not m:
            raise ValueError(_NOT_A_DATE)
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if year < 1800:
        raise ValueError(f"Năm {year} không hợp lệ: hãy nhập năm đủ bốn chữ số, ví dụ 1990.")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(
            f"Ngày {day:02d}/{month:02d}/{year} không có thật: hãy kiểm tra lại ngày và tháng."
        ) from None


def parse_iso_date(value: object) -> dt.date | None:
    """Return the date of an ISO ``YYYY-MM-DD`` string, or None for anything else."""
    if not isinstance(value, str):
        return None
    m = _DATE_ISO.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _moment(value: object) -> dt.datetime | dt.date | None:
    """Return a date or datetime for a date, a datetime or an ISO text; None otherwise."""
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
    """Return a date (or an ISO date/datetime text) as ``dd/mm/yyyy``; other text unchanged.

    ``None`` gives an empty string.
    """
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d}"


def format_datetime_vn(value: object, *, with_time: bool = True) -> str:
    """Return a datetime (or ISO text) as ``dd/mm/yyyy HH:MM``; just the date for a date.

    An aware datetime is shown in this machine's local time.
    """
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    text = f"{moment.day:02d}/{moment.month:02d}/{moment.year:04d}"
    if with_time and isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone()
        text += f" {moment.hour:02d}:{moment.minute:02d}"
    return text
