"""Tests of the receipt slip data (phiếu tiếp nhận và hẹn trả kết quả)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from desktop.forms.procedures import get_procedure
from desktop.forms.receipt import build_receipt
from desktop.forms.records import record_fields
from desktop.forms.workdays import HolidayTable
from tests.forms.samples import BIRTH, MARITAL_STATUS, MARRIAGE


def record(data: dict[str, Any], **meta: Any) -> dict[str, Any]:
    base = {"procedure": "khai_sinh", "commune": "04465", "dossier_no": "04465-20250310-ab12-7"}
    base.update(meta)
    base.update(record_fields(data))
    return base


def test_birth_receipt_carries_everything_printed_on_the_slip() -> None:
    slip = build_receipt(
        get_procedure("khai_sinh"),
        record(BIRTH, received_at="2025-03-10T09:30:00"),
        commune_name="Xã Khao Mang",
        clerk_name="Nguyễn Thị Lan",
    )
    assert slip.commune_name == "Xã Khao Mang"
    assert slip.dossier_no == "04465-20250310-ab12-7"
    assert (slip.procedure_title, slip.national_code) == ("Đăng ký khai sinh", "1.001193")
    assert slip.result_document == "Giấy khai sinh"
    assert slip.applicant_name == "Giàng A Páo"
    assert slip.applicant_id == "015095001234"
    assert slip.applicant_phone == "0912345678"
    assert slip.applicant_address.startswith("Bản Hồ Bốn")
    assert "Giấy chứng sinh (hoặc giấy tờ thay thế)" in slip.papers
    assert slip.received_at == datetime(2025, 3, 10, 9, 30)
    assert slip.due_date == date(2025, 3, 10)
    assert slip.clerk_name == "Nguyễn Thị Lan"
    assert slip.copies == 2
    assert not slip.late and "Miễn lệ phí" in slip.fee_note


def test_due_date_rolls_over_after_15h_and_over_holidays() -> None:
    p = get_procedure("xac_nhan_hon_nhan")
    slip = build_receipt(
        p,
        record(MARITAL_STATUS, received_at="2025-04-03T15:10:00"),
        commune_name="Xã Khao Mang",
        clerk_name="Lan",
    )
    # Counted from Friday 4/4: Mon 7/4 is Giỗ Tổ, so Tue 8, Wed 9, Thu 10.
    assert slip.due_date == date(2025, 4, 10)
    no_holidays = build_receipt(
        p,
        record(MARITAL_STATUS, received_at="2025-04-03T15:10:00"),
        commune_name="Xã Khao Mang",
        clerk_name="Lan",
        holidays=HolidayTable(years=frozenset({2025})),
    )
    assert no_holidays.due_date == date(2025, 4, 9)


def test_the_stores_due_at_is_used_when_present() -> None:
    slip = build_receipt(
        get_procedure("khai_sinh"),
        record(BIRTH, received_at="2025-03-10T09:30:00", due_at="2025-03-12"),
        commune_name="X",
        clerk_name="Y",
    )
    assert slip.due_date == date(2025, 3, 12)


def test_late_registration_shows_the_fee() -> None:
    slip = build_receipt(
        get_procedure("khai_sinh"),
        record(BIRTH, received_at="2025-03-10T09:30:00", late=True),
        commune_name="X",
        clerk_name="Y",
    )
    assert slip.late and "quá hạn" in slip.fee_note


def test_marriage_receipt_names_both_spouses_and_can_be_extended() -> None:
    slip = build_receipt(
        get_procedure("ket_hon"),
        {"dossier_no": "1", "received_at": datetime(2025, 3, 10, 9, 0), "data": MARRIAGE},
        commune_name="X",
        clerk_name="Y",
        extended=True,
    )
    assert slip.applicant_name == "Thào A Chứ và Sùng Thị Mai"
    assert slip.due_date == date(2025, 3, 17)


def test_papers_listed_in_the_record_replace_the_usual_list() -> None:
    slip = build_receipt(
        get_procedure("khai_sinh"),
        record(BIRTH, received_at="2025-03-10T09:30:00", papers=["Tờ khai", "Văn bản ủy quyền"]),
        commune_name="X",
        clerk_name="Y",
    )
    assert slip.papers == ("Tờ khai", "Văn bản ủy quyền")


def test_received_at_may_carry_a_time_zone() -> None:
    slip = build_receipt(
        get_procedure("khai_sinh"),
        record(BIRTH, received_at="2025-03-10T02:30:00Z"),
        commune_name="X",
        clerk_name="Y",
    )
    assert slip.received_at.utcoffset() is not None
    assert slip.due_date == date(2025, 3, 10)


@pytest.mark.parametrize("received", [None, "", "yesterday", 12])
def test_missing_received_at_is_a_clear_error(received: Any) -> None:
    with pytest.raises(ValueError, match="received_at"):
        build_receipt(
            get_procedure("khai_sinh"),
            record(BIRTH, received_at=received),
            commune_name="X",
            clerk_name="Y",
        )
