"""Tests of the Procedure declaration: consistency checks, persons, CCCD fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from desktop.forms.fields import Choice, Field, FieldKind, Person, Section
from desktop.forms.model import Procedure
from desktop.forms.procedures import get_procedure
from desktop.forms.rules import DateOrder


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
