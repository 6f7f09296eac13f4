"""The dossier count cube for provincial IT's statistics (``stats.dossiers``).

Counts of live dossiers by commune, procedure, status, week or month of receipt, late
registration and processing against the promised date: ``on_time`` (finished on or before
``due_at``), ``late`` (finished after it), ``open`` (not finished, not yet due), ``overdue``
(past due, not finished) and ``cancelled`` (huỷ). "Today" is the server clock's local date
(UTC+7); a dossier's finish date is the local date of the device clock that set it
``hoan_thanh`` or ``tra_lai``. The counting is done by
the database on the fact columns of ``records`` (:mod:`server.dossier_facts`).
"""

from __future__ import annotations

from protocol.admin import StatsRow
from server.dossier_facts import local_date
from server.storage import Tx

__all__ = ["dossier_stats"]


def dossier_stats(
    tx: Tx, period: str, since: str | None, until: str | None, now: int
) -> list[StatsRow]:
    """Answer ``stats.dossiers``: the cube by ``week`` or ``month``, oldest period first."""
    rows = tx.dossier_cube(period, since, until, local_date(now))
    return [
        {
            "commune": str(r["commune"]),
            "procedure": str(r["procedure"]),
            "status": str(r["status"] or ""),
            "period": str(r["period_start"]),
            "late_registration": bool(r["late"]),
            "processing": str(r["processing"]),
            "count": int(r["count"]),
        }
        for r in rows
    ]
