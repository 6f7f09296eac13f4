"""Provincial IT's calls: list and revoke devices, list and resolve conflicts.

A resolution is a new change signed by the server whose parents are both versions (the
record's current one and the losing change); it makes a new record version and flows back to
the communes through the pull like any other change.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from protocol import errors, wire
from server.changes import log_change, record_version
from server.context import ServerContext
from server.errors import ApiError, BadAssignment, NothingChosen, ResolutionError
from server.rows import SERVER_DEVICE_ID, ConflictRow, RecordRow
from server.storage import Tx

__all__ = ["RESOLVER_CLERK", "conflicts", "devices", "resolve", "revoke"]

log = logging.getLogger("motcua.server")

#: Who signs resolutions in the change log.
RESOLVER_CLERK = "provincial-it"
#: The sides a resolution may take.
SIDES = ("current", "incoming")


def devices(ctx: ServerContext) -> list[dict[str, Any]]:
    """Return every device as a JSON-ready dict (no keys)."""
    with ctx.storage.read() as tx:
        rows = tx.list_devices()
    return [
        {
            "device_id": d.device_id,
            "commune": d.commune,
            "label": d.label,
            "status": d.status,
            "status_reason": d.status_reason,
            "enrolled_at": d.enrolled_at,
            "last_seen": d.last_seen,
            "last_sync": d.last_sync,
            "last_device_seq": d.last_device_seq,
            "clock_offset_ms": d.clock_offset_ms,
            "flagged_skew": d.flagged_skew,
        }
        for d in rows
    ]


def revoke(ctx: ServerContext, device_id: str, reason: str = "") -> None:
    """Revoke a device: it is refused from its next request on.

    Raises:
        ApiError: 404 for an unknown device.
    """
    with ctx.storage.write() as tx:
        if tx.get_device(device_id) is None:
            raise ApiError(404, errors.ERR_NOT_FOUND, f"no device {device_id!r}")
        tx.update_device(
            device_id, status="revoked", status_reason=reason or "revoked by provincial IT"
        )
        tx.drop_sessions(device_id)
    log.info("device %s revoked", device_id)


def conflicts(ctx: ServerContext, status: str | None = "open") -> list[ConflictRow]:
    """Return conflicts (open ones by default; ``None`` for all)."""
    with ctx.storage.read() as tx:
        return tx.list_conflicts(status)


def resolve(
    ctx: ServerContext,
    conflict_id: int,
    *,
    take: str | None = None,
    assignments: Mapping[str, Any] | None = None,
    reason: str,
) -> dict[str, Any]:
    """Resolve a conflict with a new server-signed change whose parents are both versions.

    Args:
        ctx: the server.
        conflict_id: the conflict.
        take: ``current`` or ``incoming``.
        assignments: ``{field: value}`` to set instead of (or on top of) ``take``.
        reason: why (kept with the conflict).

    Returns:
        ``{"conflict_id", "change_id", "server_seq", "version"}`` (``change_id`` None when a
        domain conflict is closed without a change).

    Raises:
        ApiError: 404 unknown conflict, 409 already resolved.
        ResolutionError: for arguments that name no usable resolution.
    """
    assignments = dict(assignments or {})
    if take not in (None, *SIDES):
        raise ResolutionError("take", "must be current or incoming")
    if take is None and not assignments:
        raise NothingChosen()
    if not reason.strip():
        raise ResolutionError("reason", "is required")
    now = ctx.clock()
    with ctx.storage.write() as tx:
        conflict = tx.get_conflict(conflict_id)
        if conflict is None:
            raise ApiError(404, errors.ERR_NOT_FOUND, f"no conflict {conflict_id}")
        if conflict["status"] != "open":
            raise ApiError(409, errors.ERR_BAD_REQUEST, f"conflict {conflict_id} is resolved")
        record = tx.get_record(conflict["entity"], conflict["entity_id"])
        assert record is not None
        chosen, delete = _chosen(conflict, record, take)
        if any(not isinstance(k, str) or not k for k in assignments):
            raise BadAssignment()
        chosen.update(assignments)
        if record.deleted and not delete and chosen:
            # Bringing a deleted record back: send all of it, devices may have dropped it.
            chosen = record.values | chosen
        if not chosen and not delete:
            # A domain conflict closed as "both are right": no record changes.
            tx.resolve_conflict(conflict_id, "", reason, now)
            return {"conflict_id": conflict_id, "change_id": None}
        done = _resolution_change(ctx, tx, conflict, record, chosen, delete, reason, now)
    log.info("conflict %s resolved by change %s", conflict_id, done["change_id"])
    return done


def _chosen(
    conflict: ConflictRow, record: RecordRow, take: str | None
) -> tuple[dict[str, Any], bool]:
    """Return the values the side ``take`` keeps for a field or delete conflict, and whether
    it deletes the record (nothing for a domain conflict or when no side is taken)."""
    if conflict["kind"] not in ("field", "delete"):
        return {}, False
    incoming = dict(conflict["incoming"])
    incoming_delete = incoming.pop("_op", None) == "delete"
    keys = sorted(set(conflict["fields"]) | set(incoming))
    if take == "current":
        return {k: record.values.get(k) for k in keys}, record.deleted
    if take == "incoming":
        return ({} if incoming_delete else incoming), incoming_delete
    return {}, False


def _resolution_change(
    ctx: ServerContext,
    tx: Tx,
    conflict: ConflictRow,
    record: RecordRow,
    chosen: dict[str, Any],
    delete: bool,
    reason: str,
    now: int,
) -> dict[str, Any]:
    """Make, sign, apply and log the change that resolves ``conflict``; close the conflict."""
    change_id = uuid.uuid4().hex
    change = {
        "change_id": change_id,
        "device_id": SERVER_DEVICE_ID,
        "entity": record.entity,
        "entity_id": record.entity_id,
        "commune": record.commune,
        "op": "delete" if delete else "upsert",
        "base_version": record.version,
        "fields": {k: [record.values.get(k), v] for k, v in chosen.items()},
        "parents": [record.version, conflict["change_id"]],
        "hlc": f"{now:013d}-0000-{SERVER_DEVICE_ID}",
        "clerk": RESOLVER_CLERK,
    }
    signature = base64.urlsafe_b64encode(ctx.keys.sign(wire.resolution_message(change)))
    number = tx.next_seq(change_id)
    # A resolution always makes a version, even when it keeps the current values, so the
    # devices whose edit lost are brought back in line by the pull.
    rec, applied = record_version(tx, record, change, chosen, delete=delete, seq=number[0])
    log_change(
        tx,
        change,
        number,
        status=wire.STATUS_APPLIED,
        new_version=rec.version,
        applied=applied,
        reason=reason,
        conflict_ids=[conflict["id"]],
        received_at=now,
        kind=wire.KIND_RESOLUTION,
        signature=signature.decode("ascii").rstrip("="),
    )
    tx.resolve_conflict(conflict["id"], change_id, reason, now)
    return {
        "conflict_id": conflict["id"],
        "change_id": change_id,
        "server_seq": number[0],
        "version": rec.version,
    }
