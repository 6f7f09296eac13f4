"""Local replica bookkeeping for sync: server versions, the pull cursor, sync health.

:func:`apply_remote_changes` applies one pulled page and stores the cursor in the same
transaction, so a crash leaves either the whole page applied with its cursor, or neither.

Rules for each remote change:

* a change this device made itself (same ``device_id``) only advances ``server_version``:
  the local row already has its values;
* otherwise its fields are applied, except fields that have local changes the server has not
  acknowledged yet; those keep the local value until the server answers (the server merges
  or reports a conflict);
* ``op = "delete"`` removes the record (unless it has pending local changes: then only the
  version moves and the server will report the conflict).

A remote change is a dict in the wire format (docs/architecture.md) plus ``server_version``,
the record's version on the server after that change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.store import audit, dossiers, outbox
from desktop.store.context import WriteContext


@dataclass(frozen=True)
class SyncState:
    """What the store remembers about sync between runs."""

    cursor: int
    server_epoch: str | None
    last_sync_at: str | None
    last_error: str | None
    clock_offset: float | None


@dataclass(frozen=True)
class ApplyReport:
    """What applying a page did.

    Attributes:
        applied: remote changes written to local records.
        own: changes from this device whose version was advanced.
        kept_local: field values kept because they have pending local changes.
        cursor: the cursor stored.
    """

    applied: int
    own: int
    kept_local: int
    cursor: int


_STATE_FIELDS = ("cursor", "server_epoch", "last_sync_at", "last_error", "clock_offset")


def get_sync_state(conn: Any) -> SyncState:
    """Return the stored sync state."""
    row = conn.execute(f"SELECT {', '.join(_STATE_FIELDS)} FROM sync_state WHERE id = 1").fetchone()
    return SyncState(*row) if row else SyncState(0, None, None, None, None)


def update_sync_state(conn: Any, **values: Any) -> None:
    """Set some sync state fields (in the caller's transaction).

    Raises:
        ValueError: an unknown field name.
    """
    unknown = set(values) - set(_STATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown sync state fields: {sorted(unknown)}")
    if values:
        sets = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE sync_state SET {sets} WHERE id = 1", tuple(values.values()))


def _apply_attachment(conn: Any, change: Mapping[str, Any], version: int, at: str) -> None:
    new = {k: v[1] for k, v in change.get("fields", {}).items()}
    row = conn.execute("SELECT 1 FROM attachments WHERE id = ?", (change["entity_id"],)).fetchone()
    if row is None and change.get("op") != "delete":
        conn.execute(
            "INSERT INTO attachments (id, dossier_id, sha256, size, mime, name, chunk_size, "
            "server_version, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                change["entity_id"],
                new.get("dossier_id", ""),
                new.get("sha256", ""),
                int(new.get("size") or 0),
                new.get("mime", ""),
                new.get("name", ""),
                0,
                version,
                at,
                change.get("clerk"),
            ),
        )
    elif change.get("op") == "delete":
        conn.execute("DELETE FROM attachments WHERE id = ?", (change["entity_id"],))
    else:
        conn.execute(
            "UPDATE attachments SET server_version = ? WHERE id = ?", (version, change["entity_id"])
        )


def apply_remote_changes(
    conn: Any, ctx: WriteContext, changes: Iterable[Mapping[str, Any]], cursor: int
) -> ApplyReport:
    """Apply a pulled page of remote changes and store ``cursor`` (caller's transaction)."""
    applied = own = kept = 0
    at = ctx.timestamp()
    for change in changes:
        entity_id = str(change["entity_id"])
        version = int(change.get("server_version") or 0)
        if change.get("hlc"):
            try:
                ctx.clock.update(str(change["hlc"]))
            except ValueError:
                pass
        if change.get("entity") == "attachment":
            _apply_attachment(conn, change, version, at)
            applied += 1
            continue
        if change.get("entity") != "dossier":
            continue  # reference data and future entities are the sync engine's business
        row = conn.execute(
            "SELECT record, server_version FROM dossiers WHERE id = ?", (entity_id,)
        ).fetchone()
        if change.get("device_id") == ctx.device_id:
            if row is not None:
                conn.execute(
                    "UPDATE dossiers SET server_version = max(server_version, ?) WHERE id = ?",
                    (version, entity_id),
                )
            own += 1
            continue
        pending = outbox.pending_fields(conn, entity_id)
        if change.get("op") == "delete":
            if pending:
                conn.execute(
                    "UPDATE dossiers SET server_version = ? WHERE id = ?", (version, entity_id)
                )
                kept += 1
            else:
                dossiers.delete_remote(conn, entity_id)
            applied += 1
            continue
        record: dict[str, Any] = json.loads(row[0]) if row else {}
        for key, (_old, new) in change.get("fields", {}).items():
            if key in pending:
                kept += 1
                continue
            if new is None:
                record.pop(key, None)
            else:
                record[key] = new
        dossiers.write_remote(conn, entity_id, record, server_version=version, at=at)
        applied += 1
    update_sync_state(conn, cursor=int(cursor))
    if applied:
        audit.append_audit(
            conn,
            at=at,
            clerk=ctx.clerk,
            action="sync.pull",
            summary=f"applied {applied} remote change(s), cursor {cursor}",
        )
    return ApplyReport(applied=applied, own=own, kept_local=kept, cursor=int(cursor))
