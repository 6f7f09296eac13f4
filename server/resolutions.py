"""Resolutions: provincial IT decides a conflict, by a change the server signs.

A resolution is a new change whose parents are both versions (the record's current one and the
losing change); it makes a new record version through :func:`server.changes.record_version`,
enters the log through :func:`server.changes.log_change` and flows back to the record's commune
through the pull like any other change, carrying who decided (its ``clerk``) and why (its
``reason``). The losing values stay in ``record_versions``.

Three ways in: :func:`resolve` (the command line's ``--take current|incoming`` and
``FIELD=VALUE``), :func:`resolve_choices` (the console's per-field choices, see
:func:`protocol.admin.validate_choices`) and :func:`decide_duplicate` (a suspected duplicate:
keep both, or mark one the duplicate of the other).
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from desktop.forms.procedures import PROCEDURES
from desktop.forms.record_keys import METADATA_LABELS
from desktop.forms.records import DATA_PREFIX
from protocol import errors, wire
from protocol.admin import (
    A_DUPLICATE_OF_B,
    DUPLICATE_OF_FIELD,
    KEEP_BOTH,
    KIND_DELETE,
    KIND_DUPLICATE,
    KIND_FIELD,
    TAKE_CURRENT,
    TAKE_INCOMING,
    Resolved,
)
from protocol.keys import PrivateKeys
from server.changes import log_change, record_version
from server.context import ServerContext
from server.errors import (
    ApiError,
    BadAssignment,
    InvalidArgument,
    NothingChosen,
    ResolutionError,
)
from server.rows import SERVER_DEVICE_ID, ConflictRow, RecordRow
from server.storage import Tx

__all__ = ["RESOLVER_CLERK", "decide_duplicate", "resolve", "resolve_choices"]

log = logging.getLogger("motcua.server")

#: Who signs resolutions made from the command line.
RESOLVER_CLERK = "provincial-it"
#: The sides a resolution may take.
SIDES = (TAKE_CURRENT, TAKE_INCOMING)
#: The pseudo-field of a choice that keeps or deletes the whole record.
RECORD_CHOICE = "_record"
#: Keys a resolution sets only when the conflict is about them: a record stays in its commune
#: and its procedure.
FIXED_KEYS = ("commune", "procedure")


def resolve(
    ctx: ServerContext,
    conflict_id: int,
    *,
    take: str | None = None,
    assignments: Mapping[str, Any] | None = None,
    reason: str,
) -> Resolved:
    """Resolve a conflict taking one side for all its fields, and/or setting field values.

    Args:
        ctx: the server.
        conflict_id: the conflict.
        take: ``current`` or ``incoming``.
        assignments: ``{field: value}`` to set instead of (or on top of) ``take``.
        reason: why (kept with the conflict).

    Returns:
        What the resolution made (``change_id`` None when a domain conflict is closed without
        a change).

    Raises:
        ApiError: 404 unknown conflict, 409 already resolved.
        ResolutionError: for arguments that name no usable resolution.
    """
    assignments = dict(assignments or {})
    if take not in (None, *SIDES):
        raise ResolutionError("take", "must be current or incoming")
    if take is None and not assignments:
        raise NothingChosen()
    _check_reason(reason)
    now = ctx.clock()
    with ctx.storage.write() as tx:
        conflict, record = _open_conflict(tx, conflict_id)
        chosen, delete = _taken(conflict, record, take)
        if any(not isinstance(k, str) or not k for k in assignments):
            raise BadAssignment()
        chosen.update(assignments)
        return _close(ctx.keys, tx, conflict, record, (chosen, delete), reason, RESOLVER_CLERK, now)


def resolve_choices(
    tx: Tx,
    keys: PrivateKeys,
    conflict_id: int,
    choices: Mapping[str, Mapping[str, Any]],
    *,
    reason: str,
    clerk: str,
    now: int,
) -> Resolved:
    """Resolve a conflict field by field, as the console asks (inside a write transaction).

    Every clashing field needs a choice (``take`` current or incoming, or a ``value``); the
    other fields of the incoming change follow the merge rules (its value, unless chosen
    otherwise). A delete or cancel against an edit needs ``_record``: ``current`` keeps the
    server's side, ``incoming`` the device's (which may delete the record).

    Args:
        tx: the write transaction.
        keys: the server's keys (the resolution is signed).
        conflict_id: the conflict.
        choices: checked by :func:`protocol.admin.validate_choices`.
        reason: why (travels with the resolution to the devices).
        clerk: who decides (the operator's name).
        now: server time.

    Raises:
        ApiError: 404 unknown conflict, 409 already resolved.
        InvalidArgument: a missing choice, an unknown field, a duplicate (see
            :func:`decide_duplicate`), an empty reason.
    """
    _check_reason(reason)
    conflict, record = _open_conflict(tx, conflict_id)
    if conflict["kind"] == KIND_DUPLICATE:
        raise InvalidArgument(
            "id", f"{conflict_id} is a suspected duplicate: use duplicates.decide"
        )
    _check_fields(conflict, record, choices)
    if conflict["kind"] in (KIND_FIELD, KIND_DELETE):
        base = tx.version_values(record.entity, record.entity_id, conflict["base_version"]) or {}
        outcome = _chosen_fields(conflict, record, base, choices)
    else:  # same book number: values change the conflict's record, a side keeps both
        outcome = ({k: c["value"] for k, c in choices.items() if "value" in c}, False)
    return _close(keys, tx, conflict, record, outcome, reason, clerk, now)


def decide_duplicate(
    tx: Tx,
    keys: PrivateKeys,
    conflict_id: int,
    decision: str,
    *,
    reason: str,
    clerk: str,
    now: int,
) -> Resolved:
    """Decide a suspected duplicate: keep both, or mark one the duplicate of the other.

    ``a`` is the conflict's record, ``b`` the other one. Marking sets ``duplicate_of`` on the
    duplicate to the other's id by a signed resolution change to the duplicate's commune;
    nothing is deleted and the status stays.

    Raises:
        ApiError: 404 unknown conflict or record, 409 already resolved or a deleted record.
        InvalidArgument: for a conflict that is not a suspected duplicate, an empty reason.
    """
    _check_reason(reason)
    conflict, a = _open_conflict(tx, conflict_id)
    if conflict["kind"] != KIND_DUPLICATE:
        raise InvalidArgument("id", f"{conflict_id} is not a suspected duplicate")
    if decision == KEEP_BOTH:
        return _close(keys, tx, conflict, a, ({}, False), reason, clerk, now)
    b = tx.get_record(conflict["entity"], conflict["other_entity_id"] or "")
    if b is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no record {conflict['other_entity_id']!r}")
    duplicate, original = (a, b) if decision == A_DUPLICATE_OF_B else (b, a)
    if duplicate.deleted:
        raise ApiError(409, errors.ERR_BAD_REQUEST, f"record {duplicate.entity_id} is deleted")
    chosen = {DUPLICATE_OF_FIELD: original.entity_id}
    return _close(keys, tx, conflict, duplicate, (chosen, False), reason, clerk, now)


def _check_reason(reason: str) -> None:
    if not reason.strip():
        raise ResolutionError("reason", "is required")


def _open_conflict(tx: Tx, conflict_id: int) -> tuple[ConflictRow, RecordRow]:
    """Return an open conflict and its record.

    Raises:
        ApiError: 404 unknown conflict, 409 already resolved.
    """
    conflict = tx.get_conflict(conflict_id)
    if conflict is None:
        raise ApiError(404, errors.ERR_NOT_FOUND, f"no conflict {conflict_id}")
    if conflict["status"] != "open":
        raise ApiError(409, errors.ERR_BAD_REQUEST, f"conflict {conflict_id} is resolved")
    record = tx.get_record(conflict["entity"], conflict["entity_id"])
    assert record is not None
    return conflict, record


def _taken(
    conflict: ConflictRow, record: RecordRow, take: str | None
) -> tuple[dict[str, Any], bool]:
    """Return the values the side ``take`` keeps for a field or delete conflict, and whether
    it deletes the record (nothing for a domain conflict or when no side is taken)."""
    if conflict["kind"] not in (KIND_FIELD, KIND_DELETE):
        return {}, False
    incoming = dict(conflict["incoming"])
    incoming_delete = incoming.pop("_op", None) == "delete"
    keys = sorted(set(conflict["fields"]) | set(incoming))
    if take == TAKE_CURRENT:
        return {k: record.values.get(k) for k in keys}, record.deleted
    if take == TAKE_INCOMING:
        return ({} if incoming_delete else incoming), incoming_delete
    return {}, False


def _check_fields(
    conflict: ConflictRow, record: RecordRow, choices: Mapping[str, Mapping[str, Any]]
) -> None:
    """Refuse choices for fields the record cannot have (or that a resolution may not move).

    Raises:
        InvalidArgument: naming the first unknown field.
    """
    in_conflict = {*conflict["fields"], *conflict["incoming"]} - {"_op"}
    known = {*record.values, *METADATA_LABELS} - set(FIXED_KEYS)
    procedure = PROCEDURES.get(str(record.values.get("procedure")))
    if procedure is not None:
        known.update(DATA_PREFIX + name for name in procedure.field_names)
    for field in choices:
        if field != RECORD_CHOICE and field not in in_conflict | known:
            raise InvalidArgument("choices", f"names a field the record cannot have: {field!r}")


def _chosen_fields(
    conflict: ConflictRow,
    record: RecordRow,
    base: Mapping[str, Any],
    choices: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Return the values a field or delete conflict's choices set, and whether they delete.

    Raises:
        InvalidArgument: when ``_record`` is needed and missing, or a clashing field has no
            choice.
    """
    incoming = dict(conflict["incoming"])
    incoming_delete = incoming.pop("_op", None) == "delete"
    whole = choices.get(RECORD_CHOICE, {}).get("take")
    if whole is None and (incoming_delete or record.deleted):
        raise InvalidArgument("choices", "need _record: current or incoming (a deletion)")
    if (whole == TAKE_INCOMING and incoming_delete) or (whole == TAKE_CURRENT and record.deleted):
        return {}, True
    missing = [k for k in conflict["fields"] if k not in choices]
    if whole is None and missing:
        raise InvalidArgument("choices", f"must decide every clashing field: {', '.join(missing)}")
    chosen: dict[str, Any] = {}
    for key in sorted({*conflict["fields"], *incoming, *choices} - {RECORD_CHOICE}):
        choice = choices.get(key, {})
        if "value" in choice:
            chosen[key] = choice["value"]
            continue
        side = choice.get("take") or whole or (TAKE_INCOMING if key in incoming else TAKE_CURRENT)
        chosen[key] = (
            incoming.get(key, base.get(key)) if side == TAKE_INCOMING else record.values.get(key)
        )
    if incoming_delete:
        # The deleting device dropped its copy: send all of the record back.
        chosen = record.values | chosen
    return chosen, False


def _close(
    keys: PrivateKeys,
    tx: Tx,
    conflict: ConflictRow,
    record: RecordRow,
    outcome: tuple[dict[str, Any], bool],
    reason: str,
    clerk: str,
    now: int,
) -> Resolved:
    """Close ``conflict`` with the values ``outcome`` sets on ``record`` (and whether it
    deletes it): by a change the server signs, whose parents are both versions; without a
    change when nothing is set (a domain conflict closed as "both are right")."""
    chosen, delete = outcome
    if record.deleted and not delete and chosen:
        # Bringing a deleted record back: send all of it, devices may have dropped it.
        chosen = record.values | chosen
    if not chosen and not delete:
        tx.resolve_conflict(conflict["id"], "", reason, now, clerk)
        log.info("conflict %s closed without a change", conflict["id"])
        return {
            "conflict_id": conflict["id"],
            "change_id": None,
            "server_seq": None,
            "version": None,
        }
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
        "clerk": clerk,
    }
    signature = base64.urlsafe_b64encode(keys.sign(wire.resolution_message(change)))
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
    tx.resolve_conflict(conflict["id"], change_id, reason, now, clerk)
    log.info("conflict %s resolved by change %s", conflict["id"], change_id)
    return {
        "conflict_id": conflict["id"],
        "change_id": change_id,
        "server_seq": number[0],
        "version": rec.version,
    }
