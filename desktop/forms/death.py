"""Đăng ký khai tử (death registration, national code 1.000656), declared once.

Fields follow the Tờ khai đăng ký khai tử of TT 04/2024/TT-BTP and the Trích lục khai tử:
the requester, the deceased's identity, the time, place and cause of death, and the death
notice (giấy báo tử) it rests on. Registered within 15 days of the death it is on time and
fee-exempt (Luật Hộ tịch Đ.33, Đ.11); the extract is given the same working day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms import common_fields as cf
from desktop.forms.fields import Field, FieldKind, Person, Section
from desktop.forms.model import Procedure
from desktop.forms.rules import DateOrder

_REQ = cf.REQUESTER.key
_DEAD = "nguoi_chet"


def _duplicate_key(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Same death: (the deceased's ID or folded name, date of death)."""
    who = cf.person_key(data, _DEAD)
    died = data.get("ngay_chet")
    if not who or not isinstance(died, str) or not died:
        return None
    return (who, died)


SECTIONS = (
    Section("nguoi_yeu_cau", "Người yêu cầu", cf.requester(_REQ, "Quan hệ với người đã chết")),
    Section(
        "nguoi_chet",
        "Người đã chết",
        (
            *cf.name_parts(_DEAD, "nguoi_chet"),
            *cf.birth_date(_DEAD, "nguoi_chet"),
            cf.sex(_DEAD, "nguoi_chet"),
            cf.ethnicity(_DEAD, "nguoi_chet"),
            cf.nationality(_DEAD, "nguoi_chet"),
            cf.personal_id(_DEAD, "nguoi_chet"),
            cf.residence(_DEAD, "nguoi_chet", label="Nơi cư trú cuối cùng"),
        ),
    ),
    Section(
        "khai_tu",
        "Thông tin về việc chết",
        (
            Field(
                "ngay_chet",
                "Ngày chết",
                FieldKind.DATE,
                "khai_tu",
                required=True,
                help="Nhập theo dạng ngày/tháng/năm.",
                max_length=10,
            ),
            Field(
                "ngay_chet_bang_chu",
                "Ngày chết bằng chữ",
                FieldKind.DATE_IN_WORDS,
                "khai_tu",
                derived_from="ngay_chet",
            ),
            Field(
                "gio_chet",
                "Giờ chết",
                FieldKind.TIME,
                "khai_tu",
                help="Giờ:phút, ví dụ 14:30; để trống nếu không rõ.",
                max_length=5,
            ),
            Field(
                "noi_chet",
                "Nơi chết",
                FieldKind.PLACE,
                "khai_tu",
                required=True,
                max_length=cf.PLACE_MAX,
            ),
            Field(
                "nguyen_nhan_chet",
                "Nguyên nhân chết",
                FieldKind.TEXT,
                "khai_tu",
                required=True,
                max_length=200,
            ),
        ),
    ),
    Section(
        "giay_bao_tu",
        "Giấy báo tử hoặc giấy tờ thay thế",
        (
            Field(
                "giay_bao_tu_so",
                "Số giấy báo tử",
                FieldKind.TEXT,
                "giay_bao_tu",
                searchable=True,
                max_length=40,
            ),
            Field(
                "giay_bao_tu_noi_cap",
                "Cơ quan cấp giấy báo tử",
                FieldKind.TEXT,
                "giay_bao_tu",
                max_length=cf.PLACE_MAX,
            ),
            Field(
                "giay_bao_tu_ngay_cap",
                "Ngày cấp giấy báo tử",
                FieldKind.DATE,
                "giay_bao_tu",
                max_length=10,
            ),
            cf.copies("giay_bao_tu"),
            cf.notes("giay_bao_tu"),
        ),
    ),
)

DEATH = Procedure(
    code="khai_tu",
    national_code="1.000656",
    title="Đăng ký khai tử",
    short_title="Khai tử",
    result_document="Trích lục khai tử",
    book_type="KT",
    sections=SECTIONS,
    persons=(
        cf.REQUESTER,
        Person(_DEAD, "Người đã chết", split_name=True),
    ),
    processing=cf.SAME_DAY,
    event_deadline_days=15,
    event_date_field="ngay_chet",
    main_persons=(_DEAD,),
    applicant_person=_REQ,
    papers=(
        "Tờ khai đăng ký khai tử",
        "Giấy báo tử hoặc giấy tờ thay thế giấy báo tử",
    ),
    date_orders=(
        DateOrder(
            "nguoi_chet_ngay_sinh",
            "ngay_chet",
            on="ngay_chet",
            message="Ngày chết không thể trước ngày sinh của người đã chết: "
            "hãy kiểm tra lại hai ngày này.",
        ),
        DateOrder(
            "ngay_chet",
            "giay_bao_tu_ngay_cap",
            on="giay_bao_tu_ngay_cap",
            message="Ngày cấp giấy báo tử không thể trước ngày chết: hãy kiểm tra lại.",
        ),
    ),
    duplicate_rule=_duplicate_key,
)
"""The death registration procedure."""
