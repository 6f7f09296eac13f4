"""The outbox: every local change to a synced entity, written in the write's transaction.

States of an entry:

* ``pending`` – written locally, not yet answered by the server (sent again in every sync
  until it is; the server keys changes by ``(device_id, device_seq)`` so a replay is a no-op);
* ``acknowledged`` – the server answered with ``server_status`` ``applied``, ``merged``,
  ``conflict`` or ``rejected`` (+ ``reason``); a rejected or conflicting change stays visible;
* ``durable`` – the server confirmed it holds the change under its current epoch.

Entries are kept after acknowledgement: if the server is restored from an older backup the
sync engine re-pushes what it lost (:func:`requeue_after`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.ids import uuid7
from protocol import wire

PENDING, ACKNOWLEDGED, DURABLE = "pending", "acknowledged", "durable"
#: The server's final answers to a change (``deferred`` is not one: the change stays pending).
ANSWERED_STATUSES = tuple(s for s in wire.STATUSES if s != wire.STATUS_DEFERRED)

_COLUMNS = (
    "change_id, device_id, device_seq, entity, entity_id, op, base_version, fields, hlc, "
    "clerk, commune, created_at, state, server_status, reason, server_seq"
)


@dataclass(frozen=True)
class Change:
    """One outbox entry (the wire format of docs/architecture.md plus local state)."""

    change_id: str
    device_id: str
    device_seq: int
    entity: str
    entity_id: str
    op: str
    base_version: int
    fields: dict[str, list[Any]]
    hlc: str
    clerk: str | None
    commune: str
    created_at: str
    state: str = PENDING
    server_status: str | None = None
    reason: str | None = None
    server_seq: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the change as the sync protocol sends it (no local state)."""
        return {
            "change_id": self.change_id,
            "device_id": self.device_id,
            "device_seq": self.device_seq,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "op": self.op,
            "base_version": self.base_version,
            "fields": self.fields,
            "hlc": self.hlc,
            "clerk": self.clerk,
            "commune": self.commune,
        }


@dataclass(frozen=True)
class OutboxSummary:
    """Counts for the sync indicator.

    Attributes:
        pending: changes the server has not answered yet.
        rejected: changes the server refused; they need someone's attention.
        conflicts: changes the server holds as conflicts for provincial IT.
        total: all entries kept in the outbox.
    """

    pending: int
    rejected: int
    conflicts: int
    total: int


def _row_to_change(row: tuple[Any, ...]) -> Change:
    """Return the change of a row selected with ``_COLUMNS`` (in the dataclass's order)."""
    values = list(row[:16])
    values[7] = json.loads(values[7])
    return Change(*values)


def next_counter(conn: Connection, name: str) -> int:
    """Increment and return a named counter inside the caller's transaction (gap-free)."""
    row = conn.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        (name,),
    ).fetchone()
    return int(row[0])


def append_change(
    conn: Connection,
    ctx: WriteContext,
    *,
    entity: str,
    entity_id: str,
    op: str,
    base_version: int,
    fields: Mapping[str, list[Any]],
) -> Change:
    """Write one outbox entry in the caller's transaction and return it.

    The device sequence comes from the ``device_seq`` counter row, incremented in the same
    transaction, so a rolled-back write leaves no gap.
    """
    seq = next_counter(conn, "device_seq")
    hlc = ctx.clock.now()
    change = Change(
        change_id=uuid7(),
        device_id=ctx.device_id,
        device_seq=seq,
        entity=entity,
        entity_id=entity_id,
        op=op,
        base_version=base_version,
        fields={k: [v[0], v[1]] for k, v in fields.items()},
        hlc=hlc,
        clerk=ctx.clerk,
        commune=ctx.commune,
        created_at=ctx.timestamp(),
    )
    conn.execute(
        "INSERT INTO outbox (change_id, device_id, device_seq, entity, entity_id, op, "
        "base_version, fields, hlc, clerk, commune, created_at, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            change.change_id,
            change.device_id,
            seq,
            entity,
            entity_id,
            op,
            base_version,
            json.dumps(change.fields, ensure_ascii=False, sort_keys=True),
            hlc,
            ctx.clerk,
            ctx.commune,
            change.created_at,
            PENDING,
        ),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('last_hlc', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (hlc,),
    )
    return change


def pending_changes(conn: Connection, limit: int | None = None) -> list[Change]:
    """Return changes the server has not answered yet, oldest first."""
    sql = f"SELECT {_COLUMNS} FROM outbox WHERE state = ? ORDER BY device_seq"
    args: tuple[Any, ...] = (PENDING,)
    if limit is not None:
        sql += " LIMIT ?"
        args += (int(limit),)
    return [_row_to_change(r) for r in conn.execute(sql, args).fetchall()]


def all_changes(conn: Connection, *, entity_id: str | None = None) -> list[Change]:
    """Return every outbox entry (optionally of one entity), in device order."""
    if entity_id is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY device_seq").fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE entity_id = ? ORDER BY device_seq",
            (entity_id,),
        ).fetchall()
    return [_row_to_change(r) for r in rows]


def record_results(conn: Connection, results: Iterable[Mapping[str, Any]], *, at: str = "") -> int:
    """Store the server's answer for each change.

    Args:
        conn: the write connection, inside a transaction.
        results: dicts with ``device_seq`` (or ``change_id``), ``status`` (one of
            ``applied``, ``merged``, ``conflict``, ``rejected``), optional ``reason`` and
            ``server_seq``.
        at: when the answer arrived (ISO).

    Returns:
        The number of outbox entries updated.

    Raises:
        ValueError: a result has an unknown status or names no change.
    """
    count = 0
    for result in results:
        status = result.get("status")
        if status not in ANSWERED_STATUSES:
            raise ValueError(f"unknown server status {status!r}")
        if result.get("device_seq") is not None:
            where, key = "device_seq = ?", int(result["device_seq"])
        elif result.get("change_id"):
            where, key = "change_id = ?", result["change_id"]
        else:
            raise ValueError("a result must name device_seq or change_id")
        cur = conn.execute(
            "UPDATE outbox SET state = ?, server_status = ?, reason = ?, server_seq = ?, "
            f"acknowledged_at = ? WHERE {where} AND state != ?",
            (
                ACKNOWLEDGED,
                status,
                result.get("reason"),
                result.get("server_seq"),
                at or None,
                key,
                DURABLE,
            ),
        )
        count += cur.rowcount
    return count


def flagged_changes(conn: Connection) -> list[Change]:
    """Return the changes the server refused or holds as conflicts, newest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE server_status IN (?, ?) ORDER BY device_seq DESC",
        (wire.STATUS_CONFLICT, wire.STATUS_REJECTED),
    ).fetchall()
    return [_row_to_change(r) for r in rows]


def mark_durable(conn: Connection, epoch: str, upto_device_seq: int) -> int:
    """Mark acknowledged entries up to ``upto_device_seq`` as durable under ``epoch``."""
    cur = conn.execute(
        "UPDATE outbox SET state = ?, server_epoch = ? WHERE state = ? AND device_seq <= ?",
        (DURABLE, epoch, ACKNOWLEDGED, int(upto_device_seq)),
    )
    return int(cur.rowcount)


def requeue_after(conn: Connection, device_seq: int) -> int:
    """Make every entry after ``device_seq`` pending again (the server lost them in a restore).

    Returns:
        The number of entries requeued.
    """
    cur = conn.execute(
        "UPDATE outbox SET state = ?, server_status = NULL, reason = NULL, server_seq = NULL, "
        "server_epoch = NULL, acknowledged_at = NULL WHERE device_seq > ?",
        (PENDING, int(device_seq)),
    )
    return int(cur.rowcount)


def outbox_summary(conn: Connection) -> OutboxSummary:
    """Return the pending / rejected / conflict counts."""
    row = conn.execute(
        "SELECT "
        " coalesce(sum(state = 'pending'), 0),"
        " coalesce(sum(server_status = 'rejected'), 0),"
        " coalesce(sum(server_status = 'conflict'), 0),"
        " count(*) FROM outbox"
    ).fetchone()
    return OutboxSummary(pending=row[0], rejected=row[1], conflicts=row[2], total=row[3])


def pending_fields(conn: Connection, entity_id: str) -> set[str]:
    """Return the record keys that have local changes the server has not acknowledged."""
    keys: set[str] = set()
    for (fields,) in conn.execute(
        "SELECT fields FROM outbox WHERE entity_id = ? AND state = ?", (entity_id, PENDING)
    ):
        keys.update(json.loads(fields))
    return keys
