"""Processing and cross-field rules a procedure declares (deadlines, date order, ages …).

The rules are data; ``validation.py`` checks them and ``workdays.py`` computes the due date of
a :class:`ProcessingRule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

__all__ = ["DateOrder", "Forbidden", "MinimumAge", "ProcessingRule", "RequiredWhen"]


@dataclass(frozen=True)
class ProcessingRule:
    """The statutory processing time of a procedure (see ``workdays.due_date``).

    Attributes:
        working_days: working days after the day of receipt; 0 means the result is given on
            the day the papers are received.
        extended_working_days: the longer time when conditions must be verified
            (marriage: 5 working days), or None.
        cutoff: papers received at or after this time count from the next working day
            (15:00); None for no roll-over.
        description: Vietnamese wording for the slip and the UI.
    """

    working_days: int
    extended_working_days: int | None = None
    cutoff: time | None = time(15, 0)
    description: str = ""


@dataclass(frozen=True)
class DateOrder:
    """A rule that one date comes after another (by at least ``min_years`` full years).

    Attributes:
        earlier: the field with the earlier date (e.g. the mother's date of birth).
        later: the field with the later date (e.g. the child's date of birth).
        on: the field the error is shown next to.
        message: the Vietnamese error message (names the fields, says how to fix).
        min_years: full years required between the two dates.
    """

    earlier: str
    later: str
    on: str
    message: str
    min_years: int = 0


@dataclass(frozen=True)
class MinimumAge:
    """A person must be at least ``years`` full years old on the registration date.

    Attributes:
        birth_field: the field with the person's date of birth.
        years: the minimum age in full years.
        message: the Vietnamese error message.
    """

    birth_field: str
    years: int
    message: str


@dataclass(frozen=True)
class RequiredWhen:
    """A field becomes required when another field holds one of some values.

    Attributes:
        field: the field that becomes required.
        when: the field whose value decides.
        values: the values of ``when`` that make ``field`` required.
    """

    field: str
    when: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Forbidden:
    """A combination of values that cannot go together (e.g. married + purpose marriage).

    Attributes:
        values: ``{field: value}`` pairs that must not all hold at once.
        on: the field the error is shown next to.
        message: the Vietnamese error message.
    """

    values: tuple[tuple[str, str], ...]
    on: str
    message: str
