"""Đăng ký khai sinh (birth registration, national code 1.001193), declared once.

Fields follow the Tờ khai đăng ký khai sinh of TT 04/2024/TT-BTP and the Giấy khai sinh it
produces: the requester, the child (họ / chữ đệm / tên, date of birth and in words, sex, place
of birth, ethnicity, nationality, quê quán, personal ID), the mother and the father, and the
papers handed in (giấy chứng sinh). Registered within 60 days of the birth it is on time and
fee-exempt (Luật Hộ tịch Đ.15, Đ.11); the result is given the same working day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms import common_fields as cf
from desktop.forms.fields import Field, FieldKind, Person, Section
from desktop.forms.model import Procedure
from desktop.forms.rules import DateOrder

_REQ = cf.REQUESTER.key
_CHILD = "tre"
_MOTHER = "me"
_FATHER = "cha"


def _parent(person: str, section: str, title: str, *, required: bool) -> tuple[Field, ...]:
    """Return a parent's lines: name, date of birth, ethnicity, nationality, residence, ID."""
    return (
        cf.full_name_field(person, section, f"Họ, chữ đệm, tên {title}", required=required),
        *cf.birth_date(person, section, required=False),
        cf.ethnicity(person, section, required=required),
        cf.nationality(person, section, required=required),
        cf.residence(person, section, required=required),
        cf.personal_id(person, section),
    )


def _duplicate_key(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Same birth: (mother's ID or folded name, child's birth date, child's folded name)."""
    mother = cf.person_key(data, _MOTHER)
    child = cf.person_key({k: v for k, v in data.items() if k != "tre_so_dinh_danh"}, _CHILD)
    born = data.get("tre_ngay_sinh")
    if not mother or not child or not isinstance(born, str) or not born:
        return None
    return (mother, born, child)


SECTIONS = (
    Section(
        "nguoi_yeu_cau", "Người yêu cầu", cf.requester(_REQ, "Quan hệ với người được khai sinh")
    ),
    Section(
        "tre",
        "Người được khai sinh",
        (
            *cf.name_parts(_CHILD, "tre"),
            cf.sex(_CHILD, "tre"),
            *cf.birth_date(_CHILD, "tre", in_words=True),
            Field(
                "tre_noi_sinh",
                "Nơi sinh",
                FieldKind.PLACE,
                "tre",
                required=True,
                person=_CHILD,
                help="Tên cơ sở y tế hoặc địa chỉ nơi sinh.",
                max_length=cf.PLACE_MAX,
            ),
            Field(
                "tre_noi_sinh_tinh",
                "Tỉnh, thành phố nơi sinh",
                FieldKind.PROVINCE,
                "tre",
                required=True,
                person=_CHILD,
                default="15",
                max_length=2,
            ),
            cf.ethnicity(_CHILD, "tre"),
            cf.nationality(_CHILD, "tre"),
            Field(
                "tre_que_quan",
                "Quê quán",
                FieldKind.PLACE,
                "tre",
                person=_CHILD,
                max_length=cf.PLACE_MAX,
            ),
            cf.personal_id(
                _CHILD, "tre", help="Để trống: số định danh được cấp sau khi đăng ký khai sinh."
            ),
        ),
    ),
    Section("me", "Mẹ", _parent(_MOTHER, "me", "mẹ", required=True)),
    Section("cha", "Cha", _parent(_FATHER, "cha", "cha", required=False)),
    Section(
        "giay_to",
        "Giấy tờ kèm theo",
        (
            Field(
                "giay_chung_sinh_so",
                "Số giấy chứng sinh",
                FieldKind.TEXT,
                "giay_to",
                searchable=True,
                help="Hoặc giấy tờ thay thế giấy chứng sinh.",
                max_length=40,
            ),
            Field(
                "giay_chung_sinh_noi_cap",
                "Nơi cấp giấy chứng sinh",
                FieldKind.TEXT,
                "giay_to",
                max_length=cf.PLACE_MAX,
            ),
            cf.copies("giay_to"),
            cf.notes("giay_to"),
        ),
    ),
)

BIRTH = Procedure(
    code="khai_sinh",
    national_code="1.001193",
    title="Đăng ký khai sinh",
    short_title="Khai sinh",
    result_document="Giấy khai sinh",
    book_type="KS",
    sections=SECTIONS,
    persons=(
        cf.REQUESTER,
        Person(_CHILD, "Người được khai sinh", split_name=True, has_id_card=False),
        Person(_MOTHER, "Mẹ", sex="Nữ"),
        Person(_FATHER, "Cha", sex="Nam"),
    ),
    processing=cf.SAME_DAY,
    event_deadline_days=60,
    event_date_field="tre_ngay_sinh",
    main_persons=(_CHILD,),
    applicant_person=_REQ,
    papers=(
        "Tờ khai đăng ký khai sinh",
        "Giấy chứng sinh (hoặc giấy tờ thay thế)",
    ),
    date_orders=(
        DateOrder(
            "me_ngay_sinh",
            "tre_ngay_sinh",
            on="me_ngay_sinh",
            min_years=10,
            message="Ngày sinh của mẹ phải trước ngày sinh của trẻ ít nhất 10 năm: "
            "hãy kiểm tra lại ngày sinh của mẹ và của trẻ.",
        ),
        DateOrder(
            "cha_ngay_sinh",
            "tre_ngay_sinh",
            on="cha_ngay_sinh",
            min_years=10,
            message="Ngày sinh của cha phải trước ngày sinh của trẻ ít nhất 10 năm: "
            "hãy kiểm tra lại ngày sinh của cha và của trẻ.",
        ),
    ),
    duplicate_rule=_duplicate_key,
)
"""The birth registration procedure."""
