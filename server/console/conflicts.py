"""The conflict inbox: a filtered page of conflicts, and one conflict side by side.

A page is newest first, filtered by commune (the record's or the other record's), procedure,
kind, status and age in days. One conflict shows, field by field, the base the device started
from, the server's current values and the incoming change (clashing fields first, then the
form's order), where each side came from, the resolution once there is one and, for each device
of the record's commune, when it received that resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desktop.forms.procedures import PROCEDURES
from desktop.forms.records import record_data
from protocol import errors
from protocol.admin import (
    KIND_DELETE,
    KIND_DUPLICATE,
    KIND_FIELD,
    ConflictDetail,
    ConflictSummary,
    Delivery,
    Page,
    Resolved,
    VersionInfo,
)
from server.console.field_rows import book_rows, edit_rows, evidence_rows
from server.console.versions import made_by, version_info
from server.errors import ApiError
from server.queries.console import ConflictFilter, InboxRow
from server.rows import ConflictRow, RecordRow
from server.storage import Tx

__all__ = [
    "DAY_MS",
    "conflict_detail",
    "conflict_filter",
    "conflict_page",
    "get_conflict",
    "summary",
]

DAY_MS = 24 * 3600 * 1000


def conflict_filter(args: Mapping[str, Any], now: int) -> ConflictFilter:
    """Return the filter of ``conflicts.list`` arguments (checked by ``protocol.admin``).

    A conflict's age is whole days since it was raised: ``min_age_days=3`` keeps those raised
    3 or more days ago, ``max_age_days=0`` those raised in the last 24 hours.
    """
    min_age, max_age = args.get("min_age_days") or 0, args.get("max_age_days")
    return ConflictFilter(
        commune=args.get("commune"),
        procedure=args.get("procedure"),
        kind=args.get("kind"),
        status=args.get("status", "open"),
        created_before=now - min_age * DAY_MS if min_age else None,
        created_after=None if max_age is None else now - (max_age + 1) * DAY_MS,
    )


def conflict_page(tx: Tx, args: Mapping[str, Any], now: int) -> Page:
    """Answer ``conflicts.list``: a page of :class:`ConflictSummary`, newest first."""
    offset = args.get("offset", 0)
    total, rows = tx.conflict_page(
        conflict_filter(args, now), offset=offset, limit=args.get("limit", 200), newest_first=True
    )
    changes = [r.conflict["resolution_change_id"] for r in rows]
    delivered = tx.delivery_counts([c for c in changes if c])
    items = []
    for row, change in zip(rows, changes, strict=True):
        item = summary(row)
        if change in delivered:
            item["delivered"], item["devices"] = delivered[change]
        items.append(item)
    return {"total": total, "offset": offset, "items": items}


def _title(procedure: str | None, values: Mapping[str, Any] | None) -> str:
    """Return who the dossier is about (its main persons' names), or ``""``."""
    declared = PROCEDURES.get(procedure or "")
    if declared is None or not values:
        return ""
    return declared.display_name(record_data(values))


def summary(row: InboxRow) -> ConflictSummary:
    """Return the inbox row of a conflict and what its record says of itself."""
    c, values = row.conflict, row.values or {}
    procedure = row.procedure or values.get("procedure")
    dossier_no = values.get("dossier_no")
    return {
        "id": c["id"],
        "kind": c["kind"],
        "status": c["status"],
        "entity_id": c["entity_id"],
        "other_entity_id": c["other_entity_id"],
        "commune": c["commune"],
        "other_commune": c["other_commune"],
        "procedure": procedure,
        "title": _title(procedure, row.values),
        "dossier_no": None if dossier_no is None else str(dossier_no),
        "fields": list(c["fields"]),
        "device_id": c["device_id"],
        "clerk": c["clerk"],
        "created_at": c["created_at"],
        "resolved_at": c["resolved_at"],
        "delivered": None,
        "devices": None,
    }


def get_conflict(tx: Tx, conflict_id: int) -> tuple[ConflictRow, RecordRow]:
    """Return a conflict and its record.

    Raises:
        ApiError: 404 for an unknown conflict.
    """
    conflict = tx.get_conflict(conflict_id)
    record = None if conflict is None else tx.get_record(conflict["entity"], conflict["entity_id"])
    if conflict is None or record is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no conflict {conflict_id}")
    return conflict, record


def _resolution(tx: Tx, conflict: ConflictRow) -> tuple[Resolved | None, list[Delivery]]:
    """Return what resolved ``conflict`` and, per device of the changed record's commune,
    when it received the resolution."""
    if conflict["status"] != "resolved":
        return None, []
    change = tx.change_by_id(conflict["resolution_change_id"] or "")
    resolved: Resolved = {
        "conflict_id": conflict["id"],
        "change_id": change.change_id if change else None,
        "server_seq": change.server_seq if change else None,
        "version": change.new_version if change else None,
    }
    if change is None:
        return resolved, []
    received = tx.deliveries_of(change.change_id)
    deliveries: list[Delivery] = [
        {
            "device_id": d.device_id,
            "label": d.label,
            "status": d.status,
            "received_at": received.get(d.device_id),
        }
        for d in tx.list_devices(change.commune)
    ]
    return resolved, deliveries


def conflict_detail(tx: Tx, conflict_id: int) -> ConflictDetail:
    """Answer ``conflicts.get``: one conflict side by side.

    Raises:
        ApiError: 404 for an unknown conflict.
    """
    conflict, record = get_conflict(tx, conflict_id)
    entity, entity_id = record.entity, record.entity_id
    if conflict["kind"] in (KIND_FIELD, KIND_DELETE):
        base_values = tx.version_values(entity, entity_id, conflict["base_version"]) or {}
        rows = edit_rows(conflict, record, base_values)
        current = version_info(tx, entity, entity_id, record.version, record.commune)
    else:
        other = tx.get_record(entity, conflict["other_entity_id"] or "")
        theirs = other.values if other is not None else conflict["current"]
        rows = (
            evidence_rows(record.values, theirs)
            if conflict["kind"] == KIND_DUPLICATE
            else book_rows(record.values, theirs)
        )
        current = (
            version_info(tx, entity, other.entity_id, other.version, other.commune)
            if other is not None
            else version_info(tx, entity, entity_id, 0, conflict["other_commune"] or "")
        )
    resolved, deliveries = _resolution(tx, conflict)
    procedure = record.values.get("procedure")
    return {
        "conflict": summary(InboxRow(conflict, procedure, record.values)),
        "fields": rows,
        "base": version_info(tx, entity, entity_id, conflict["base_version"], record.commune),
        "current": current,
        "incoming": _incoming_info(tx, conflict),
        "incoming_deletes": conflict["incoming"].get("_op") == "delete",
        "current_deleted": record.deleted,
        "resolution": resolved,
        "resolution_reason": conflict["resolution_reason"],
        "resolved_by": conflict["resolved_by"],
        "deliveries": deliveries,
    }


def _incoming_info(tx: Tx, conflict: ConflictRow) -> VersionInfo:
    """Return where the change that raised ``conflict`` came from."""
    device = tx.get_device(conflict["device_id"])
    return made_by(
        tx,
        version=None,
        commune=device.commune if device is not None else conflict["commune"],
        device_id=conflict["device_id"],
        clerk=conflict["clerk"],
        hlc=conflict["hlc"],
        received_at=conflict["created_at"],
    )
