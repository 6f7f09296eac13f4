"""Tests of the declaration model: dates, names, records, procedure consistency, CCCD fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from desktop.forms.dates import format_date_vn, parse_date_vn, parse_iso_date
from desktop.forms.model import (
    Choice,
    DateOrder,
    Field,
    FieldError,
    FieldKind,
    Person,
    Procedure,
    Section,
    ValidationError,
    ValidationResult,
    full_name,
    propose_name_parts,
    record_data,
    record_fields,
)
from desktop.forms.procedures import get_procedure


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


def test_full_name_joins_parts_and_skips_an_empty_middle_name() -> None:
    assert full_name("Giàng", "A", "Xà") == "Giàng A Xà"
    assert full_name("Lò", "", "Đức") == "Lò Đức"
    assert full_name(" Nguyễn ", "Thị  Thu", "Hà") == "Nguyễn Thị Thu Hà"


def test_propose_name_parts_is_first_middle_last() -> None:
    assert propose_name_parts("Nguyễn Thị Thu Hà") == ("Nguyễn", "Thị Thu", "Hà")
    assert propose_name_parts("Lò Đức") == ("Lò", "", "Đức")
    assert propose_name_parts("Xà") == ("", "", "Xà")
    assert propose_name_parts("  ") == ("", "", "")


def test_record_data_reads_flat_and_nested_records() -> None:
    flat = {"procedure": "khai_sinh", "data.tre_ho": "Giàng", "data.tre_ten": "Xà"}
    assert record_data(flat) == {"tre_ho": "Giàng", "tre_ten": "Xà"}
    nested = {"procedure": "khai_sinh", "data": {"tre_ho": "Giàng"}}
    assert record_data(nested) == {"tre_ho": "Giàng"}
    assert record_fields({"tre_ho": "Giàng"}) == {"data.tre_ho": "Giàng"}
    assert record_data(record_fields({"a": "1", "b": "2"})) == {"a": "1", "b": "2"}


def test_validation_error_has_english_str_and_keeps_the_errors() -> None:
    errors = (FieldError("tre_ho", "Chưa nhập «Họ»"), FieldError("tre_ten", "Chưa nhập «Tên»"))
    exc = ValidationError(errors)
    assert isinstance(exc, ValueError)
    assert exc.errors == errors
    assert "2 error(s)" in str(exc) and "tre_ho" in str(exc) and "tre_ten" in str(exc)


def test_validation_result_helpers() -> None:
    result = ValidationResult((FieldError("a", "x"),), (), False, {})
    assert not result.ok
    assert result.errors_for("a") == (FieldError("a", "x"),)
    assert result.errors_for("b") == ()
    assert ValidationResult((), (), False, {}).ok


def _section(*fields: Field) -> Section:
    return Section("s", "Mục", fields)


def test_procedure_rejects_duplicate_field_names() -> None:
    with pytest.raises(ValueError, match="duplicate field"):
        Procedure(
            "x",
            "0",
            "X",
            "X",
            "X",
            (_section(Field("a", "A", section="s"), Field("a", "B", section="s")),),
        )


def test_procedure_rejects_a_field_filed_under_another_section() -> None:
    with pytest.raises(ValueError, match="not in section"):
        Procedure("x", "0", "X", "X", "X", (_section(Field("a", "A", section="other")),))


def test_procedure_rejects_rules_naming_unknown_fields() -> None:
    rule = DateOrder("a", "missing", on="a", message="m")
    with pytest.raises(ValueError, match="unknown field"):
        Procedure(
            "x", "0", "X", "X", "X", (_section(Field("a", "A", section="s")),), date_orders=(rule,)
        )


def test_procedure_rejects_choice_without_options_and_unknown_person() -> None:
    with pytest.raises(ValueError, match="no options"):
        Procedure("x", "0", "X", "X", "X", (_section(Field("a", "A", FieldKind.CHOICE, "s")),))
    with pytest.raises(ValueError, match="unknown person"):
        Procedure("x", "0", "X", "X", "X", (_section(Field("a", "A", section="s", person="p")),))
    ok = Procedure(
        "x",
        "0",
        "X",
        "X",
        "X",
        (_section(Field("p_ho_ten", "A", section="s", person="p", options=(Choice("1", "Một"),))),),
        persons=(Person("p", "P"),),
    )
    assert ok.field("p_ho_ten").option_label("1") == "Một"
    assert ok.field("p_ho_ten").option_label("9") == "9"


@dataclass
class FakeCard:
    """Stands in for forms.idcard.IdCard (same attribute names)."""

    id_number: str = "015301001234"
    old_id: str | None = None
    full_name: str = "Sùng Thị Mỷ"
    birth_date: date = date(2001, 4, 20)
    sex: str = "Nữ"
    address: str = "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai"
    issue_date: date | None = date(2021, 7, 15)


def test_person_fields_map_idcard_attributes_to_the_persons_fields() -> None:
    birth = get_procedure("khai_sinh")
    assert birth.person_fields("me") == {
        "full_name": "me_ho_ten",
        "birth_date": "me_ngay_sinh",
        "address": "me_cu_tru",
        "id_number": "me_so_dinh_danh",
    }
    death = get_procedure("khai_tu")
    mapping = death.person_fields("nguoi_chet")
    assert mapping["ho"] == "nguoi_chet_ho" and mapping["ten"] == "nguoi_chet_ten"
    assert mapping["sex"] == "nguoi_chet_gioi_tinh"


def test_a_newborn_has_no_id_card_to_scan() -> None:
    birth = get_procedure("khai_sinh")
    scannable = [p.key for p in birth.persons if p.has_id_card]
    assert scannable == ["nguoi_yeu_cau", "me", "cha"]


def test_fill_person_gives_iso_dates_and_proposes_name_parts() -> None:
    birth = get_procedure("khai_sinh")
    assert birth.fill_person("me", FakeCard()) == {
        "me_ho_ten": "Sùng Thị Mỷ",
        "me_ngay_sinh": "2001-04-20",
        "me_cu_tru": "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai",
        "me_so_dinh_danh": "015301001234",
    }
    marriage = get_procedure("ket_hon")
    filled = marriage.fill_person("vo", FakeCard())
    assert (filled["vo_ho"], filled["vo_chu_dem"], filled["vo_ten"]) == ("Sùng", "Thị", "Mỷ")
    assert filled["vo_ngay_sinh"] == "2001-04-20"


def test_every_field_names_a_person_that_exists_and_every_person_has_fields() -> None:
    for code in ("khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon"):
        procedure = get_procedure(code)
        for person in procedure.persons:
            assert procedure.fields_of(person.key), (code, person.key)
