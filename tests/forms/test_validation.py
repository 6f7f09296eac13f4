"""Tests of dossier validation: every rule, and that validation never raises."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.forms.fields import FieldKind
from desktop.forms.procedures import all_procedures, get_procedure
from desktop.forms.validation import check_field, validate
from tests.forms.samples import BIRTH, DEATH, MARITAL_STATUS, MARRIAGE, RECEIVED, TODAY

birth = get_procedure("khai_sinh")
death = get_procedure("khai_tu")
marital = get_procedure("xac_nhan_hon_nhan")
marriage = get_procedure("ket_hon")


def run(procedure: Any, data: dict[str, Any], **kw: Any) -> Any:
    kw.setdefault("today", TODAY)
    kw.setdefault("received_at", RECEIVED)
    return validate(procedure, data, **kw)


def error_fields(result: Any) -> set[str]:
    return {e.field for e in result.errors}


# -- required fields ----------------------------------------------------------------------


def test_missing_required_field_names_the_field_by_its_label() -> None:
    result = run(birth, dict(BIRTH, tre_ten=""))
    assert error_fields(result) == {"tre_ten"}
    (error,) = result.errors
    assert "«Tên» (Người được khai sinh)" in error.message
    assert "bắt buộc" in error.message


def test_empty_data_lists_every_required_field() -> None:
    result = run(birth, {})
    required = {f.name for f in birth.fields if f.required}
    assert error_fields(result) == required


def test_optional_fields_may_stay_empty() -> None:
    data = {k: v for k, v in BIRTH.items() if not k.startswith("cha_")}
    assert run(birth, data).errors == ()


def test_whitespace_only_counts_as_empty() -> None:
    assert "tre_ho" in error_fields(run(birth, dict(BIRTH, tre_ho="   \t")))


# -- normalisation ------------------------------------------------------------------------


def test_normalized_data_is_cleaned_and_complete() -> None:
    data = dict(
        BIRTH,
        tre_ho="  Giàng ",
        tre_ten="Xa\u0300",  # decomposed: X a + combining grave
        tre_gioi_tinh="NAM",
        tre_ngay_sinh="15/02/2026",
        tre_dan_toc="H’Mông",
        tre_quoc_tich="viet nam",
        me_so_dinh_danh="015 301 001 234",
        so_ban_sao="02",
        unknown_key="ignored",
    )
    result = run(birth, data)
    assert result.errors == ()
    n = result.normalized
    assert n["tre_ho"] == "Giàng" and n["tre_ten"] == "Xà"
    assert n["tre_gioi_tinh"] == "Nam"
    assert n["tre_ngay_sinh"] == "2026-02-15"
    assert n["tre_dan_toc"] == "Mông"
    assert n["tre_quoc_tich"] == "Việt Nam"
    assert n["me_so_dinh_danh"] == "015301001234"
    assert n["so_ban_sao"] == "2"
    assert "unknown_key" not in n
    assert set(n) == set(birth.field_names)


def test_date_in_words_is_derived_whatever_was_supplied() -> None:
    result = run(birth, dict(BIRTH, tre_ngay_sinh_bang_chu="typed by hand"))
    assert result.normalized["tre_ngay_sinh_bang_chu"] == (
        "Ngày mười lăm tháng hai năm hai nghìn không trăm hai mươi sáu"
    )
    styled = run(birth, dict(BIRTH, tre_ngay_sinh="2026-02-05"), mung=True, zero_tens="lẻ")
    assert styled.normalized["tre_ngay_sinh_bang_chu"].startswith("Ngày mùng năm tháng hai")
    no_date = run(birth, dict(BIRTH, tre_ngay_sinh=""))
    assert no_date.normalized["tre_ngay_sinh_bang_chu"] == ""


def test_textarea_keeps_its_lines() -> None:
    result = run(birth, dict(BIRTH, ghi_chu="dòng một  \r\n  dòng hai"))
    assert result.normalized["ghi_chu"] == "dòng một\ndòng hai"


# -- dates --------------------------------------------------------------------------------


def test_dates_may_not_be_in_the_future() -> None:
    result = run(birth, dict(BIRTH, tre_ngay_sinh="2026-03-11"))
    assert error_fields(result) == {"tre_ngay_sinh"}
    assert "tương lai" in result.errors[0].message
    assert run(birth, dict(BIRTH, tre_ngay_sinh="2026-03-10")).errors == ()


@pytest.mark.parametrize("bad", ["31/02/2026", "2026-02-30", "hôm qua", "15/02/26", "1700-01-01"])
def test_impossible_or_unreadable_dates_are_errors(bad: str) -> None:
    result = run(birth, dict(BIRTH, tre_ngay_sinh=bad))
    assert error_fields(result) == {"tre_ngay_sinh"}
    assert result.errors[0].message.startswith("«Ngày, tháng, năm sinh» (Người được khai sinh)")


def test_child_born_less_than_ten_years_after_the_mother_is_an_error() -> None:
    result = run(birth, dict(BIRTH, me_ngay_sinh="2017-01-01"))
    assert error_fields(result) == {"me_ngay_sinh"}
    assert "10 năm" in result.errors[0].message
    assert run(birth, dict(BIRTH, me_ngay_sinh="2016-02-15")).errors == ()
    assert "cha_ngay_sinh" in error_fields(run(birth, dict(BIRTH, cha_ngay_sinh="2020-01-01")))


def test_death_before_birth_is_an_error() -> None:
    result = run(death, dict(DEATH, nguoi_chet_ngay_sinh="2026-03-02"))
    assert error_fields(result) == {"ngay_chet"}
    notice = run(death, dict(DEATH, giay_bao_tu_ngay_cap="2026-02-28"))
    assert error_fields(notice) == {"giay_bao_tu_ngay_cap"}


@pytest.mark.parametrize(
    ("typed", "stored"), [("14:30", "14:30"), ("7h5", "07:05"), ("9 giờ", "09:00")]
)
def test_hour_of_death_is_normalised(typed: str, stored: str) -> None:
    assert run(death, dict(DEATH, gio_chet=typed)).normalized["gio_chet"] == stored


@pytest.mark.parametrize("typed", ["25:00", "14:60", "chiều"])
def test_bad_hour_of_death_is_an_error(typed: str) -> None:
    assert error_fields(run(death, dict(DEATH, gio_chet=typed))) == {"gio_chet"}


# -- deadlines ----------------------------------------------------------------------------


def test_birth_within_60_days_is_on_time_and_after_is_late() -> None:
    on_time = run(birth, dict(BIRTH, tre_ngay_sinh="2026-01-09"))  # 60 days before 10/3
    assert not on_time.late and on_time.warnings == ()
    late = run(birth, dict(BIRTH, tre_ngay_sinh="2026-01-08"))  # 61 days
    assert late.late and late.errors == ()
    (warning,) = late.warnings
    assert warning.field == "tre_ngay_sinh"
    assert (
        "quá hạn" in warning.message
        and "lệ phí" in warning.message
        and "61 ngày" in warning.message
    )


def test_death_within_15_days_is_on_time_and_after_is_late() -> None:
    assert not run(death, dict(DEATH, ngay_chet="2026-02-23", giay_bao_tu_ngay_cap="")).late
    late = run(death, dict(DEATH, ngay_chet="2026-02-22", giay_bao_tu_ngay_cap=""))
    assert late.late and late.warnings[0].field == "ngay_chet"


def test_deadline_counts_to_the_received_date_not_today() -> None:
    data = dict(BIRTH, tre_ngay_sinh="2026-01-01")
    received_early = datetime(2026, 2, 20, 10, 0)
    assert not run(birth, data, received_at=received_early).late
    assert run(birth, data, received_at=None).late  # counted to today (68 days)


def test_procedures_without_a_deadline_are_never_late() -> None:
    assert not run(marital, MARITAL_STATUS).late
    assert not run(marriage, MARRIAGE).late


# -- marriage ages ------------------------------------------------------------------------


def test_man_under_20_cannot_marry() -> None:
    result = run(marriage, dict(MARRIAGE, chong_ngay_sinh="2006-03-11"))  # 20 tomorrow
    assert error_fields(result) == {"chong_ngay_sinh"}
    assert "20 tuổi" in result.errors[0].message
    assert run(marriage, dict(MARRIAGE, chong_ngay_sinh="2006-03-10")).errors == ()


def test_woman_under_18_cannot_marry() -> None:
    result = run(marriage, dict(MARRIAGE, vo_ngay_sinh="2008-03-11"))
    assert error_fields(result) == {"vo_ngay_sinh"}
    assert "18 tuổi" in result.errors[0].message
    assert run(marriage, dict(MARRIAGE, vo_ngay_sinh="2008-03-10")).errors == ()


def test_marriage_age_counts_at_the_registration_date() -> None:
    data = dict(MARRIAGE, chong_ngay_sinh="2006-03-01")
    assert run(marriage, data, received_at=datetime(2026, 3, 1, 8, 0)).errors == ()
    assert error_fields(run(marriage, data, received_at=datetime(2026, 2, 28, 8, 0))) == {
        "chong_ngay_sinh"
    }


def test_born_on_29_february_comes_of_age_on_28_february() -> None:
    data = dict(MARRIAGE, vo_ngay_sinh="2008-02-29")
    assert run(marriage, data, received_at=datetime(2026, 2, 28, 8, 0)).errors == ()


def test_how_many_th_marriage_is_a_small_number() -> None:
    assert error_fields(run(marriage, dict(MARRIAGE, vo_lan_ket_hon="một"))) == {"vo_lan_ket_hon"}
    assert error_fields(run(marriage, dict(MARRIAGE, vo_lan_ket_hon="100"))) == {"vo_lan_ket_hon"}


# -- personal IDs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["01530100123", "0153010012345", "01530100123A", "０１５３０１００１２３４"]
)
def test_personal_id_must_be_12_ascii_digits(bad: str) -> None:
    result = run(birth, dict(BIRTH, me_so_dinh_danh=bad))
    assert error_fields(result) == {"me_so_dinh_danh"}
    assert "12 chữ số" in result.errors[0].message


def test_personal_id_disagreeing_with_birth_year_and_sex_is_a_soft_warning() -> None:
    # 4th digit 0 = male born in the 1900s, but the mother is a woman born in 2001.
    result = run(birth, dict(BIRTH, me_so_dinh_danh="015001001234"))
    assert result.errors == ()
    messages = [w.message for w in result.warnings if w.field == "me_so_dinh_danh"]
    assert messages and all(m.startswith("Số định danh cá nhân:") for m in messages)
    assert any("giới tính" in m for m in messages)


def test_same_id_on_two_people_is_an_error_but_the_requester_may_be_one_of_them() -> None:
    result = run(birth, dict(BIRTH, cha_so_dinh_danh=BIRTH["me_so_dinh_danh"]))
    assert error_fields(result) == {"cha_so_dinh_danh"}
    assert run(birth, BIRTH).errors == ()  # requester is the father, same ID


# -- reference data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("Hmông", "Mông"), ("Mèo", "Mông"), ("khmer", "Khơ-me"), ("tày", "Tày")],
)
def test_ethnicity_variants_are_stored_by_canonical_name(typed: str, canonical: str) -> None:
    assert run(birth, dict(BIRTH, tre_dan_toc=typed)).normalized["tre_dan_toc"] == canonical


def test_unknown_ethnicity_is_an_error() -> None:
    result = run(birth, dict(BIRTH, tre_dan_toc="Xyz"))
    assert error_fields(result) == {"tre_dan_toc"}
    assert "54 dân tộc" in result.errors[0].message


def test_commune_codes_must_be_lao_cai_communes() -> None:
    assert run(marital, MARITAL_STATUS).normalized["nguoi_duoc_xac_nhan_cu_tru_xa"] == "04465"
    by_name = run(marital, dict(MARITAL_STATUS, nguoi_duoc_xac_nhan_cu_tru_xa="xã khao mang"))
    assert by_name.normalized["nguoi_duoc_xac_nhan_cu_tru_xa"] == "04465"
    for bad in ("99999", "00001", "Hà Nội"):
        result = run(marital, dict(MARITAL_STATUS, nguoi_duoc_xac_nhan_cu_tru_xa=bad))
        assert error_fields(result) == {"nguoi_duoc_xac_nhan_cu_tru_xa"}
        assert "Lào Cai" in result.errors[0].message


def test_province_codes_must_be_one_of_the_34() -> None:
    assert (
        run(birth, dict(BIRTH, tre_noi_sinh_tinh="Hà Nội")).normalized["tre_noi_sinh_tinh"] == "01"
    )
    assert run(birth, dict(BIRTH, tre_noi_sinh_tinh="01")).errors == ()
    for bad in ("10", "99", "Yên Bái"):  # 10 was the old Lào Cai code; Yên Bái was merged
        result = run(birth, dict(BIRTH, tre_noi_sinh_tinh=bad))
        assert error_fields(result) == {"tre_noi_sinh_tinh"}


def test_sex_must_be_nam_or_nu() -> None:
    assert run(birth, dict(BIRTH, tre_gioi_tinh="nu")).normalized["tre_gioi_tinh"] == "Nữ"
    assert error_fields(run(birth, dict(BIRTH, tre_gioi_tinh="khác"))) == {"tre_gioi_tinh"}


# -- text ---------------------------------------------------------------------------------


def test_names_may_not_hold_digits_or_symbols() -> None:
    assert error_fields(run(birth, dict(BIRTH, tre_ten="Xà2"))) == {"tre_ten"}
    assert error_fields(run(birth, dict(BIRTH, me_ho_ten="@@"))) == {"me_ho_ten"}
    assert run(birth, dict(BIRTH, me_ho_ten="H'Hen Niê")).errors == ()


def test_text_lengths_are_bounded() -> None:
    result = run(birth, dict(BIRTH, tre_noi_sinh="x" * 251))
    assert error_fields(result) == {"tre_noi_sinh"}
    assert "250" in result.errors[0].message
    assert error_fields(run(birth, dict(BIRTH, ghi_chu="y" * 1001))) == {"ghi_chu"}


# -- marital status -----------------------------------------------------------------------


def test_marital_status_conditional_requirements() -> None:
    result = run(marital, dict(MARITAL_STATUS, ket_hon_voi_ho_ten=""))
    assert error_fields(result) == {"ket_hon_voi_ho_ten"}
    other = dict(MARITAL_STATUS, muc_dich="khac", ket_hon_voi_ho_ten="")
    assert error_fields(run(marital, other)) == {"muc_dich_chi_tiet"}
    assert run(marital, dict(other, muc_dich_chi_tiet="Vay vốn ngân hàng")).errors == ()


def test_married_person_cannot_get_a_confirmation_to_marry() -> None:
    result = run(marital, dict(MARITAL_STATUS, tinh_trang_hon_nhan="dang_co_vo_chong"))
    assert error_fields(result) == {"muc_dich"}


def test_residence_period_must_be_in_order() -> None:
    result = run(marital, dict(MARITAL_STATUS, thoi_gian_cu_tru_tu="2026-03-05"))
    assert error_fields(result) == {"thoi_gian_cu_tru_den"}


def test_choice_accepts_its_label_and_rejects_others() -> None:
    label = "Đã đăng ký kết hôn nhưng đã ly hôn và chưa kết hôn với ai"
    result = run(marital, dict(MARITAL_STATUS, tinh_trang_hon_nhan=label))
    assert result.normalized["tinh_trang_hon_nhan"] == "da_ly_hon"
    assert error_fields(run(marital, dict(MARITAL_STATUS, tinh_trang_hon_nhan="x"))) == {
        "tinh_trang_hon_nhan"
    }


# -- robustness ---------------------------------------------------------------------------


def test_values_of_wrong_types_are_errors_not_exceptions() -> None:
    data: dict[str, Any] = dict(
        BIRTH, tre_ho=["Giàng"], tre_ten={"x": 1}, so_ban_sao=2, me_ngay_sinh=True
    )
    result = run(birth, data)
    assert {"tre_ho", "tre_ten", "me_ngay_sinh"} <= error_fields(result)
    assert result.normalized["so_ban_sao"] == "2"


def test_non_mapping_data_is_one_error() -> None:
    result = validate(birth, ["not", "a", "dict"], today=TODAY)  # type: ignore[arg-type]
    assert len(result.errors) == 1 and result.normalized == {}


def test_date_objects_are_accepted_as_values() -> None:
    result = run(birth, dict(BIRTH, tre_ngay_sinh=date(2026, 2, 15)))
    assert result.normalized["tre_ngay_sinh"] == "2026-02-15"


def test_check_field_alone() -> None:
    value, errors = check_field(birth, birth.field("tre_ngay_sinh"), "5/2/2026", today=TODAY)
    assert (value, errors) == ("2026-02-05", [])
    assert birth.field("tre_ngay_sinh").kind is FieldKind.DATE


# Arbitrary JSON-ish values, including the keys the forms really use.
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300) | st.dates(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)
_keys = st.sampled_from(sorted({f.name for p in all_procedures() for f in p.fields})) | st.text(
    max_size=20
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.sampled_from(["khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon"]),
    data=st.dictionaries(_keys, _values, max_size=30),
    today=st.dates(),
    received=st.none() | st.datetimes(),
    mung=st.booleans(),
    zero_tens=st.sampled_from(["linh", "lẻ", "x"]),
)
def test_validate_never_raises(
    code: str,
    data: dict[Any, Any],
    today: date,
    received: datetime | None,
    mung: bool,
    zero_tens: str,
) -> None:
    procedure = get_procedure(code)
    result = validate(
        procedure, data, today=today, received_at=received, mung=mung, zero_tens=zero_tens
    )
    assert isinstance(result.errors, tuple) and isinstance(result.warnings, tuple)
    assert all(isinstance(v, str) for v in result.normalized.values())
    procedure.duplicate_key(data)
    procedure.search_terms(result.normalized)
    procedure.display_name(data)


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(["khai_sinh", "khai_tu", "xac_nhan_hon_nhan", "ket_hon"]),
    field_index=st.integers(min_value=0, max_value=100),
    value=st.text(max_size=400),
)
def test_mutating_one_field_of_a_valid_dossier_never_raises(
    code: str, field_index: int, value: str
) -> None:
    from tests.forms.samples import SAMPLES

    procedure = get_procedure(code)
    name = procedure.fields[field_index % len(procedure.fields)].name
    result = validate(
        procedure, dict(SAMPLES[code], **{name: value}), today=TODAY, received_at=RECEIVED
    )
    # Every error names a declared field and carries a Vietnamese message.
    assert all(e.field in procedure.field_names and e.message for e in result.errors)
