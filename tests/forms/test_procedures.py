"""Tests of the four procedure declarations and the registry."""

from __future__ import annotations

import re

import pytest

from desktop.forms.fields import FieldKind
from desktop.forms.procedures import (
    PROCEDURES,
    all_procedures,
    get_procedure,
    procedure_by_national_code,
)
from desktop.forms.reference import procedures_catalog
from desktop.forms.validation import validate
from tests.forms.samples import RECEIVED, SAMPLES, TODAY

CODES = ("khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon")


def test_registry_holds_the_four_procedures_with_their_identities() -> None:
    assert list(PROCEDURES) == list(CODES)
    expected = {
        "khai_sinh": ("1.001193", "Giấy khai sinh", "KS"),
        "khai_tu": ("1.000656", "Trích lục khai tử", "KT"),
        "xac_nhan_hon_nhan": ("1.004873", "Giấy xác nhận tình trạng hôn nhân", "XNHN"),
        "ket_hon": ("1.000894", "Giấy chứng nhận kết hôn", "KH"),
    }
    for code, (national, document, book) in expected.items():
        p = get_procedure(code)
        assert (p.national_code, p.result_document, p.book_type) == (national, document, book)
        assert procedure_by_national_code(national) is p
    assert [p.code for p in all_procedures()] == list(CODES)


def test_national_codes_and_documents_agree_with_the_portal_catalog() -> None:
    catalog = {row["code"]: row for row in procedures_catalog()}
    for p in all_procedures():
        row = catalog[p.national_code]
        assert p.result_document in row["result_documents"]


def test_unknown_procedure_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="unknown procedure 'khai_sinhh'.*khai_sinh"):
        get_procedure("khai_sinhh")
    with pytest.raises(ValueError):
        get_procedure(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        procedure_by_national_code("9.999999")


@pytest.mark.parametrize("code", CODES)
def test_fields_are_well_formed(code: str) -> None:
    p = get_procedure(code)
    names = [f.name for f in p.fields]
    assert len(names) == len(set(names))
    for f in p.fields:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", f.name), f.name
        assert f.label and f.label == f.label.strip()
        assert f.max_length > 0
        if f.kind is FieldKind.CHOICE:
            assert f.options
        if f.kind is FieldKind.PERSONAL_ID:
            assert f.searchable and f.idcard_attr == "id_number"
    # Tab order is paper order: the flat list is the sections' fields in order.
    assert names == [f.name for s in p.sections for f in s.fields]


# Lines of the TT 04/2024/TT-BTP declaration and certificate each procedure must carry.
REQUIRED_LINES = {
    "khai_sinh": [
        "nguoi_yeu_cau_ho_ten",
        "nguoi_yeu_cau_so_dinh_danh",
        "nguoi_yeu_cau_quan_he",
        "tre_ho",
        "tre_ten",
        "tre_gioi_tinh",
        "tre_ngay_sinh",
        "tre_noi_sinh",
        "tre_dan_toc",
        "tre_quoc_tich",
        "me_ho_ten",
        "me_dan_toc",
        "me_quoc_tich",
        "me_cu_tru",
    ],
    "khai_tu": [
        "nguoi_yeu_cau_ho_ten",
        "nguoi_chet_ho",
        "nguoi_chet_ten",
        "nguoi_chet_ngay_sinh",
        "nguoi_chet_gioi_tinh",
        "ngay_chet",
        "noi_chet",
        "nguyen_nhan_chet",
    ],
    "xac_nhan_hon_nhan": [
        "nguoi_duoc_xac_nhan_ho",
        "nguoi_duoc_xac_nhan_ten",
        "nguoi_duoc_xac_nhan_ngay_sinh",
        "nguoi_duoc_xac_nhan_cu_tru",
        "nguoi_duoc_xac_nhan_cu_tru_xa",
        "tinh_trang_hon_nhan",
        "muc_dich",
    ],
    "ket_hon": [
        "vo_ho",
        "vo_ten",
        "vo_ngay_sinh",
        "vo_so_dinh_danh",
        "vo_lan_ket_hon",
        "chong_ho",
        "chong_ten",
        "chong_ngay_sinh",
        "chong_so_dinh_danh",
        "chong_lan_ket_hon",
    ],
}
OPTIONAL_LINES = {
    "khai_sinh": [
        "tre_chu_dem",
        "tre_que_quan",
        "tre_so_dinh_danh",
        "me_so_dinh_danh",
        "cha_ho_ten",
        "cha_ngay_sinh",
        "cha_cu_tru",
        "giay_chung_sinh_so",
        "so_ban_sao",
    ],
    "khai_tu": ["gio_chet", "giay_bao_tu_so", "giay_bao_tu_noi_cap", "giay_bao_tu_ngay_cap"],
    "xac_nhan_hon_nhan": ["thoi_gian_cu_tru_tu", "thoi_gian_cu_tru_den", "ket_hon_voi_ho_ten"],
    "ket_hon": ["vo_chu_dem", "chong_chu_dem", "dien_thoai"],
}


@pytest.mark.parametrize("code", CODES)
def test_declaration_carries_every_line_of_the_paper_form(code: str) -> None:
    p = get_procedure(code)
    for name in REQUIRED_LINES[code]:
        assert p.field(name).required, name
    for name in OPTIONAL_LINES[code]:
        assert not p.field(name).required, name


def test_people_sorted_by_name_have_split_names_and_others_a_full_name() -> None:
    split = {
        "khai_sinh": {"tre"},
        "khai_tu": {"nguoi_chet"},
        "xac_nhan_hon_nhan": {"nguoi_duoc_xac_nhan"},
        "ket_hon": {"vo", "chong"},
    }
    for code, persons in split.items():
        p = get_procedure(code)
        for person in p.persons:
            if person.key in persons:
                assert person.split_name
                for part in ("ho", "chu_dem", "ten"):
                    assert p.field(f"{person.key}_{part}").kind is FieldKind.NAME
            else:
                assert not person.split_name
                assert p.field(f"{person.key}_ho_ten").kind is FieldKind.NAME


def test_birth_date_in_words_is_derived_and_read_only() -> None:
    words = get_procedure("khai_sinh").field("tre_ngay_sinh_bang_chu")
    assert words.kind is FieldKind.DATE_IN_WORDS
    assert words.derived_from == "tre_ngay_sinh" and words.read_only
    assert get_procedure("khai_tu").field("ngay_chet_bang_chu").derived_from == "ngay_chet"


def test_deadlines_and_processing_rules() -> None:
    birth, death = get_procedure("khai_sinh"), get_procedure("khai_tu")
    marital, marriage = get_procedure("xac_nhan_hon_nhan"), get_procedure("ket_hon")
    assert (birth.event_deadline_days, birth.event_date_field) == (60, "tre_ngay_sinh")
    assert (death.event_deadline_days, death.event_date_field) == (15, "ngay_chet")
    assert marital.event_deadline_days is None and marriage.event_deadline_days is None
    assert birth.processing.working_days == 0 and death.processing.working_days == 0
    assert marital.processing.working_days == 3
    assert (marriage.processing.working_days, marriage.processing.extended_working_days) == (0, 5)


@pytest.mark.parametrize("code", CODES)
def test_samples_are_valid(code: str) -> None:
    result = validate(get_procedure(code), SAMPLES[code], today=TODAY, received_at=RECEIVED)
    assert result.errors == ()
    assert not result.late


def test_display_names_summarise_the_dossier() -> None:
    assert get_procedure("khai_sinh").display_name(SAMPLES["khai_sinh"]) == "Giàng A Xà"
    assert get_procedure("khai_tu").display_name(SAMPLES["khai_tu"]) == "Lò Văn Đức"
    assert get_procedure("ket_hon").display_name(SAMPLES["ket_hon"]) == "Thào A Chứ – Sùng Thị Mai"
    assert get_procedure("khai_sinh").display_name({}) == "(chưa có tên)"


def test_search_terms_hold_names_and_id_numbers() -> None:
    terms = get_procedure("khai_sinh").search_terms(SAMPLES["khai_sinh"])
    assert "Giàng A Xà" in terms and "Sùng Thị Mỷ" in terms
    assert "015301001234" in terms and "015095001234" in terms
    assert len(terms) == len(set(terms))
    assert "" not in terms
    marital = get_procedure("xac_nhan_hon_nhan").search_terms(SAMPLES["xac_nhan_hon_nhan"])
    assert "Vàng Thị Dua" in marital


def test_birth_duplicate_key_ignores_diacritics_and_case() -> None:
    p = get_procedure("khai_sinh")
    key = p.duplicate_key(SAMPLES["khai_sinh"])
    assert key == ("khai_sinh", "id:015301001234", "2026-02-15", "name:giang a xa")
    retyped = dict(SAMPLES["khai_sinh"], tre_ho="GIÀNG", tre_ten="xa", tre_so_dinh_danh="")
    assert p.duplicate_key(retyped) == key
    other_child = dict(SAMPLES["khai_sinh"], tre_ten="Páo")
    assert p.duplicate_key(other_child) != key


def test_birth_duplicate_key_falls_back_to_the_mothers_folded_name() -> None:
    p = get_procedure("khai_sinh")
    data = dict(SAMPLES["khai_sinh"], me_so_dinh_danh="")
    assert p.duplicate_key(data)[1] == "name:sung thi my"  # type: ignore[index]
    assert p.duplicate_key(dict(data, tre_ngay_sinh="")) is None
    assert p.duplicate_key({}) is None


def test_other_duplicate_keys() -> None:
    death = get_procedure("khai_tu")
    assert death.duplicate_key(SAMPLES["khai_tu"]) == ("khai_tu", "id:015050009876", "2026-03-01")
    no_id = dict(SAMPLES["khai_tu"], nguoi_chet_so_dinh_danh="")
    assert death.duplicate_key(no_id) == ("khai_tu", "name:lo van duc", "2026-03-01")
    marriage = get_procedure("ket_hon")
    assert marriage.duplicate_key(SAMPLES["ket_hon"]) == (
        "ket_hon",
        "id:015306007777",
        "id:015204008888",
    )
    marital = get_procedure("xac_nhan_hon_nhan")
    key = marital.duplicate_key(SAMPLES["xac_nhan_hon_nhan"])
    assert key is not None and key[0] == "xac_nhan_hon_nhan" and "ket_hon" in key
    assert marital.duplicate_key({"muc_dich": "ket_hon"}) is None


def test_duplicate_key_survives_garbage() -> None:
    p = get_procedure("khai_sinh")
    assert p.duplicate_key({"me_so_dinh_danh": 5, "tre_ngay_sinh": object()}) is None


def test_applicant_of_each_procedure() -> None:
    birth = get_procedure("khai_sinh").applicant(SAMPLES["khai_sinh"])
    assert birth == {
        "name": "Giàng A Páo",
        "id_number": "015095001234",
        "phone": "0912345678",
        "address": "Bản Hồ Bốn, xã Khao Mang, tỉnh Lào Cai",
    }
    marriage = get_procedure("ket_hon").applicant(SAMPLES["ket_hon"])
    assert marriage["name"] == "Thào A Chứ và Sùng Thị Mai"
    assert marriage["phone"] == "0987654321"


def test_defaults_prefill_nationality() -> None:
    defaults = get_procedure("khai_sinh").defaults()
    assert defaults["tre_quoc_tich"] == "Việt Nam"
    assert defaults["me_quoc_tich"] == "Việt Nam"
    assert "cha_quoc_tich" not in defaults  # the father may be unknown
    assert defaults["tre_noi_sinh_tinh"] == "15"


def test_docs_procedures_md_is_generated_from_the_declarations() -> None:
    from pathlib import Path

    from desktop.forms.describe import procedures_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "procedures.md"
    assert doc.read_text(encoding="utf-8") == procedures_markdown(), (
        "docs/procedures.md is stale: run python -m desktop.forms.describe > docs/procedures.md"
    )
