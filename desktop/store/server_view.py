"""The server view: what the server holds of each synced record, field by field.

For each record the store keeps the server's value of every field with the server sequence
number of the change that last set it (table ``sync_view``). It is fed by pulled changes and
by this device's changes the server applied (:mod:`desktop.store.sync_page`). A field with no
local change waiting for the server always shows the server view's value (:func:`reconcile`):
a pulled change older than what is known cannot overwrite a newer value, and a local edit the
server refused gives way to the server's value.
"""

from __future__ import annotations

import json
from typing import Any

from desktop.store import dossiers, outbox
from desktop.store.context import WriteContext
from desktop.store.database import Connection


class ServerView:
    """The server's values of one record, with the sequence number that set each field.

    Attributes:
        entity_id: the record.
        vals: field → the server's value.
        seqs: field → the server sequence number of the change that set it.
        deleted: the server deleted the record.
        dirty: changed since loaded (saved at the end of the transaction).
    """

    def __init__(
        self, entity_id: str, vals: dict[str, Any], seqs: dict[str, int], deleted: bool
    ) -> None:
        """Hold one record's view (use :meth:`ServerViews.get`)."""
        self.entity_id = entity_id
        self.vals = vals
        self.seqs = seqs
        self.deleted = deleted
        self.dirty = False

    def offer(self, key: str, value: Any, seq: int) -> bool:
        """Take ``value`` for ``key`` unless a newer one is known; return whether taken."""
        if self.seqs.get(key, -1) > seq:
            return False
        self.vals[key] = value
        self.seqs[key] = seq
        self.dirty = True
        return True

    def mark_deleted(self, deleted: bool = True) -> None:
        """Record that the server deleted (or, with a snapshot, holds again) the record."""
        self.deleted, self.dirty = deleted, True


class ServerViews:
    """Load-once, save-at-end cache of server views inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        """Start an empty cache over the transaction's connection."""
        self.conn = conn
        self.cache: dict[str, ServerView] = {}

    def get(self, entity_id: str) -> ServerView:
        """Return the view of one record (empty when the server's values are not known)."""
        view = self.cache.get(entity_id)
        if view is None:
            row = self.conn.execute(
                "SELECT vals, seqs, deleted FROM sync_view WHERE entity_id = ?", (entity_id,)
            ).fetchone()
            if row is None:
                view = ServerView(entity_id, {}, {}, False)
            else:
                view = ServerView(entity_id, json.loads(row[0]), json.loads(row[1]), bool(row[2]))
            self.cache[entity_id] = view
        return view

    def save(self) -> None:
        """Write the views that changed."""
        for view in self.cache.values():
            if view.dirty:
                self.conn.execute(
                    "INSERT INTO sync_view (entity_id, vals, seqs, deleted) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (entity_id) DO UPDATE SET vals = excluded.vals, "
                    "seqs = excluded.seqs, deleted = excluded.deleted",
                    (
                        view.entity_id,
                        json.dumps(view.vals, ensure_ascii=False, sort_keys=True),
                        json.dumps(view.seqs, sort_keys=True),
                        int(view.deleted),
                    ),
                )


def forget_views(conn: Connection) -> None:
    """Drop every server view (the next pull starts from the beginning)."""
    conn.execute("DELETE FROM sync_view")


def reconcile(conn: Connection, ctx: WriteContext, view: ServerView) -> int:
    """Make the local record show the server view wherever nothing local is pending.

    Returns:
        How many fields (or a deleted record: 1) were set to the server's.
    """
    if not view.seqs and not view.deleted:
        return 0
    pending = outbox.pending_fields(conn, view.entity_id)
    row = conn.execute(
        "SELECT record, server_version FROM dossiers WHERE id = ?", (view.entity_id,)
    ).fetchone()
    if view.deleted:
        if row is not None and not pending:
            dossiers.delete_remote(conn, view.entity_id)
            return 1
        return 0
    if row is None:
        return 0
    record = json.loads(row[0])
    changed = 0
    for key, value in view.vals.items():
        if key in pending or record.get(key) == value:
            continue
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
        changed += 1
    if changed:
        dossiers.write_remote(
            conn, view.entity_id, record, server_version=int(row[1]), at=ctx.timestamp()
        )
    return changed
