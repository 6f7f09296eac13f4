"""What the keys of a flat dossier record are called, in Vietnamese, for provincial IT.

A ``data.<name>`` key is a field of the procedure's declaration and takes its label from there;
a label the procedure uses for several people (``Số định danh cá nhân`` of the child, the
mother, the father) is followed by the section it belongs to. The metadata keys of
docs/architecture.md have their names here. One home for both sides: the server names the
fields of a conflict with it, the console's screens the fields of the inbox and the history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache

from desktop.forms.procedures import PROCEDURES
from desktop.forms.records import DATA_PREFIX

__all__ = [
    "CONFLICT_KEY_LABELS",
    "DUPLICATE_OF_FIELD",
    "METADATA_LABELS",
    "field_label",
    "in_form_order",
]

#: The key a duplicate gets pointing at the record it duplicates (the same name as
#: ``protocol.admin.DUPLICATE_OF_FIELD``, which forms may not import; a test holds them equal).
DUPLICATE_OF_FIELD = "duplicate_of"

#: The metadata keys of a dossier record and their Vietnamese names.
METADATA_LABELS = {
    "procedure": "Thủ tục",
    "commune": "Xã, phường",
    "dossier_no": "Số hồ sơ",
    "status": "Trạng thái",
    "received_at": "Ngày tiếp nhận",
    "due_at": "Ngày hẹn trả kết quả",
    "late": "Đăng ký quá hạn",
    "book_type": "Loại sổ",
    "book_year": "Năm của sổ",
    "book_number": "Số đăng ký",
    DUPLICATE_OF_FIELD: "Trùng với hồ sơ",
}


#: What a domain conflict names as its clashing "field" (server/domain_conflicts.py): not record
#: keys a resolution may set, so apart from :data:`METADATA_LABELS`.
CONFLICT_KEY_LABELS = {
    "dup_key": "Cùng người, cùng sự kiện",
    "book_key": "Số đăng ký trong sổ",
}


@cache
def _labels(procedure_code: str) -> dict[str, str]:
    """Return the label of every field of a procedure, made unique by its section's title."""
    procedure = PROCEDURES.get(procedure_code)
    if procedure is None:
        return {}
    sections = {s.key: s.title for s in procedure.sections}
    counts = Counter(f.label for f in procedure.fields)
    return {
        f.name: f.label if counts[f.label] == 1 else f"{f.label} ({sections[f.section]})"
        for f in procedure.fields
    }


def field_label(procedure_code: str | None, key: str) -> str:
    """Return the Vietnamese name of a record key; an unknown key is made readable."""
    if key.startswith(DATA_PREFIX):
        name = key[len(DATA_PREFIX) :]
        return _labels(procedure_code or "").get(name) or _readable(name)
    return METADATA_LABELS.get(key) or CONFLICT_KEY_LABELS.get(key) or _readable(key)


def _readable(name: str) -> str:
    """Return ``tre_noi_sinh`` as "Tre noi sinh" (a key no declaration names)."""
    return name.replace("_", " ").capitalize()


@cache
def _form_order(procedure_code: str) -> dict[str, int]:
    """Return each record key's place: metadata first, then the fields in form (Tab) order."""
    procedure = PROCEDURES.get(procedure_code)
    names = [*METADATA_LABELS]
    if procedure is not None:
        names.extend(DATA_PREFIX + name for name in procedure.field_names)
    return {key: i for i, key in enumerate(names)}


def in_form_order(procedure_code: str | None, keys: Iterable[str]) -> list[str]:
    """Return record keys sorted as the form shows them (unknown keys last, by name)."""
    order = _form_order(procedure_code or "")
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))
