"""A dossier's facts for statistics and the conflict inbox, kept in columns of ``records``.

Counting a province's dossiers by commune, procedure, status, week or month, late registration
and on-time processing must not parse every record's JSON: :func:`dossier_facts` derives those
facts from a record's values, and every write of a record (:func:`server.changes.record_version`)
stores them next to the values. The date a dossier was finished is not in its values: it is the
local date (UTC+7) of the device clock of the change that set the status ``hoan_thanh`` or
``tra_lai`` (:func:`finished_on`); a cancelled dossier is counted apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from desktop.forms.dates import parse_iso_date
from desktop.forms.lifecycle import HOAN_THANH, STATUS_FIELD, TRA_LAI

#: Statuses that end the processing: the result (a certificate, or the papers returned with the
#: reason in writing) is handed over. A cancelled dossier (huỷ) is counted apart.
FINISHED = (HOAN_THANH, TRA_LAI)

__all__ = [
    "FACT_COLUMNS",
    "LOCAL_TZ",
    "clock_ms",
    "dossier_facts",
    "finished_on",
    "local_date",
]

#: Vietnam's time zone: the dates clerks work by.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))
#: The ``records`` columns :func:`dossier_facts` fills (``finished_on`` is kept apart).
FACT_COLUMNS = (
    "procedure",
    "status",
    "received_on",
    "received_week",
    "received_month",
    "due_on",
    "late",
)


def _date_of(value: object) -> dt.date | None:
    """Return the date an ISO date or datetime text starts with, or None."""
    return parse_iso_date(value[:10]) if isinstance(value, str) else None


def _code(value: object, size: int) -> str | None:
    """Return a short code value (procedure, status) that fits its column, or None."""
    return value if isinstance(value, str) and 0 < len(value) <= size else None


def dossier_facts(entity: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fact columns of a record (all None for anything but a dossier)."""
    if entity != "dossier":
        return dict.fromkeys(FACT_COLUMNS)
    received = _date_of(values.get("received_at"))
    due = _date_of(values.get("due_at"))
    return {
        "procedure": _code(values.get("procedure"), 32),
        "status": _code(values.get(STATUS_FIELD), 16),
        "received_on": received.isoformat() if received else None,
        "received_week": (received - dt.timedelta(days=received.weekday())).isoformat()
        if received
        else None,
        "received_month": received.replace(day=1).isoformat() if received else None,
        "due_on": due.isoformat() if due else None,
        "late": bool(values.get("late")),
    }


def clock_ms(hlc: str | None) -> int | None:
    """Return the physical time (Unix ms) of a hybrid logical clock stamp, or None."""
    head = (hlc or "").split("-", 1)[0]
    return int(head) if head.isdigit() and len(head) <= 15 else None


def local_date(ms: int) -> str:
    """Return the ISO local date (UTC+7) of a Unix ms time."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=LOCAL_TZ).date().isoformat()


def finished_on(
    before: Mapping[str, Any] | None,
    before_finished: str | None,
    writes: Mapping[str, Any],
    hlc: str | None,
) -> str | None:
    """Return a dossier's finish date after a version that sets ``writes``.

    Args:
        before: the record's values before the version (None for a create).
        before_finished: its finish date before the version.
        writes: the fields the version sets.
        hlc: the clock stamp of the change making the version.
    """
    if STATUS_FIELD not in writes:
        return before_finished
    if writes[STATUS_FIELD] not in FINISHED:
        return None
    if before is not None and before.get(STATUS_FIELD) in FINISHED and before_finished:
        return before_finished  # finished already: a later rewrite of the status is no finish
    ms = clock_ms(hlc)
    return local_date(ms) if ms is not None else None
