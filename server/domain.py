"""Domain keys of dossiers: when two records describe the same event or the same book entry.

The duplicate rule belongs to the procedure declarations in :mod:`desktop.forms` (births: the
mother's ID or folded name + the child's birth date + the child's folded name; deaths: the
deceased's ID or folded name + the date of death). The server stores only a SHA-256 of the
key, so its index holds no names in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from desktop.forms.lifecycle import HUY, TRA_LAI
from desktop.forms.procedures import get_procedure
from desktop.forms.records import record_data
from protocol.admin import DUPLICATE_OF_FIELD

__all__ = ["book_key", "duplicate_key"]

#: Dossier statuses that no longer count as a registration (a cancelled dossier is no duplicate).
_INACTIVE = (HUY, TRA_LAI)


def duplicate_key(values: Mapping[str, Any]) -> str | None:
    """Return the hashed duplicate key of a flat dossier record, or None.

    None when the procedure is unknown, the data lacks what the key needs, or the dossier is
    cancelled, returned, or marked the duplicate of another (it no longer counts as a
    registration, so a third copy is flagged against the original only).
    """
    if values.get("status") in _INACTIVE or values.get(DUPLICATE_OF_FIELD):
        return None
    code = values.get("procedure")
    if not isinstance(code, str) or not code:
        return None
    try:
        key = get_procedure(code).duplicate_key(record_data(values))
    except Exception:  # an unknown procedure or odd data must never block a sync
        return None
    if not key:
        return None
    return hashlib.sha256("\x1f".join(str(k) for k in key).encode("utf-8")).hexdigest()


def book_key(values: Mapping[str, Any]) -> str | None:
    """Return ``commune|book_type|year|number`` of a dossier's register entry, or None."""
    # A cancelled dossier keeps its number (numbers are never reused), so it still counts.
    parts = [values.get(k) for k in ("commune", "book_type", "book_year", "book_number")]
    if any(p is None or p == "" for p in parts):
        return None
    key = "|".join(str(p) for p in parts)
    # A real entry is a short code, a year and a number; anything longer is no register entry
    # (and would not fit the indexed column).
    return key if len(key) <= 64 else None
