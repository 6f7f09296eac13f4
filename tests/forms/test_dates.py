"""Tests of dd/mm/yyyy and ISO dates as clerks type them and the store keeps them."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.forms.dates import format_date_vn, parse_date_vn, parse_iso_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/03/2025", date(2025, 3, 15)),
        ("5/3/2025", date(2025, 3, 5)),
        ("15-03-2025", date(2025, 3, 15)),
        ("15.03.2025", date(2025, 3, 15)),
        (" 01/01/1990 ", date(1990, 1, 1)),
        ("2025-03-15", date(2025, 3, 15)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_parse_date_vn_accepts_the_ways_clerks_type_dates(text: str, expected: date) -> None:
    assert parse_date_vn(text) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "29/02/2025", "00/01/2025", "15/13/2025"])
def test_parse_date_vn_rejects_impossible_dates_with_a_vietnamese_message(text: str) -> None:
    with pytest.raises(ValueError, match="không có thật"):
        parse_date_vn(text)


@pytest.mark.parametrize("text", ["", "hôm qua", "15/03/25", "2025/03/15", "15/03/2025x"])
def test_parse_date_vn_rejects_text_that_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="ngày/tháng/năm"):
        parse_date_vn(text)


def test_format_date_vn_pads_day_and_month() -> None:
    assert format_date_vn(date(2025, 3, 5)) == "05/03/2025"
    assert parse_date_vn(format_date_vn(date(1999, 12, 31))) == date(1999, 12, 31)


def test_parse_iso_date_returns_none_for_anything_but_a_real_iso_date() -> None:
    assert parse_iso_date("2025-03-15") == date(2025, 3, 15)
    assert parse_iso_date("2025-02-30") is None
    assert parse_iso_date("15/03/2025") is None
    assert parse_iso_date(20250315) is None
