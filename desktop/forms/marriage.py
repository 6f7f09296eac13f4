"""Đăng ký kết hôn (marriage registration, national code 1.000894), declared once.

Fields follow the Tờ khai đăng ký kết hôn of TT 04/2024/TT-BTP (the bride's column, then the
groom's) and the Giấy chứng nhận kết hôn: for each spouse họ / chữ đệm / tên, date of birth,
ethnicity, nationality, residence, personal ID and the how-many-th marriage. Both must be of
marriageable age on the registration date (man 20, woman 18: Luật Hôn nhân và gia đình Đ.8).
The certificate is given the same working day, or within 5 working days when conditions must
be verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms import common_fields as cf
from desktop.forms.fields import Field, FieldKind, Person, Section
from desktop.forms.model import Procedure
from desktop.forms.rules import MinimumAge, ProcessingRule

_WIFE = "vo"
_HUSBAND = "chong"


def _spouse(person: str) -> tuple[Field, ...]:
    """Return one spouse's column of the declaration."""
    return (
        *cf.name_parts(person, person),
        *cf.birth_date(person, person),
        cf.ethnicity(person, person),
        cf.nationality(person, person),
        cf.residence(person, person),
        cf.personal_id(person, person, required=True),
        Field(
            f"{person}_lan_ket_hon",
            "Kết hôn lần thứ",
            FieldKind.INTEGER,
            person,
            required=True,
            person=person,
            default="1",
            help="1 nếu kết hôn lần đầu.",
            max_length=2,
        ),
    )


def _duplicate_key(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Same marriage: both spouses' IDs (or folded names with dates of birth)."""
    keys = []
    for person in (_WIFE, _HUSBAND):
        key = cf.person_key(data, person)
        if not key:
            return None
        if key.startswith("name:"):
            born = data.get(f"{person}_ngay_sinh")
            key += "|" + (born if isinstance(born, str) else "")
        keys.append(key)
    return tuple(keys)


SECTIONS = (
    Section(_WIFE, "Bên nữ (vợ)", _spouse(_WIFE)),
    Section(_HUSBAND, "Bên nam (chồng)", _spouse(_HUSBAND)),
    Section(
        "dang_ky",
        "Đăng ký",
        (
            Field(
                "dien_thoai",
                "Số điện thoại liên hệ",
                FieldKind.TEXT,
                "dang_ky",
                help="Để báo khi có kết quả (không bắt buộc).",
                max_length=15,
            ),
            cf.copies("dang_ky"),
            cf.notes("dang_ky"),
        ),
    ),
)

MARRIAGE = Procedure(
    code="ket_hon",
    national_code="1.000894",
    title="Đăng ký kết hôn",
    short_title="Kết hôn",
    result_document="Giấy chứng nhận kết hôn",
    book_type="KH",
    sections=SECTIONS,
    persons=(
        Person(_WIFE, "Bên nữ (vợ)", split_name=True, sex="Nữ"),
        Person(_HUSBAND, "Bên nam (chồng)", split_name=True, sex="Nam"),
    ),
    processing=ProcessingRule(
        working_days=0,
        extended_working_days=5,
        description="Trả kết quả ngay trong ngày; tối đa 05 ngày làm việc nếu cần xác minh "
        "điều kiện kết hôn.",
    ),
    main_persons=(_HUSBAND, _WIFE),
    applicant_person=None,
    papers=(
        "Tờ khai đăng ký kết hôn",
        "Giấy xác nhận tình trạng hôn nhân (nếu cư trú nơi khác)",
    ),
    minimum_ages=(
        MinimumAge(
            "chong_ngay_sinh",
            20,
            "Bên nam chưa đủ 20 tuổi vào ngày đăng ký nên chưa đủ tuổi kết hôn "
            "(Luật Hôn nhân và gia đình, Điều 8): hãy kiểm tra lại ngày sinh.",
        ),
        MinimumAge(
            "vo_ngay_sinh",
            18,
            "Bên nữ chưa đủ 18 tuổi vào ngày đăng ký nên chưa đủ tuổi kết hôn "
            "(Luật Hôn nhân và gia đình, Điều 8): hãy kiểm tra lại ngày sinh.",
        ),
    ),
    duplicate_rule=_duplicate_key,
)
"""The marriage registration procedure."""
