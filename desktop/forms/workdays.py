"""Statutory processing time: working days, Vietnamese public holidays, the 15:00 roll-over.

A working day is Monday to Friday, except public holidays and their compensation days, plus
any weekend day worked in exchange (ngày làm bù). The table ships in
``desktop/forms/data/holidays.csv`` for 2025-2027; a province replaces it through its
configuration by passing its own file to :func:`load_holidays`. For a year the table does not
cover, only the fixed solar holidays (1/1, 30/4, 1/5, 2/9) are known.

Papers received at or after the procedure's cut-off time (15:00) count from the next working
day, as do papers received on a day off.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.forms.model import Procedure

__all__ = [
    "HolidayTable",
    "HolidayTableError",
    "add_working_days",
    "due_date",
    "is_working_day",
    "load_holidays",
    "next_working_day",
    "start_day",
    "working_days_between",
]

FIXED_SOLAR_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))
"""(month, day) of holidays that fall on the same solar date every year."""

_MAX_STEPS = 3660
"""Guard against a malformed table marking every day off: never search more than ~10 years."""


class HolidayTableError(ValueError):
    """A holiday file that cannot be read (the message names the line)."""


@dataclass(frozen=True)
class HolidayTable:
    """Days off and worked weekend days for the years the table covers.

    Attributes:
        days_off: dates with no work (holidays and their compensation days).
        extra_workdays: weekend dates worked in exchange (ngày làm bù).
        years: the years the table covers; other years use the fixed solar holidays.
        names: a Vietnamese name per listed date.
    """

    days_off: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()
    names: Mapping[date, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dates(cls, dates: Iterable[date]) -> HolidayTable:
        """Build a table from a plain set of days off (covering the years they fall in)."""
        days = frozenset(dates)
        return cls(days_off=days, years=frozenset(d.year for d in days))

    def is_day_off(self, d: date) -> bool:
        """Whether ``d`` is a holiday (ignoring weekends)."""
        if d.year in self.years:
            return d in self.days_off
        return (d.month, d.day) in FIXED_SOLAR_HOLIDAYS or d in self.days_off

    def name_of(self, d: date) -> str | None:
        """Return the holiday's name for a listed date, or None."""
        return self.names.get(d)


HolidaysArg = HolidayTable | Iterable[date] | None


def _parse_table(text: str, source: str) -> HolidayTable:
    """Parse the CSV holiday format (``#`` comment lines, header date,kind,name,status)."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if reader.fieldnames is None or not {"date", "kind"} <= set(reader.fieldnames):
        raise HolidayTableError(f"{source}: header must have the columns date,kind[,name,status]")
    off: set[date] = set()
    work: set[date] = set()
    names: dict[date, str] = {}
    for number, row in enumerate(reader, start=2):
        try:
            d = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            raise HolidayTableError(
                f"{source}: data row {number}: {row.get('date')!r} is not a YYYY-MM-DD date"
            ) from None
        kind = (row.get("kind") or "").strip()
        if kind == "off":
            off.add(d)
        elif kind == "work":
            work.add(d)
        else:
            raise HolidayTableError(
                f"{source}: data row {number}: kind must be 'off' or 'work', not {kind!r}"
            )
        names[d] = (row.get("name") or "").strip()
    years = frozenset(d.year for d in off | work)
    return HolidayTable(frozenset(off), frozenset(work), years, names)


@cache
def _shipped_table() -> HolidayTable:
    text = resources.files("desktop.forms").joinpath("data", "holidays.csv").read_text("utf-8")
    return _parse_table(text, "holidays.csv")


def load_holidays(path: str | Path | None = None) -> HolidayTable:
    """Load a holiday table: the shipped one, or a province's file of the same format.

    Args:
        path: a CSV file (``date,kind,name,status``; ``#`` lines are comments); None for the
            table shipped in the package (2025-2027).

    Raises:
        HolidayTableError: the file is malformed (the message names the row).
        OSError: the file cannot be read.
    """
    if path is None:
        return _shipped_table()
    p = Path(path)
    return _parse_table(p.read_text(encoding="utf-8"), str(p))


def _table(holidays: HolidaysArg) -> HolidayTable:
    """Accept a table, a plain set of dates, or None (the shipped table)."""
    if holidays is None:
        return _shipped_table()
    if isinstance(holidays, HolidayTable):
        return holidays
    return HolidayTable.from_dates(holidays)


def is_working_day(d: date, holidays: HolidaysArg = None) -> bool:
    """Whether the commune office works on ``d``.

    Args:
        d: the day.
        holidays: a :class:`HolidayTable`, a set of days off, or None for the shipped table.
    """
    table = _table(holidays)
    if d in table.extra_workdays:
        return True
    return d.weekday() < 5 and not table.is_day_off(d)


def next_working_day(d: date, holidays: HolidaysArg = None) -> date:
    """Return the first working day strictly after ``d``."""
    return add_working_days(d, 1, holidays)


def add_working_days(start: date, n: int, holidays: HolidaysArg = None) -> date:
    """Return the date ``n`` working days after ``start`` (before it when ``n`` < 0).

    ``start`` itself is not counted; ``n == 0`` returns ``start`` unchanged.

    Raises:
        ValueError: the table leaves no working day within ten years.
    """
    table = _table(holidays)
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    day = start
    steps = 0
    while remaining:
        day += timedelta(days=step)
        steps += 1
        if steps > _MAX_STEPS + abs(n) * 7:
            raise ValueError("the holiday table leaves no working day within ten years")
        if is_working_day(day, table):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, holidays: HolidaysArg = None) -> int:
    """Count working days after ``start`` up to and including ``end`` (negative if reversed).

    ``working_days_between(received, today)`` tells how many working days a dossier has run.
    """
    if end < start:
        return -working_days_between(end, start, holidays)
    table = _table(holidays)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, table):
            count += 1
    return count


def start_day(
    procedure: Procedure, received_at: datetime | date, holidays: HolidaysArg = None
) -> date:
    """Return the working day the processing time counts from.

    That is the day of receipt, unless the papers came on a day off or at/after the
    procedure's cut-off time (15:00): then the next working day.
    """
    table = _table(holidays)
    if isinstance(received_at, datetime):
        day = received_at.date()
        cutoff = procedure.processing.cutoff
        late_in_day = cutoff is not None and received_at.time().replace(tzinfo=None) >= cutoff
    else:
        day, late_in_day = received_at, False
    if late_in_day or not is_working_day(day, table):
        return next_working_day(day, table)
    return day


def due_date(
    procedure: Procedure,
    received_at: datetime | date,
    *,
    holidays: HolidaysArg = None,
    extended: bool = False,
) -> date:
    """Return the date the result is promised (hẹn trả) for papers received at ``received_at``.

    Same-day procedures (birth, death, marriage) are due on the start day; others
    ``working_days`` after it (marital-status confirmation: 3).

    Args:
        procedure: the procedure (its ``processing`` rule decides).
        received_at: when the complete papers were received (local time; a plain date counts
            as received before the cut-off).
        holidays: a :class:`HolidayTable`, a set of days off, or None for the shipped table.
        extended: use the longer time when conditions must be verified (marriage: 5 working
            days); ignored for procedures without one.
    """
    table = _table(holidays)
    rule = procedure.processing
    n = rule.working_days
    if extended and rule.extended_working_days is not None:
        n = rule.extended_working_days
    return add_working_days(start_day(procedure, received_at, table), n, table)
