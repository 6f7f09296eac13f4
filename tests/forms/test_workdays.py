"""Tests of working days, the holiday table and statutory due dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.forms.procedures import get_procedure
from desktop.forms.workdays import (
    HolidayTable,
    HolidayTableError,
    add_working_days,
    due_date,
    is_working_day,
    load_holidays,
    next_working_day,
    start_day,
    working_days_between,
)

birth = get_procedure("khai_sinh")
death = get_procedure("khai_tu")
marital = get_procedure("xac_nhan_hon_nhan")
marriage = get_procedure("ket_hon")
NO_HOLIDAYS = HolidayTable(years=frozenset({2025, 2026, 2027}))


def test_shipped_table_covers_2025_to_2027_with_the_main_holidays() -> None:
    table = load_holidays()
    assert table.years == frozenset({2025, 2026, 2027})
    for d in (
        date(2025, 1, 1),
        date(2025, 1, 29),  # Tết Ất Tỵ
        date(2025, 4, 7),  # Giỗ Tổ 2025
        date(2025, 4, 30),
        date(2025, 5, 1),
        date(2025, 9, 2),
        date(2026, 2, 17),  # Tết Bính Ngọ
        date(2026, 4, 27),  # Giỗ Tổ on a Sunday, compensated Monday
        date(2027, 2, 8),  # Tết Đinh Mùi (mùng 3, a Monday)
        date(2027, 4, 16),  # Giỗ Tổ 2027
    ):
        assert not is_working_day(d), d
        assert table.name_of(d)


def test_tet_2025_is_the_announced_nine_days() -> None:
    off = [date(2025, 1, 25) + timedelta(days=i) for i in range(9)]
    assert not any(is_working_day(d) for d in off)
    assert is_working_day(date(2025, 1, 24)) and is_working_day(date(2025, 2, 3))


def test_weekends_are_off_and_a_swapped_saturday_is_worked() -> None:
    assert not is_working_day(date(2025, 3, 8))  # Saturday
    assert not is_working_day(date(2025, 3, 9))  # Sunday
    assert is_working_day(date(2025, 3, 10))  # Monday
    assert is_working_day(date(2025, 4, 26))  # Saturday worked for Friday 2 May 2025
    assert not is_working_day(date(2025, 5, 2))


def test_national_day_2026_swaps_monday_31_august_for_saturday_22_august() -> None:
    assert not is_working_day(date(2026, 8, 31))
    assert not is_working_day(date(2026, 9, 1)) and not is_working_day(date(2026, 9, 2))
    assert is_working_day(date(2026, 8, 22))  # a Saturday worked
    assert is_working_day(date(2026, 9, 3))


def test_years_outside_the_table_keep_the_fixed_solar_holidays() -> None:
    assert not is_working_day(date(2030, 1, 1))
    assert not is_working_day(date(2030, 4, 30))
    assert is_working_day(date(2030, 4, 29))


def test_a_plain_set_of_dates_works_as_a_table() -> None:
    assert not is_working_day(date(2025, 3, 10), {date(2025, 3, 10)})
    assert is_working_day(date(2025, 1, 2), {date(2025, 3, 10)})


def test_add_working_days_skips_weekends_and_holidays() -> None:
    friday = date(2025, 3, 7)
    assert add_working_days(friday, 1, NO_HOLIDAYS) == date(2025, 3, 10)
    assert add_working_days(friday, 0, NO_HOLIDAYS) == friday
    assert add_working_days(date(2025, 3, 10), 3, NO_HOLIDAYS) == date(2025, 3, 13)
    assert add_working_days(date(2025, 3, 10), -1, NO_HOLIDAYS) == friday
    # Before Tết 2025: Friday 24/1 + 1 working day → Monday 3/2.
    assert add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)


def test_working_days_between() -> None:
    assert working_days_between(date(2025, 3, 7), date(2025, 3, 10), NO_HOLIDAYS) == 1
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 7), NO_HOLIDAYS) == -1
    assert working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 10)) == 0


@settings(max_examples=100, deadline=None)
@given(start=st.dates(date(2024, 6, 1), date(2028, 6, 1)), n=st.integers(0, 40))
def test_add_working_days_lands_on_a_working_day_n_steps_on(start: date, n: int) -> None:
    table = load_holidays()
    end = add_working_days(start, n, table)
    if n:
        assert is_working_day(end, table)
        assert working_days_between(start, end, table) == n
    assert next_working_day(start, table) > start


def test_birth_received_before_15h_is_due_the_same_day() -> None:
    assert due_date(birth, datetime(2025, 3, 10, 14, 59)) == date(2025, 3, 10)
    assert due_date(death, datetime(2025, 3, 10, 8, 0)) == date(2025, 3, 10)


def test_papers_received_at_or_after_15h_roll_to_the_next_working_day() -> None:
    assert due_date(birth, datetime(2025, 3, 10, 15, 0)) == date(2025, 3, 11)
    assert due_date(birth, datetime(2025, 3, 7, 16, 30)) == date(2025, 3, 10)  # Friday → Monday
    assert start_day(marital, datetime(2025, 3, 10, 15, 30)) == date(2025, 3, 11)


def test_papers_received_on_a_day_off_count_from_the_next_working_day() -> None:
    assert due_date(birth, datetime(2025, 3, 8, 9, 0)) == date(2025, 3, 10)  # Saturday
    assert due_date(birth, datetime(2025, 4, 30, 9, 0)) == date(2025, 5, 5)


def test_marital_status_confirmation_takes_three_working_days() -> None:
    assert due_date(marital, datetime(2025, 3, 10, 9, 0)) == date(2025, 3, 13)
    assert due_date(marital, datetime(2025, 3, 12, 9, 0)) == date(2025, 3, 17)  # over a weekend
    assert due_date(marital, datetime(2025, 3, 10, 15, 1)) == date(2025, 3, 14)


def test_holidays_shift_due_dates() -> None:
    # Thursday 3 April 2025 + 3 working days: Fri 4, (weekend), Mon 7 is Giỗ Tổ → Wed 9.
    assert due_date(marital, datetime(2025, 4, 3, 9, 0)) == date(2025, 4, 9)
    assert due_date(marital, datetime(2025, 4, 3, 9, 0), holidays=NO_HOLIDAYS) == date(2025, 4, 8)
    # Across Tết 2025: received Thursday 23/1 → Fri 24, Mon 3/2, Tue 4/2.
    assert due_date(marital, datetime(2025, 1, 23, 9, 0)) == date(2025, 2, 4)


def test_marriage_is_same_day_or_five_working_days_when_extended() -> None:
    received = datetime(2025, 3, 10, 9, 0)
    assert due_date(marriage, received) == date(2025, 3, 10)
    assert due_date(marriage, received, extended=True) == date(2025, 3, 17)
    assert due_date(birth, received, extended=True) == date(2025, 3, 10)  # no extension


def test_a_plain_date_counts_as_received_before_the_cutoff() -> None:
    assert due_date(marital, date(2025, 3, 10)) == date(2025, 3, 13)


def test_load_holidays_reads_a_province_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.csv"
    path.write_text(
        "# province override\ndate,kind,name,status\n"
        "2025-03-10,off,Ngày lễ của tỉnh,official\n2025-03-15,work,Làm bù,official\n",
        encoding="utf-8",
    )
    table = load_holidays(path)
    assert not is_working_day(date(2025, 3, 10), table)
    assert is_working_day(date(2025, 3, 15), table)  # a Saturday worked
    # A province table replaces the shipped one for the years it covers.
    assert is_working_day(date(2025, 4, 7), table)
    assert due_date(birth, datetime(2025, 3, 10, 9, 0), holidays=table) == date(2025, 3, 11)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,kind\n2025-13-01,off\n", "row 2"),
        ("date,kind\n2025-03-10,holiday\n", "'off' or 'work'"),
        ("when,what\n2025-03-10,off\n", "header"),
    ],
)
def test_malformed_holiday_file_is_a_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HolidayTableError, match=message):
        load_holidays(path)


def test_a_table_with_no_working_day_fails_instead_of_looping() -> None:
    everything = HolidayTable.from_dates(
        date(2025, 1, 1) + timedelta(days=i) for i in range(366 * 11)
    )
    with pytest.raises(ValueError, match="no working day"):
        add_working_days(date(2025, 1, 1), 1, everything)
