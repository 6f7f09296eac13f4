"""Tests for desktop.forms.personal_id: the 12-digit personal ID number."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.forms.personal_id import (
    PersonalIdInfo,
    check_personal_id,
    decode,
    is_valid_format,
    prefix_table,
)

# --- format --------------------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["001099012345", "010301012345", "000000000000"])
def test_twelve_ascii_digits_are_valid(good: str) -> None:
    assert is_valid_format(good)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "00109901234",  # 11 digits
        "0010990123456",  # 13 digits
        "001 099 012 345",
        " 001099012345",
        "001099012345\n",
        "00109901234a",
        "123456789",  # old 9-digit CMND
        "٠٠١٠٩٩٠١٢٣٤٥",  # Arabic-Indic digits are digits to str.isdigit, not to us
        "００１０９９０１２３４５",  # full-width digits
        None,
        1099012345,
    ],
)
def test_anything_else_is_invalid(bad: object) -> None:
    assert not is_valid_format(bad)


@given(st.text())
def test_is_valid_format_never_raises(text: str) -> None:
    assert is_valid_format(text) == (len(text) == 12 and all(c in "0123456789" for c in text))


# --- decode --------------------------------------------------------------------------------------


def test_decode_hanoi_man_born_1999() -> None:
    info = decode("001099012345")
    assert info == PersonalIdInfo(
        prefix="001",
        province_name="Thành phố Hà Nội",
        century=1900,
        sex="Nam",
        birth_year_2digits=99,
        new_province_name="Thành phố Hà Nội",
    )
    assert info.birth_year == 1999


def test_decode_lao_cai_and_yen_bai_prefixes() -> None:
    lao_cai = decode("010301012345")
    assert lao_cai.province_name == "Tỉnh Lào Cai"
    assert (lao_cai.century, lao_cai.sex, lao_cai.birth_year) == (2000, "Nữ", 2001)
    # Yên Bái was merged into Lào Cai on 1/7/2025; the prefix keeps its old province name.
    yen_bai = decode("015085000001")
    assert yen_bai.province_name == "Tỉnh Yên Bái"
    assert yen_bai.new_province_name == "Tỉnh Lào Cai"


@pytest.mark.parametrize(
    ("digit", "century", "sex"),
    [
        ("0", 1900, "Nam"),
        ("1", 1900, "Nữ"),
        ("2", 2000, "Nam"),
        ("3", 2000, "Nữ"),
        ("4", 2100, "Nam"),
        ("5", 2100, "Nữ"),
        ("6", 2200, "Nam"),
        ("7", 2200, "Nữ"),
        ("8", 1800, "Nam"),
        ("9", 1800, "Nữ"),
    ],
)
def test_decode_century_and_sex_digit(digit: str, century: int, sex: str) -> None:
    info = decode(f"010{digit}05123456")
    assert (info.century, info.sex, info.birth_year) == (century, sex, century + 5)


def test_decode_unknown_prefix_has_no_province() -> None:
    info = decode("003099012345")  # 003 was never assigned
    assert info.province_name is None and info.new_province_name is None
    assert info.birth_year == 1999


def test_decode_rejects_bad_format() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        decode("12345")


def test_prefix_table_is_loaded_from_package_data_once() -> None:
    table = prefix_table()
    assert table is prefix_table()  # cached
    assert len(table) == 63  # the 63 pre-2025 provinces
    assert all(len(p) == 3 and p.isdigit() for p in table)
    assert table["010"].old_province_name == "Tỉnh Lào Cai"
    assert table["010"].new_province_code == "15"


# --- soft checks ---------------------------------------------------------------------------------


def test_check_agreeing_number_gives_no_warning() -> None:
    assert check_personal_id("001099012345", datetime.date(1999, 1, 1), "Nam") == []
    assert check_personal_id("010301012345", datetime.date(2001, 2, 2), "Nữ") == []


@pytest.mark.parametrize("sex", ["NỮ", "nữ", "Nu", "nu", " Nữ "])
def test_check_tolerates_how_sex_is_typed(sex: str) -> None:
    assert check_personal_id("010301012345", datetime.date(2001, 2, 2), sex) == []


def test_check_skips_what_is_not_entered_yet() -> None:
    assert check_personal_id("001099012345", None, None) == []
    # Unknown sex text is not judged (the form validates the sex field itself).
    assert check_personal_id("001099012345", None, "?") == []


def test_check_warns_on_sex_mismatch() -> None:
    warnings = check_personal_id("001099012345", datetime.date(1999, 1, 1), "Nữ")
    assert len(warnings) == 1
    assert "giới tính" in warnings[0] and "Nam" in warnings[0] and "Nữ" in warnings[0]


def test_check_warns_on_century_mismatch() -> None:
    warnings = check_personal_id("001099012345", datetime.date(2099, 1, 1), "Nam")
    assert len(warnings) == 1
    assert "1900" in warnings[0] and "2099" in warnings[0]


def test_check_warns_on_year_mismatch() -> None:
    warnings = check_personal_id("001099012345", datetime.date(1998, 12, 31), "Nam")
    assert len(warnings) == 1
    assert "năm sinh" in warnings[0] and "1998" in warnings[0]


def test_check_warns_on_unknown_prefix() -> None:
    warnings = check_personal_id("003099012345", datetime.date(1999, 1, 1), "Nam")
    assert len(warnings) == 1
    assert "003" in warnings[0]


def test_check_reports_every_disagreement_at_once() -> None:
    warnings = check_personal_id("999199012345", datetime.date(2005, 1, 1), "Nam")
    assert len(warnings) == 4


def test_check_bad_format_is_a_single_warning_not_an_exception() -> None:
    assert check_personal_id("12345", datetime.date(2000, 1, 1), "Nam") == [
        "Số định danh cá nhân phải gồm đúng 12 chữ số."
    ]


@given(
    st.sampled_from(sorted(prefix_table())),
    st.dates(datetime.date(1800, 1, 1), datetime.date(2299, 12, 31)),
    st.sampled_from(["Nam", "Nữ"]),
    st.integers(0, 999_999),
)
def test_a_number_built_from_the_rules_always_agrees(
    prefix: str, birth: datetime.date, sex: str, serial: int
) -> None:
    century_digit = {1800: 8, 1900: 0, 2000: 2, 2100: 4, 2200: 6}[birth.year // 100 * 100]
    century_digit += sex == "Nữ"
    number = f"{prefix}{century_digit}{birth.year % 100:02d}{serial:06d}"
    assert check_personal_id(number, birth, sex) == []
    info = decode(number)
    assert (info.birth_year, info.sex) == (birth.year, sex)


@given(st.text(max_size=20), st.one_of(st.none(), st.dates()), st.one_of(st.none(), st.text()))
def test_check_never_raises(number: str, birth: datetime.date | None, sex: str | None) -> None:
    assert all(isinstance(w, str) for w in check_personal_id(number, birth, sex))
