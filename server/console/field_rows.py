"""Field rows: a conflict's fields side by side (base, current, incoming), with their labels.

For an edit or a delete the rows are the clashing fields and every field whose three values are
not all the same. For two dossiers of one suspected event (``duplicate``) the rows are the
*evidence*: the fields the procedure's duplicate key is made of, compared folded (case and
diacritics aside, as the key compares them), then the other fields of the persons the key names;
for two dossiers with one register number, their book entries. In those two the other (older)
dossier is the ``current`` side and the conflict's own dossier the ``incoming`` one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms.procedures import PROCEDURES
from desktop.forms.record_keys import field_label, in_form_order
from desktop.forms.records import DATA_PREFIX, record_data
from desktop.forms.vietnamese import fold
from protocol.admin import FieldRow
from server.merge import same_value
from server.rows import ConflictRow, RecordRow

__all__ = ["book_rows", "edit_rows", "evidence_rows", "field_row", "key_fields"]

#: What a same-book-number conflict compares of its two dossiers, and what clashes there.
_BOOK_ROWS = ("procedure", "dossier_no", "book_type", "book_year", "book_number")
_BOOK_KEYS = ("book_type", "book_year", "book_number")


def field_row(
    procedure: str | None,
    key: str,
    sides: tuple[Any, Any, Any],
    clashing: bool,
    *,
    differs: bool | None = None,
) -> FieldRow:
    """Return one field side by side: ``sides`` are its base, current and incoming values."""
    base, current, incoming = sides
    return {
        "field": key,
        "label": field_label(procedure, key),
        "base": base,
        "current": current,
        "incoming": incoming,
        "differs": (not same_value(current, incoming)) if differs is None else differs,
        "clashing": clashing,
    }


def _clashing_first(rows: list[FieldRow]) -> list[FieldRow]:
    return sorted(rows, key=lambda r: not r["clashing"])  # stable: then the form's order


def edit_rows(conflict: ConflictRow, record: RecordRow, base: Mapping[str, Any]) -> list[FieldRow]:
    """Return the rows of a field or delete conflict against ``record``'s current values.

    Args:
        conflict: the conflict.
        record: its record now.
        base: the record's values at the conflict's base version.
    """
    procedure = record.values.get("procedure")
    incoming = dict(conflict["incoming"])
    deletes = incoming.pop("_op", None) == "delete"
    clashing = set(conflict["fields"])
    rows = []
    for key in in_form_order(procedure, {*base, *record.values, *incoming, *clashing}):
        # The incoming device saw its base plus its own change (nothing, when it deletes).
        sides = (
            base.get(key),
            record.values.get(key),
            None if deletes else incoming.get(key, base.get(key)),
        )
        unchanged = same_value(sides[0], sides[1]) and (deletes or same_value(sides[1], sides[2]))
        if key in clashing or not unchanged:
            rows.append(field_row(procedure, key, sides, key in clashing))
    return _clashing_first(rows)


def book_rows(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[FieldRow]:
    """Return the rows of a same-book-number conflict: ``theirs`` current, ``mine`` incoming."""
    procedure = mine.get("procedure")
    return [
        field_row(procedure, key, (None, theirs.get(key), mine.get(key)), key in _BOOK_KEYS)
        for key in _BOOK_ROWS
    ]


def key_fields(values: Mapping[str, Any]) -> list[str]:
    """Return the record keys a dossier's duplicate key is made of, in form order.

    Found from the procedure's own rule: a filled-in field is part of the key when blanking it
    changes the key (so the mother's name is not, when her ID number decides).
    """
    procedure = PROCEDURES.get(str(values.get("procedure")))
    if procedure is None:
        return []
    data = record_data(values)
    key = procedure.duplicate_key(data)
    if key is None:
        return []
    return [
        DATA_PREFIX + name
        for name in procedure.field_names
        if data.get(name) not in (None, "") and procedure.duplicate_key({**data, name: ""}) != key
    ]


def _folded(value: Any) -> str:
    return fold(value).strip() if isinstance(value, str) else "" if value is None else str(value)


def evidence_rows(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[FieldRow]:
    """Return why two dossiers look like one event: ``theirs`` current, ``mine`` incoming.

    The duplicate key's fields come first (``clashing``: they made the match; ``differs`` is
    False where they are equal folded), then the other filled-in fields of the persons the key
    names and the event's date, for provincial IT to judge (twins share a mother and a date).
    """
    code = mine.get("procedure")
    keyed = set(key_fields(mine)) | set(key_fields(theirs))
    procedure = PROCEDURES.get(str(code))
    context: set[str] = set()
    if procedure is not None:
        names = {k[len(DATA_PREFIX) :] for k in keyed}
        persons = {f.person for f in procedure.fields if f.name in names} - {None}
        context = {
            DATA_PREFIX + f.name
            for f in procedure.fields
            if f.person in persons or f.name == procedure.event_date_field
        }
    rows = []
    for key in in_form_order(code if isinstance(code, str) else None, keyed | context):
        a, b = mine.get(key), theirs.get(key)
        if key not in keyed and a in (None, "") and b in (None, ""):
            continue
        differs = _folded(a) != _folded(b)
        rows.append(field_row(code, key, (None, b, a), key in keyed, differs=differs))
    return _clashing_first(rows)
