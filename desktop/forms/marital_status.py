"""Cấp Giấy xác nhận tình trạng hôn nhân (marital-status confirmation, 1.004873), declared once.

Fields follow the Tờ khai cấp Giấy xác nhận tình trạng hôn nhân of TT 04/2024/TT-BTP and the
certificate: the requester, the person confirmed (identity and residence in the commune), the
period of residence confirmed, the marital status and the purpose of use (for marriage: with
whom and where). Processing time: 3 working days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms import common_fields as cf
from desktop.forms.fields import Choice, Field, FieldKind, Person, Section
from desktop.forms.model import Procedure
from desktop.forms.rules import DateOrder, Forbidden, ProcessingRule, RequiredWhen

_REQ = cf.REQUESTER.key
_WHO = "nguoi_duoc_xac_nhan"

MARITAL_STATUSES = (
    Choice("chua_ket_hon", "Chưa đăng ký kết hôn với ai"),
    Choice("dang_co_vo_chong", "Hiện tại đang có vợ/chồng"),
    Choice("da_ly_hon", "Đã đăng ký kết hôn nhưng đã ly hôn và chưa kết hôn với ai"),
    Choice("vo_chong_da_chet", "Có vợ/chồng nhưng vợ/chồng đã chết và chưa kết hôn với ai"),
)
"""Marital statuses as worded on the certificate."""

PURPOSES = (
    Choice("ket_hon", "Để làm thủ tục đăng ký kết hôn"),
    Choice("khac", "Mục đích khác"),
)
"""Purpose of use: marriage needs the intended spouse; other purposes a free text."""


def _duplicate_key(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Same request: (requester's ID or folded name, the person's identity, purpose)."""
    who = cf.person_key(data, _WHO)
    requester = cf.person_key(data, _REQ)
    purpose = data.get("muc_dich")
    if not who or not requester or not isinstance(purpose, str) or not purpose:
        return None
    detail = cf.folded(data.get("muc_dich_chi_tiet")) or cf.folded(data.get("ket_hon_voi_ho_ten"))
    return (requester, who, purpose, detail)


SECTIONS = (
    Section(
        "nguoi_yeu_cau",
        "Người yêu cầu",
        cf.requester(_REQ, "Quan hệ với người được cấp giấy xác nhận"),
    ),
    Section(
        "nguoi_duoc_xac_nhan",
        "Người được cấp giấy xác nhận tình trạng hôn nhân",
        (
            *cf.name_parts(_WHO, "nguoi_duoc_xac_nhan"),
            *cf.birth_date(_WHO, "nguoi_duoc_xac_nhan"),
            cf.sex(_WHO, "nguoi_duoc_xac_nhan"),
            cf.ethnicity(_WHO, "nguoi_duoc_xac_nhan"),
            cf.nationality(_WHO, "nguoi_duoc_xac_nhan"),
            cf.personal_id(_WHO, "nguoi_duoc_xac_nhan", required=True),
            cf.residence(_WHO, "nguoi_duoc_xac_nhan"),
            Field(
                f"{_WHO}_cu_tru_xa",
                "Xã, phường nơi cư trú (trong tỉnh)",
                FieldKind.COMMUNE,
                "nguoi_duoc_xac_nhan",
                required=True,
                person=_WHO,
                help="Gõ vài chữ để tìm xã, phường.",
                max_length=5,
            ),
        ),
    ),
    Section(
        "xac_nhan",
        "Nội dung xác nhận",
        (
            Field(
                "thoi_gian_cu_tru_tu",
                "Thời gian cư trú được xác nhận: từ ngày",
                FieldKind.DATE,
                "xac_nhan",
                help="Để trống nếu xác nhận tình trạng hiện tại.",
                max_length=10,
            ),
            Field(
                "thoi_gian_cu_tru_den",
                "đến ngày",
                FieldKind.DATE,
                "xac_nhan",
                max_length=10,
            ),
            Field(
                "tinh_trang_hon_nhan",
                "Tình trạng hôn nhân",
                FieldKind.CHOICE,
                "xac_nhan",
                required=True,
                options=MARITAL_STATUSES,
                max_length=40,
            ),
            Field(
                "muc_dich",
                "Mục đích sử dụng",
                FieldKind.CHOICE,
                "xac_nhan",
                required=True,
                options=PURPOSES,
                max_length=20,
            ),
            Field(
                "muc_dich_chi_tiet",
                "Mục đích khác (ghi rõ)",
                FieldKind.TEXT,
                "xac_nhan",
                help="Ví dụ: bổ sung hồ sơ vay vốn ngân hàng.",
                max_length=200,
            ),
            Field(
                "ket_hon_voi_ho_ten",
                "Kết hôn với (họ, chữ đệm, tên)",
                FieldKind.NAME,
                "xac_nhan",
                max_length=cf.FULL_NAME_MAX,
            ),
            Field(
                "ket_hon_voi_quoc_tich",
                "Quốc tịch người dự định kết hôn",
                FieldKind.NATIONALITY,
                "xac_nhan",
                max_length=60,
            ),
            Field(
                "ket_hon_noi_dang_ky",
                "Nơi dự định đăng ký kết hôn",
                FieldKind.PLACE,
                "xac_nhan",
                max_length=cf.PLACE_MAX,
            ),
            cf.copies("xac_nhan"),
            cf.notes("xac_nhan"),
        ),
    ),
)

MARITAL_STATUS = Procedure(
    code="xac_nhan_hon_nhan",
    national_code="1.004873",
    title="Cấp Giấy xác nhận tình trạng hôn nhân",
    short_title="Xác nhận TTHN",
    result_document="Giấy xác nhận tình trạng hôn nhân",
    book_type="XNHN",
    sections=SECTIONS,
    persons=(
        cf.REQUESTER,
        Person(_WHO, "Người được xác nhận", split_name=True),
    ),
    processing=ProcessingRule(working_days=3, description="03 ngày làm việc."),
    main_persons=(_WHO,),
    applicant_person=_REQ,
    papers=("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân",),
    date_orders=(
        DateOrder(
            "nguoi_duoc_xac_nhan_ngay_sinh",
            "thoi_gian_cu_tru_tu",
            on="thoi_gian_cu_tru_tu",
            message="Thời gian cư trú không thể bắt đầu trước ngày sinh: hãy sửa «từ ngày».",
        ),
        DateOrder(
            "thoi_gian_cu_tru_tu",
            "thoi_gian_cu_tru_den",
            on="thoi_gian_cu_tru_den",
            message="«Đến ngày» phải sau «từ ngày» của thời gian cư trú: hãy sửa lại.",
        ),
    ),
    required_when=(
        RequiredWhen("ket_hon_voi_ho_ten", "muc_dich", ("ket_hon",)),
        RequiredWhen("muc_dich_chi_tiet", "muc_dich", ("khac",)),
    ),
    forbidden=(
        Forbidden(
            (("tinh_trang_hon_nhan", "dang_co_vo_chong"), ("muc_dich", "ket_hon")),
            on="muc_dich",
            message="Người đang có vợ/chồng không được cấp giấy xác nhận để đăng ký kết hôn: "
            "hãy kiểm tra lại tình trạng hôn nhân hoặc mục đích sử dụng.",
        ),
    ),
    duplicate_rule=_duplicate_key,
)
"""The marital-status confirmation procedure."""
