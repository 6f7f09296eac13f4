"""Statistics tables for provincial IT, built from the server's count cube.

The server answers ``stats.dossiers`` with counts per commune, procedure, status, period,
late registration and processing outcome (:class:`protocol.admin.StatsRow`). This module folds
that cube into the tables the statistics screen shows and the Excel export writes — the same
:class:`Table` objects for both, so the file always holds the numbers on the screen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from desktop.forms.lifecycle import STATUSES, status_label
from desktop.forms.procedures import PROCEDURES, procedure_title
from desktop.forms.reference import commune_by_code
from desktop.forms.vietnamese import collation_key
from protocol.admin import StatsRow

__all__ = [
    "PROCESSING_LABELS",
    "TOTAL",
    "Table",
    "build_tables",
    "by_commune_and_procedure",
    "by_period",
    "by_status",
    "commune_name",
    "timeliness",
]

#: How a dossier's processing stands against the date promised on its receipt slip.
PROCESSING_LABELS = {
    "on_time": "Trả đúng hẹn",
    "late": "Trả trễ hẹn",
    "open": "Đang giải quyết (chưa đến hẹn)",
    "overdue": "Quá hẹn chưa trả",
    "cancelled": "Đã huỷ",
}
#: The label of the totals row and column.
TOTAL = "Tổng"


@dataclass(frozen=True)
class Table:
    """A titled table of counts: what the screen shows and what the Excel export writes.

    Attributes:
        key: a short stable name (the sheet name in the export).
        title: the Vietnamese title.
        columns: the Vietnamese column headers.
        rows: the rows, each as long as ``columns`` (text labels first, then counts).
        chart_column: the column a bar chart of this table draws, or None.
    """

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int, ...], ...]
    chart_column: int | None = None

    def column(self, header: str) -> list[str | int]:
        """Return the values of the column named ``header``."""
        index = self.columns.index(header)
        return [row[index] for row in self.rows]


def commune_name(code: str) -> str:
    """Return a commune's name for tables (``Xã Bát Xát``), the code when unknown."""
    commune = commune_by_code(code)
    return commune.name if commune is not None else code


def _procedures(rows: Iterable[StatsRow]) -> list[str]:
    seen = {r["procedure"] for r in rows}
    ordered = [code for code in PROCEDURES if code in seen]
    return ordered + sorted(seen - set(ordered))


def _pivot(
    rows: Sequence[StatsRow],
    key: Callable[[StatsRow], str],
    label: Callable[[str], str],
    order: Callable[[list[str]], list[str]],
) -> tuple[list[str], list[tuple[str | int, ...]]]:
    """Count rows by ``key`` × procedure; return the procedure codes and the table rows."""
    procedures = _procedures(rows)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[key(row)][row["procedure"]] += row["count"]
    out: list[tuple[str | int, ...]] = []
    for name in order(list(counts)):
        cells = [counts[name].get(p, 0) for p in procedures]
        out.append((label(name), *cells, sum(cells)))
    totals = [sum(counts[n].get(p, 0) for n in counts) for p in procedures]
    out.append((TOTAL, *totals, sum(totals)))
    return procedures, out


def _headers(first: str, procedures: list[str]) -> tuple[str, ...]:
    return (first, *(procedure_title(p, short=True) for p in procedures), TOTAL)


def by_commune_and_procedure(rows: Sequence[StatsRow]) -> Table:
    """Return dossiers per commune (rows, by name) and procedure (columns), with totals."""
    procedures, table = _pivot(
        rows,
        lambda r: r["commune"],
        commune_name,
        lambda codes: sorted(codes, key=lambda code: collation_key(commune_name(code))),
    )
    return Table(
        "xa_thu_tuc",
        "Số hồ sơ theo xã và thủ tục",
        _headers("Xã", procedures),
        tuple(table),
        chart_column=len(procedures) + 1,
    )


def by_status(rows: Sequence[StatsRow]) -> Table:
    """Return dossiers per status (rows, in lifecycle order) and procedure (columns)."""
    procedures, table = _pivot(
        rows,
        lambda r: r["status"],
        status_label,
        lambda found: [s for s in STATUSES if s in found] + sorted(set(found) - set(STATUSES)),
    )
    return Table(
        "trang_thai", "Số hồ sơ theo trạng thái", _headers("Trạng thái", procedures), tuple(table)
    )


def timeliness(rows: Sequence[StatsRow]) -> Table:
    """Return, per procedure, registrations on time or late (event deadline) and processing
    on time, late, open or overdue against the date promised."""
    procedures = _procedures(rows)
    columns = (
        "Thủ tục",
        "Đăng ký đúng hạn",
        "Đăng ký quá hạn",
        *PROCESSING_LABELS.values(),
        TOTAL,
    )
    out: list[tuple[str | int, ...]] = []
    for code in [*procedures, None]:
        mine = [r for r in rows if code is None or r["procedure"] == code]
        on_time = sum(r["count"] for r in mine if not r["late_registration"])
        late = sum(r["count"] for r in mine if r["late_registration"])
        processing = [
            sum(r["count"] for r in mine if r["processing"] == k) for k in PROCESSING_LABELS
        ]
        title = TOTAL if code is None else procedure_title(code)
        out.append((title, on_time, late, *processing, on_time + late))
    return Table("dung_han", "Đúng hạn và quá hạn theo thời hạn luật định", columns, tuple(out))


def by_period(rows: Sequence[StatsRow], period: str) -> Table:
    """Return dossiers per week or month (rows, oldest first) and procedure (columns).

    Args:
        rows: the cube, counted by ``period`` already (the server groups by it).
        period: ``week`` or ``month`` (for the column title).
    """

    def label(start: str) -> str:
        year, month, day = start.split("-")
        return f"Tháng {month}/{year}" if period == "month" else f"Tuần từ {day}/{month}/{year}"

    procedures, table = _pivot(rows, lambda r: r["period"], label, sorted)
    first = "Tháng" if period == "month" else "Tuần"
    title = "Số hồ sơ theo tháng" if period == "month" else "Số hồ sơ theo tuần"
    key = "theo_thang" if period == "month" else "theo_tuan"
    return Table(key, title, _headers(first, procedures), tuple(table), len(procedures) + 1)


def build_tables(rows: Sequence[StatsRow], period: str) -> list[Table]:
    """Return every statistics table, in the order the screen and the export show them."""
    return [
        by_commune_and_procedure(rows),
        by_status(rows),
        timeliness(rows),
        by_period(rows, period),
    ]
