"""Dossier writes: validation of new data, lifecycle, numbering, and the write functions that
keep the outbox, the audit log and the search index in step in one transaction.

The record format and the reads are in :mod:`desktop.store.records`. A new dossier is
validated once, off the writer thread (:func:`prepare`), and written by :func:`insert`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop.forms.lifecycle import (
    CHO_KY,
    FINAL_STATUSES,
    STATUSES,
    TIEP_NHAN,
    allowed_transitions,
)
from desktop.store import books, domain, journal, outbox, search
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import DuplicateDossier, InvalidTransition, StoreError
from desktop.store.ids import uuid7
from desktop.store.records import DATA_PREFIX, DossierRecord, find_duplicates, get
from protocol.admin import DUPLICATE_OF_FIELD

__all__ = [
    "DossierLocked",
    "InvalidTransition",
    "PreparedDossier",
    "delete_remote",
    "insert",
    "prepare",
    "transition",
    "update",
    "write_remote",
]

#: Record keys that are not procedure fields: set by the store, never edited directly.
META_KEYS = (
    "procedure",
    "commune",
    "dossier_no",
    "status",
    "received_at",
    "due_at",
    "late",
    "book_type",
    "book_year",
    "book_number",
    DUPLICATE_OF_FIELD,  # set by provincial IT's decision only (a signed resolution)
)


class DossierLocked(StoreError):
    """The dossier is in a final status (hoàn thành, trả lại, huỷ) and cannot be edited."""


@dataclass
class PreparedDossier:
    """A validated new dossier, ready to be written (validation runs off the writer thread).

    Attributes:
        procedure: the procedure code.
        book_type: the register book of the procedure.
        data: normalised procedure data (empty values dropped).
        received_at: when the papers were received (naive local).
        due_at: promised date.
        late: registered after the legal deadline.
        dup_key: the duplicate key as one string, or None.
        warnings: the validation warnings (Vietnamese), for the caller to show.
    """

    procedure: str
    book_type: str
    data: dict[str, Any]
    received_at: dt.datetime
    due_at: dt.date | None
    late: bool
    dup_key: str | None
    warnings: list[Any] = field(default_factory=list)


def _dup_key_string(key: tuple[str, ...] | None) -> str | None:
    return None if not key else "|".join(str(p) for p in key)


def _validated(
    procedure: Any, data: Mapping[str, Any], *, today: dt.date, received_at: dt.datetime
) -> tuple[Any, dict[str, Any]]:
    """Validate procedure data; return the result and the normalised data without empties.

    Raises:
        ValidationError: the data has errors.
    """
    from desktop.forms.validation_result import ValidationError

    result = domain.validate(procedure, data, today=today, received_at=received_at)
    if result.errors:
        raise ValidationError(list(result.errors))
    return result, {k: v for k, v in result.normalized.items() if v not in (None, "")}


def prepare(
    procedure_code: str,
    data: Mapping[str, Any],
    *,
    received_at: dt.datetime,
    today: dt.date,
) -> PreparedDossier:
    """Validate and normalise new dossier data.

    Raises:
        ValidationError: unknown procedure or invalid data (nothing is written).
    """
    procedure = domain.get_procedure(procedure_code)
    result, normalized = _validated(procedure, data, today=today, received_at=received_at)
    return PreparedDossier(
        procedure=procedure.code,
        book_type=procedure.book_type,
        data=normalized,
        received_at=received_at,
        due_at=domain.due_date(procedure, received_at),
        late=bool(result.late),
        dup_key=_dup_key_string(procedure.duplicate_key(normalized)),
        warnings=list(result.warnings),
    )


# -- writing (called on the writer thread, inside its transaction) -----------------------------


def _dossier_number(conn: Connection, ctx: WriteContext, received_at: dt.datetime) -> str:
    day = received_at.strftime("%Y%m%d")
    n = outbox.next_counter(conn, f"dossier_no:{day}")
    return f"{ctx.commune}-{day}-{ctx.device_tag}-{n}"


def _write_row(
    conn: Connection,
    dossier_id: str,
    record: dict[str, Any],
    dup_key: str | None,
    *,
    server_version: int,
    created_at: str,
    updated_at: str,
    created_by: str | None,
    updated_by: str | None,
) -> int:
    """Insert or update the row and its index entry; return its rowid."""
    values = (
        record.get("procedure", ""),
        record.get("commune", ""),
        record.get("dossier_no", ""),
        record.get("status", TIEP_NHAN),
        record.get("received_at", ""),
        record.get("due_at"),
        1 if record.get("late") else 0,
        record.get("book_type"),
        record.get("book_year"),
        record.get("book_number"),
        dup_key,
        json.dumps(record, ensure_ascii=False, sort_keys=True),
        server_version,
        updated_at,
        updated_by,
    )
    row = conn.execute("SELECT rowid FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
    if row is None:
        cur = conn.execute(
            "INSERT INTO dossiers (procedure, commune, dossier_no, status, received_at, due_at, "
            "late, book_type, book_year, book_number, dup_key, record, server_version, "
            "updated_at, updated_by, id, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, dossier_id, created_at, created_by),
        )
        rowid = int(cur.lastrowid or 0)
    else:
        rowid = int(row[0])
        conn.execute(
            "UPDATE dossiers SET procedure = ?, commune = ?, dossier_no = ?, status = ?, "
            "received_at = ?, due_at = ?, late = ?, book_type = ?, book_year = ?, "
            "book_number = ?, dup_key = ?, record = ?, server_version = ?, updated_at = ?, "
            "updated_by = ? WHERE rowid = ?",
            (*values, rowid),
        )
    search.index_record(conn, rowid, record)
    return rowid


def _history(
    conn: Connection,
    ctx: WriteContext,
    dossier_id: str,
    old: str | None,
    new: str,
    note: str,
    at: str,
) -> None:
    conn.execute(
        "INSERT INTO status_history (dossier_id, at, clerk, from_status, to_status, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (dossier_id, at, ctx.clerk, old, new, note),
    )


def insert(
    conn: Connection, ctx: WriteContext, prepared: PreparedDossier, *, allow_duplicate: bool = False
) -> DossierRecord:
    """Write a new dossier, its history, outbox entry, audit entry and index entry.

    Raises:
        DuplicateDossier: a live dossier has the same duplicate key and
            ``allow_duplicate`` is False (nothing is written).
    """
    if not allow_duplicate:
        dups = find_duplicates(conn, prepared.dup_key)
        if dups:
            raise DuplicateDossier(
                f"{len(dups)} likely duplicate dossier(s): "
                + ", ".join(d.dossier_no for d in dups[:5]),
                dups,
            )
    at = ctx.timestamp()
    dossier_id = uuid7()
    record: dict[str, Any] = {
        "procedure": prepared.procedure,
        "commune": ctx.commune,
        "dossier_no": _dossier_number(conn, ctx, prepared.received_at),
        "status": TIEP_NHAN,
        "received_at": prepared.received_at.replace(microsecond=0, tzinfo=None).isoformat(),
        "due_at": prepared.due_at.isoformat() if prepared.due_at else None,
        "late": prepared.late,
        "book_type": prepared.book_type,
    }
    record.update({DATA_PREFIX + k: v for k, v in sorted(prepared.data.items())})
    record = {k: v for k, v in record.items() if v is not None}
    _write_row(
        conn,
        dossier_id,
        record,
        prepared.dup_key,
        server_version=0,
        created_at=at,
        updated_at=at,
        created_by=ctx.clerk,
        updated_by=ctx.clerk,
    )
    _history(conn, ctx, dossier_id, None, TIEP_NHAN, "", at)
    journal.record_create(
        conn,
        ctx,
        entity="dossier",
        entity_id=dossier_id,
        values=record,
        action="dossier.create",
        summary=f"{prepared.procedure} {record['dossier_no']} {TIEP_NHAN}"
        + (" late" if prepared.late else ""),
        at=at,
    )
    return DossierRecord(dossier_id, record, 0, at, at, ctx.clerk, ctx.clerk)


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def _save_change(
    conn: Connection,
    ctx: WriteContext,
    current: DossierRecord,
    record: dict[str, Any],
    dup_key: str | None,
    action: str,
    summary: str,
) -> DossierRecord:
    changed = _diff(current.record, record)
    if not changed:
        return current
    at = ctx.timestamp()
    _write_row(
        conn,
        current.id,
        record,
        dup_key,
        server_version=current.server_version,
        created_at=current.created_at,
        updated_at=at,
        created_by=current.created_by,
        updated_by=ctx.clerk,
    )
    journal.record_change(
        conn,
        ctx,
        entity="dossier",
        entity_id=current.id,
        base_version=current.server_version,
        fields=changed,
        action=action,
        summary=summary,
        at=at,
    )
    return DossierRecord(
        current.id,
        record,
        current.server_version,
        current.created_at,
        at,
        current.created_by,
        ctx.clerk,
    )


def _split_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        name = key[len(DATA_PREFIX) :] if key.startswith(DATA_PREFIX) else key
        if name in META_KEYS:
            raise StoreError(
                f"{name!r} cannot be edited directly (use transition() for the status)"
            )
        out[name] = value
    return out


def update(
    conn: Connection, ctx: WriteContext, dossier_id: str, changes: Mapping[str, Any]
) -> DossierRecord:
    """Change procedure fields of a dossier, re-validating the whole form.

    Args:
        changes: field names (``tre_ten`` or ``data.tre_ten``) to new values; an empty
            value clears the field.

    Raises:
        DossierNotFound, DossierLocked, ValidationError, StoreError.
    """
    current = get(conn, dossier_id)
    if current.status in FINAL_STATUSES:
        raise DossierLocked(
            f"dossier {current.dossier_no} is {current.status} and can no longer be edited"
        )
    data = dict(current.data)
    data.update(_split_changes(changes))
    procedure = domain.get_procedure(current.procedure)
    received = dt.datetime.fromisoformat(current.received_at)
    result, normalized = _validated(procedure, data, today=ctx.now().date(), received_at=received)
    record = {k: v for k, v in current.record.items() if not k.startswith(DATA_PREFIX)}
    record["late"] = bool(result.late)
    record.update({DATA_PREFIX + k: v for k, v in sorted(normalized.items())})
    dup_key = _dup_key_string(procedure.duplicate_key(normalized))
    changed_names = sorted(_diff(current.record, record))
    return _save_change(
        conn,
        ctx,
        current,
        record,
        dup_key,
        "dossier.update",
        f"{current.dossier_no} fields: {', '.join(changed_names)}",
    )


def transition(
    conn: Connection, ctx: WriteContext, dossier_id: str, new_status: str, note: str = ""
) -> DossierRecord:
    """Move a dossier along its lifecycle; entering ``cho_ky`` assigns the book number.

    Raises:
        DossierNotFound, InvalidTransition.
    """
    current = get(conn, dossier_id)
    if new_status not in STATUSES:
        raise InvalidTransition(f"unknown status {new_status!r}")
    if new_status not in allowed_transitions(current.status):
        raise InvalidTransition(
            f"dossier {current.dossier_no} cannot go from {current.status} to {new_status}"
        )
    record = dict(current.record)
    record["status"] = new_status
    summary = f"{current.dossier_no} {current.status} -> {new_status}"
    if new_status == CHO_KY and record.get("book_number") is None:
        book_type = str(
            record.get("book_type") or domain.get_procedure(current.procedure).book_type
        )
        year = ctx.now().year
        number = books.allocate_book_number(conn, book_type, year, ctx.timestamp())
        record.update(book_type=book_type, book_year=year, book_number=number)
        summary += f" book {book_type}/{year} no {number}"
    dup_row = conn.execute("SELECT dup_key FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
    saved = _save_change(conn, ctx, current, record, dup_row[0], "dossier.transition", summary)
    _history(conn, ctx, dossier_id, current.status, new_status, note, saved.updated_at)
    return saved


def write_remote(
    conn: Connection, dossier_id: str, record: dict[str, Any], *, server_version: int, at: str
) -> None:
    """Store a record received from the server (no outbox entry: it came from there)."""
    dup_key = None
    try:
        procedure = domain.get_procedure(str(record.get("procedure", "")))
        n = len(DATA_PREFIX)
        data = {k[n:]: v for k, v in record.items() if k.startswith(DATA_PREFIX)}
        dup_key = _dup_key_string(procedure.duplicate_key(data))
    except ValueError:
        pass
    row = conn.execute(
        "SELECT created_at, created_by FROM dossiers WHERE id = ?", (dossier_id,)
    ).fetchone()
    created_at, created_by = (row[0], row[1]) if row else (at, None)
    _write_row(
        conn,
        dossier_id,
        record,
        dup_key,
        server_version=server_version,
        created_at=created_at,
        updated_at=at,
        created_by=created_by,
        updated_by=None,
    )


def delete_remote(conn: Connection, dossier_id: str) -> None:
    """Remove a dossier the server deleted (and its index entry)."""
    row = conn.execute("SELECT rowid FROM dossiers WHERE id = ?", (dossier_id,)).fetchone()
    if row is not None:
        search.unindex(conn, row[0])
        conn.execute("DELETE FROM dossiers WHERE rowid = ?", (row[0],))
