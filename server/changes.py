"""The one way a record gets a new version and a change gets into the log.

A pushed change and a resolution by provincial IT both go through :func:`record_version`
(the record's next state, its kept version, its domain keys) and :func:`log_change` (its entry
in the append-only log). ``change`` is a change in its wire shape (``change_id``, ``device_id``,
``entity``, ``entity_id``, ``commune``, ``op``, ``base_version``, ``fields``, ``hlc``,
``clerk``, and ``device_seq`` for a device's change or ``parents`` for a resolution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol import wire
from server import domain
from server.dossier_facts import finished_on
from server.rows import ChangeRow, RecordRow
from server.storage import Tx

__all__ = ["change_result", "log_change", "record_version"]


def record_version(
    tx: Tx,
    before: RecordRow | None,
    change: Mapping[str, Any],
    writes: Mapping[str, Any],
    *,
    delete: bool,
    seq: int,
) -> tuple[RecordRow, dict[str, list[Any]]]:
    """Write the next version of the record ``change`` is about, and keep that version.

    Args:
        tx: the write transaction.
        before: the record's current state (None: ``change`` creates it).
        change: the change making the version (its record, id and device).
        writes: the fields it sets, with their new values.
        delete: whether the version deletes the record.
        seq: the change's ``server_seq`` (it becomes the written fields' sequence).

    Returns:
        The new state and the applied fields ``{field: [old, new]}``.
    """
    old_values = dict(before.values) if before is not None else {}
    values = old_values | dict(writes)
    field_seq = dict(before.field_seq) if before is not None else {}
    field_seq.update({k: seq for k in writes})
    live = not delete and change["entity"] == "dossier"
    rec = RecordRow(
        entity=change["entity"],
        entity_id=change["entity_id"],
        commune=before.commune if before is not None else change["commune"],
        version=(before.version if before is not None else 0) + 1,
        values=values,
        field_seq=field_seq,
        deleted=delete,
        updated_seq=seq,
        dup_key=domain.duplicate_key(values) if live else None,
        book_key=domain.book_key(values) if live else None,
        finished_on=finished_on(
            old_values if before is not None else None,
            before.finished_on if before is not None else None,
            writes,
            change["hlc"],
        ),
    )
    tx.put_record(rec, new=before is None)
    tx.insert_version(
        rec,
        server_seq=seq,
        change_id=change["change_id"],
        device_id=change["device_id"],
        changed=dict(writes),
    )
    return rec, {k: [old_values.get(k), v] for k, v in writes.items()}


def log_change(
    tx: Tx,
    change: Mapping[str, Any],
    number: tuple[int, str],
    *,
    status: str,
    new_version: int | None,
    applied: dict[str, list[Any]],
    reason: str | None,
    conflict_ids: list[int],
    received_at: int,
    kind: str = wire.KIND_CHANGE,
    signature: str | None = None,
) -> ChangeRow:
    """Append ``change`` to the log under ``number`` (``(server_seq, chain)``) with its outcome.

    Returns:
        The log entry, as :meth:`~server.storage.Tx.changes_by_device_seqs` will read it back.
    """
    seq, chain = number
    row = ChangeRow(
        server_seq=seq,
        chain=chain,
        change_id=change["change_id"],
        device_id=change["device_id"],
        device_seq=change.get("device_seq"),
        entity=change["entity"],
        entity_id=change["entity_id"],
        commune=change["commune"],
        op=change["op"],
        base_version=change["base_version"],
        new_version=new_version,
        fields=change["fields"],
        applied=applied,
        hlc=change["hlc"],
        clerk=change["clerk"],
        status=status,
        reason=reason,
        conflict_ids=conflict_ids,
        kind=kind,
        parents=change.get("parents"),
        signature=signature,
        received_at=received_at,
    )
    tx.insert_change(row)
    return row


def change_result(row: ChangeRow, conflict_ids: list[int]) -> dict[str, Any]:
    """Return a logged change's result for the device, the same on every replay of it."""
    out: dict[str, Any] = {
        "device_seq": row.device_seq,
        "change_id": row.change_id,
        "status": row.status,
        "server_seq": row.server_seq,
    }
    if row.new_version is not None:
        out["version"] = row.new_version
    if row.reason:
        out["reason"] = row.reason
    if conflict_ids:
        out["conflict_ids"] = list(conflict_ids)
    return out
