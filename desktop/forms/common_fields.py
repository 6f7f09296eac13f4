"""Field builders shared by the procedure declarations (a person's identity lines).

The TT 04/2024/TT-BTP declarations repeat the same identity lines for every person (name,
date of birth, sex, ethnicity, nationality, residence, personal ID). These builders keep the
labels, kinds, lengths and ID-card mapping identical across procedures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms.fields import Choice, Field, FieldKind, Person
from desktop.forms.names import full_name
from desktop.forms.rules import ProcessingRule

SEX_CHOICES = (Choice("Nam", "Nam"), Choice("Nữ", "Nữ"))
"""The two values of a SEX field, as written on the papers."""

NAME_PART_MAX = 40
FULL_NAME_MAX = 100
PLACE_MAX = 250

REQUESTER = Person("nguoi_yeu_cau", "Người yêu cầu")
"""The person who asks for the registration; :func:`requester` declares their lines."""

SAME_DAY = ProcessingRule(
    working_days=0,
    description="Trả kết quả ngay trong ngày; hồ sơ nhận sau 15 giờ trả trong ngày làm "
    "việc tiếp theo.",
)
"""The result on the day the papers are received (from 15:00 on, the next working day)."""


def _person_field(
    person: str,
    suffix: str,
    label: str,
    kind: FieldKind,
    section: str,
    *,
    max_length: int,
    required: bool = False,
    options: tuple[Choice, ...] = (),
    help: str = "",
    derived_from: str | None = None,
    searchable: bool = False,
    default: str = "",
    idcard_attr: str | None = None,
) -> Field:
    """Return a field describing ``person``, named ``<person>_<suffix>`` (see :class:`Field`)."""
    return Field(
        f"{person}_{suffix}",
        label,
        kind,
        section,
        required=required,
        options=options,
        help=help,
        derived_from=derived_from,
        person=person,
        searchable=searchable,
        max_length=max_length,
        default=default,
        idcard_attr=idcard_attr,
    )


def name_parts(person: str, section: str, *, required: bool = True) -> tuple[Field, ...]:
    """Return the họ / chữ đệm / tên fields of a person whose name is sorted.

    Args:
        person: the person key (field prefix).
        section: the section key.
        required: whether họ and tên are required (chữ đệm never is: many names have none).
    """
    return (
        _person_field(
            person,
            "ho",
            "Họ",
            FieldKind.NAME,
            section,
            required=required,
            searchable=True,
            max_length=NAME_PART_MAX,
            idcard_attr="ho",
        ),
        _person_field(
            person,
            "chu_dem",
            "Chữ đệm",
            FieldKind.NAME,
            section,
            searchable=True,
            max_length=NAME_PART_MAX,
            help="Để trống nếu không có chữ đệm.",
            idcard_attr="chu_dem",
        ),
        _person_field(
            person,
            "ten",
            "Tên",
            FieldKind.NAME,
            section,
            required=required,
            searchable=True,
            max_length=NAME_PART_MAX,
            idcard_attr="ten",
        ),
    )


def full_name_field(
    person: str, section: str, label: str = "Họ, chữ đệm, tên", *, required: bool = True
) -> Field:
    """Return the single full-name field of a person whose name is not sorted on."""
    return _person_field(
        person,
        "ho_ten",
        label,
        FieldKind.NAME,
        section,
        required=required,
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
    born = _person_field(
        person,
        "ngay_sinh",
        label,
        FieldKind.DATE,
        section,
        required=required,
        help="Nhập theo dạng ngày/tháng/năm, ví dụ 15/03/2025.",
        max_length=10,
        idcard_attr="birth_date",
    )
    if not in_words:
        return (born,)
    words = _person_field(
        person,
        "ngay_sinh_bang_chu",
        "Ngày, tháng, năm sinh bằng chữ",
        FieldKind.DATE_IN_WORDS,
        section,
        derived_from=born.name,
        max_length=200,
    )
    return (born, words)


def sex(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's sex field (Nam / Nữ)."""
    return _person_field(
        person,
        "gioi_tinh",
        "Giới tính",
        FieldKind.SEX,
        section,
        required=required,
        options=SEX_CHOICES,
        max_length=3,
        idcard_attr="sex",
    )


def ethnicity(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's ethnic group field (one of the 54)."""
    return _person_field(
        person,
        "dan_toc",
        "Dân tộc",
        FieldKind.ETHNICITY,
        section,
        required=required,
        help="Gõ vài chữ để tìm, ví dụ: mong, tay, dao.",
        max_length=40,
    )


def nationality(person: str, section: str, *, required: bool = True) -> Field:
    """Return a person's nationality field (``Việt Nam`` by default)."""
    # Prefill only where a value is needed: an unknown father keeps an empty line.
    return _person_field(
        person,
        "quoc_tich",
        "Quốc tịch",
        FieldKind.NATIONALITY,
        section,
        required=required,
        max_length=60,
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
    return _person_field(
        person,
        "so_dinh_danh",
        label,
        FieldKind.PERSONAL_ID,
        section,
        required=required,
        searchable=True,
        help=help,
        max_length=12,
        idcard_attr="id_number",
    )


def residence(
    person: str, section: str, *, required: bool = True, label: str = "Nơi cư trú"
) -> Field:
    """Return a person's residence address (free text, filled from the ID card)."""
    return _person_field(
        person,
        "cu_tru",
        label,
        FieldKind.PLACE,
        section,
        required=required,
        help="Thôn/bản (tổ dân phố), xã/phường, tỉnh.",
        max_length=PLACE_MAX,
        idcard_attr="address",
    )


def phone(person: str, section: str) -> Field:
    """Return a contact phone number (for the receipt slip)."""
    return _person_field(
        person,
        "dien_thoai",
        "Số điện thoại",
        FieldKind.TEXT,
        section,
        help="Để báo khi có kết quả (không bắt buộc).",
        max_length=15,
    )


def requester(section: str, relation_label: str) -> tuple[Field, ...]:
    """Return the requester's lines (người yêu cầu) common to every declaration."""
    person = REQUESTER.key
    return (
        full_name_field(person, section, "Họ, chữ đệm, tên người yêu cầu"),
        personal_id(
            person,
            section,
            required=True,
            label="Số định danh cá nhân / giấy tờ tùy thân",
        ),
        residence(person, section),
        _person_field(
            person,
            "quan_he",
            relation_label,
            FieldKind.TEXT,
            section,
            required=True,
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
        parts = [data.get(f"{person}_{p}") for p in ("ho", "chu_dem", "ten")]
        name = full_name(*(p if isinstance(p, str) else "" for p in parts))
    return "name:" + folded(name) if folded(name) else ""
