"""Field builders shared by the procedure declarations (a person's identity lines).

The TT 04/2024/TT-BTP declarations repeat the same identity lines for every person (name,
date of birth, sex, ethnicity, nationality, residence, personal ID). These builders keep the
labels, kinds, lengths and ID-card mapping identical across procedures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms.model import Choice, Field, FieldKind

SEX_CHOICES = (Choice("Nam", "Nam"), Choice("Nữ", "Nữ"))
"""The two values of a SEX field, as written on the papers."""

NAME_PART_MAX = 40
FULL_NAME_MAX = 100
PLACE_MAX = 250


def name_parts(person: str, section: str, *, required: bool = True) -> tuple[Field, ...]:
    """Return the họ / chữ đệm / tên fields of a person whose name is sorted.

    Args:
        person: the person key (field prefix).
        section: the section key.
        required: whether họ and tên are required (chữ đệm never is: many names have none).
    """
    return (
        Field(
            f"{person}_ho",
            "Họ",
            FieldKind.NAME,
            section,
            required=required,
            person=person,
            searchable=True,
            max_length=NAME_PART_MAX,
            idcard_attr="ho",
        ),
        Field(
            f"{person}_chu_dem",
            "Chữ đệm",
            FieldKind.NAME,
            section,
            person=person,
            searchable=True,
            max_length=NAME_PART_MAX,
            help="Để trống nếu không có chữ đệm.",
            idcard_attr="chu_dem",
        ),
        Field(
            f"{person}_ten",
            "Tên",
            FieldKind.NAME,
            section,
            required=required,
            person=person,
            searchable=True,
            max_length=NAME_PART_MAX,
            idcard_attr="ten",
        ),
    )


def full_name_field(
    person: str, section: str, label: str = "Họ, chữ đệm, tên", *, required: bool = True
) -> Field:
    """Return the single full-name field of a person whose name is not sorted on."""
    return Field(
        f"{person}_ho_ten",
        label,
        FieldKind.NAME,
        section,
        required=required,
        person=person,
        searchable=True,
        max_length=FULL_NAME_MAX,
        idcard_attr="full_name",
    )


def birth_date(
    person: str,
    section: str,
    *,
    required: bool = True,
    in_words: bool = False,
    label: str = "Ngày, tháng, năm sinh",
) -> tuple[Field, ...]:
    """Return a person's date of birth, plus its derived words when ``in_words``."""
    fields = [
        Field(
            f"{person}_ngay_sinh",
            label,
            FieldKind.DATE,
            section,
            required=required,
            person=person,
            help="Nhập theo dạng ngày/tháng/năm, ví dụ 15/03/2025.",
            max_length=10,
            idcard_attr="birth_date",
        )
    ]
    if in_words:
        fields.append(
            Field(
                f"{person}_ngay_sinh_bang_chu",
                "Ngày, tháng, năm sinh bằng chữ",
                FieldKind.DATE_IN_WORDS,
                section,
                derived_from=f"{person}_ngay_sinh",
                person=person,
                max_length=200,
            )
        )
    return tuple(fields)


def sex(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's sex field (Nam / Nữ)."""
    return Field(
        f"{person}_gioi_tinh",
        "Giới tính",
        FieldKind.SEX,
        section,
        required=required,
        options=SEX_CHOICES,
        person=person,
        max_length=3,
        idcard_attr="sex",
    )


def ethnicity(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's ethnic group field (one of the 54)."""
    return Field(
        f"{person}_dan_toc",
        "Dân tộc",
        FieldKind.ETHNICITY,
        section,
        required=required,
        person=person,
        help="Gõ vài chữ để tìm, ví dụ: mong, tay, dao.",
        max_length=40,
    )


def nationality(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's nationality field (``Việt Nam`` by default)."""
    return Field(
        f"{person}_quoc_tich",
        "Quốc tịch",
        FieldKind.NATIONALITY,
        section,
        required=required,
        person=person,
        max_length=60,
        # Prefill only where a value is needed: an unknown father keeps an empty line.
        default="Việt Nam" if required else "",
    )


def personal_id(
    person: str,
    section: str,
    *,
    required: bool = False,
    label: str = "Số định danh cá nhân",
    help: str = "12 chữ số, in trên thẻ căn cước.",
) -> Field:
    """Return a person's 12-digit personal ID field (searchable)."""
    return Field(
        f"{person}_so_dinh_danh",
        label,
        FieldKind.PERSONAL_ID,
        section,
        required=required,
        person=person,
        searchable=True,
        help=help,
        max_length=12,
        idcard_attr="id_number",
    )


def residence(
    person: str, section: str, *, required: bool = True, label: str = "Nơi cư trú"
) -> Field:
    """Return a person's residence address (free text, filled from the ID card)."""
    return Field(
        f"{person}_cu_tru",
        label,
        FieldKind.PLACE,
        section,
        required=required,
        person=person,
        help="Thôn/bản (tổ dân phố), xã/phường, tỉnh.",
        max_length=PLACE_MAX,
        idcard_attr="address",
    )


def phone(person: str, section: str) -> Field:
    """Return a contact phone number (for the receipt slip)."""
    return Field(
        f"{person}_dien_thoai",
        "Số điện thoại",
        FieldKind.TEXT,
        section,
        person=person,
        help="Để báo khi có kết quả (không bắt buộc).",
        max_length=15,
    )


def requester(section: str, relation_label: str) -> tuple[Field, ...]:
    """Return the requester's lines (người yêu cầu) common to every declaration."""
    person = "nguoi_yeu_cau"
    return (
        full_name_field(person, section, "Họ, chữ đệm, tên người yêu cầu"),
        personal_id(
            person,
            section,
            required=True,
            label="Số định danh cá nhân / giấy tờ tùy thân",
        ),
        residence(person, section),
        Field(
            f"{person}_quan_he",
            relation_label,
            FieldKind.TEXT,
            section,
            required=True,
            person=person,
            help="Ví dụ: cha, mẹ, ông, bà, anh, chị, bản thân.",
            max_length=50,
        ),
        phone(person, section),
    )


def copies(section: str) -> Field:
    """Return the number of certified copies requested (bản sao)."""
    return Field(
        "so_ban_sao",
        "Số bản sao đề nghị cấp",
        FieldKind.INTEGER,
        section,
        help="Để trống hoặc 0 nếu không cần bản sao.",
        max_length=2,
    )


def notes(section: str) -> Field:
    """Return the clerk's free notes on the dossier."""
    return Field("ghi_chu", "Ghi chú", FieldKind.TEXTAREA, section, max_length=1000)


# -- keys for duplicate detection ---------------------------------------------------------


def folded(value: Any) -> str:
    """Return the search fold of a data value ('' for empty / non-text)."""
    from desktop.forms.vietnamese import fold

    return fold(value) if isinstance(value, str) else ""


def person_key(data: Mapping[str, Any], person: str) -> str:
    """Return the identity of a person for a duplicate key: the ID, else the folded name."""
    pid = data.get(f"{person}_so_dinh_danh")
    if isinstance(pid, str) and pid.strip():
        return "id:" + pid.strip()
    name = data.get(f"{person}_ho_ten")
    if not isinstance(name, str):
        from desktop.forms.model import full_name

        parts = [data.get(f"{person}_{p}") for p in ("ho", "chu_dem", "ten")]
        name = full_name(*(p if isinstance(p, str) else "" for p in parts))
    return "name:" + folded(name) if folded(name) else ""
