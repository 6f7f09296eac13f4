"""Duplicate review: two dossiers that look like one event, side by side with the evidence.

``a`` is the conflict's dossier (the one whose arrival raised it), ``b`` the other. The
evidence rows (:func:`server.console.field_rows.evidence_rows`) show the fields of the
procedure's duplicate key (``matched``: those equal, compared folded) and the persons' other
fields; provincial IT then keeps both or marks one the duplicate of the other
(:func:`server.resolutions.decide_duplicate`).
"""

from __future__ import annotations

from protocol import errors
from protocol.admin import KIND_DUPLICATE, DuplicateDetail
from server.console.conflicts import get_conflict, summary
from server.console.field_rows import evidence_rows
from server.console.versions import version_info
from server.errors import ApiError, InvalidArgument
from server.queries.console import InboxRow
from server.storage import Tx

__all__ = ["duplicate_detail"]


def duplicate_detail(tx: Tx, conflict_id: int) -> DuplicateDetail:
    """Answer ``duplicates.get``: both dossiers, where each came from, and the evidence.

    Raises:
        ApiError: 404 for an unknown conflict or a missing record.
        InvalidArgument: for a conflict that is not a suspected duplicate.
    """
    conflict, a = get_conflict(tx, conflict_id)
    if conflict["kind"] != KIND_DUPLICATE:
        raise InvalidArgument("id", f"{conflict_id} is not a suspected duplicate")
    b = tx.get_record(a.entity, conflict["other_entity_id"] or "")
    if b is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no record {conflict['other_entity_id']!r}")
    evidence = evidence_rows(a.values, b.values)
    return {
        "conflict": summary(InboxRow(conflict, a.values.get("procedure"), a.values)),
        "a": dict(a.values),
        "b": dict(b.values),
        "a_info": version_info(tx, a.entity, a.entity_id, a.version, a.commune),
        "b_info": version_info(tx, b.entity, b.entity_id, b.version, b.commune),
        "evidence": evidence,
        "matched": [r["field"] for r in evidence if r["clashing"] and not r["differs"]],
    }
