"""What the sync engine keeps inside the encrypted store, and how it applies a server answer.

The sync engine (``desktop.sync.engine``) must not touch SQL itself, and this package must
not import ``desktop.sync``; so the engine hands plain data (:class:`SyncPage`) to
:func:`apply_sync_page`, which runs inside one store write transaction:

1. if the server holds fewer of this device's changes than it acknowledged before (a server
   restored from a backup), the lost ones are queued again (``outbox.requeue_after``) and the
   next pull starts from scratch;
2. the page of other parties' changes is applied (``replica.apply_remote_changes``) and the
   cursor stored — in the same transaction;
3. the server's status of each pushed change is recorded (``outbox.record_results``);
4. every touched record is reconciled with the *server view* (below), so every device
   converges to the server while a conflict waits for provincial IT;
5. granted register-book blocks, the epoch, the clock offset and conflict ids are stored.

**The server view.** For each synced record the store keeps what the server holds, field by
field, with the server sequence number of the change that last set it (``sync_view``). It is
fed by pulled changes and by this device's changes the server applied. A field with no local
change waiting for the server always shows the server view's value: a pulled change older
than what is known (a later page, an own change applied after it) cannot overwrite a newer
value, and a local edit the server refused (``conflict``/``rejected``) gives way to the
server's value — the edit itself stays in the outbox, marked, for the clerk and for IT.

Secrets (the device's private keys, the pinned server keys, a session key) live in the
``meta`` table, i.e. inside the SQLCipher-encrypted database, never in ``config.json``.

Its tables (``sync_view``, ``sync_conflicts``, ``sync_uploads``) come from the recorded
migration ``005_sync_client`` like every other table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.store import audit, books, dossiers, outbox, replica
from desktop.store.context import WriteContext
from desktop.store.errors import StoreError

#: Keys of the ``meta`` table owned by sync.
META_DEVICE_KEYS = "sync.device_keys"
META_SERVER_KEYS = "sync.server_keys"
META_SERVER_URL = "sync.server_url"
META_ENROLLED_AT = "sync.enrolled_at"
META_SESSION = "sync.session"
META_CURSOR = "sync.cursor"
META_REVOKED = "sync.revoked"
META_CONFLICTS_OPEN = "sync.conflicts_open"
META_SKEW_FLAGGED = "sync.skew_flagged"
META_ERROR_CODE = "sync.error_code"

FINAL_STATUSES = ("applied", "merged", "conflict", "rejected")


def _has_tables(conn: Any) -> bool:
    """Whether sync's tables exist (reads must not create them: read connections are
    query-only)."""
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sync_conflicts'"
    ).fetchone()
    return bool(row[0])


# -- meta ------------------------------------------------------------------------------------


def get_meta(conn: Any, key: str) -> str | None:
    """Return a value of the ``meta`` table, or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Any, key: str, value: str | None) -> None:
    """Set (or, with None, delete) a value of the ``meta`` table (caller's transaction)."""
    if value is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def set_many(conn: Any, values: Mapping[str, str | None]) -> None:
    """Set several ``meta`` values in the caller's transaction."""
    for key, value in values.items():
        set_meta(conn, key, value)


# -- the page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncPage:
    """One server answer to ``POST /sync``, reduced to what the store applies.

    Attributes:
        results: per pushed change ``{"device_seq", "change_id", "status", "server_seq",
            "reason", "conflict_ids"}`` (``deferred`` ones are skipped: they stay pending).
        changes: pulled changes (architecture.md format plus ``server_seq`` and ``version``).
        cursor: the new opaque cursor text.
        epoch: the server's epoch id.
        max_device_seq: the highest device_seq of this device the server holds gap-free.
        reset: the server lost the history the old cursor pointed into.
        blocks: granted book blocks ``{"book_type", "year", "start", "end"}``.
        clock_offset_s: server time minus local time, seconds.
        skew_flagged: the server flagged this device's clock.
        conflicts_open: open conflicts of the commune on the server.
        synced_at: local ISO time of this sync.
    """

    results: Sequence[Mapping[str, Any]] = ()
    changes: Sequence[Mapping[str, Any]] = ()
    cursor: str = ""
    epoch: str | None = None
    max_device_seq: int = 0
    reset: bool = False
    blocks: Sequence[Mapping[str, Any]] = ()
    clock_offset_s: float | None = None
    skew_flagged: bool = False
    conflicts_open: int | None = None
    synced_at: str = ""


@dataclass
class PageOutcome:
    """What applying one page did (counts for the sync report).

    Attributes:
        statuses: pushed changes per final status.
        deferred: pushed changes the server deferred (an earlier one is missing).
        pulled: remote changes applied.
        requeued: outbox entries queued again because the server lost them.
        epoch_changed: the server's epoch differs from the one stored before.
        restored_fields: local values set to the server's (after a refusal or a late page).
        new_conflicts: conflict ids seen for the first time.
        resolved: conflicts this device learned were resolved.
        blocks_added: book blocks stored.
    """

    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINAL_STATUSES, 0))
    deferred: int = 0
    pulled: int = 0
    requeued: int = 0
    epoch_changed: bool = False
    restored_fields: int = 0
    new_conflicts: list[str] = field(default_factory=list)
    resolved: int = 0
    blocks_added: int = 0


def cursor_seq(cursor: str) -> int:
    """Return the server sequence number in a cursor (``"5090.0be0…"`` or ``"s5090.…"`` → 5090)."""
    head = cursor.split(".", 1)[0].lstrip("s")
    return int(head) if head.isdigit() else 0


class _View:
    """The server's values of one record, with the sequence number that set each field."""

    def __init__(self, entity_id: str, vals: dict[str, Any], seqs: dict[str, int], deleted: bool):
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


class _Views:
    """Load-once, save-at-end cache of server views inside one transaction."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cache: dict[str, _View] = {}

    def get(self, entity_id: str) -> _View:
        view = self.cache.get(entity_id)
        if view is None:
            row = self.conn.execute(
                "SELECT vals, seqs, deleted FROM sync_view WHERE entity_id = ?", (entity_id,)
            ).fetchone()
            if row is None:
                view = _View(entity_id, {}, {}, False)
            else:
                view = _View(entity_id, json.loads(row[0]), json.loads(row[1]), bool(row[2]))
            self.cache[entity_id] = view
        return view

    def save(self) -> None:
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


def apply_sync_page(conn: Any, ctx: WriteContext, page: SyncPage) -> PageOutcome:
    """Apply one server answer in the caller's transaction (see the module docstring)."""
    out = PageOutcome()
    state = replica.get_sync_state(conn)
    if page.epoch and state.server_epoch and page.epoch != state.server_epoch:
        out.epoch_changed = True
    # 1. The server lost changes it had acknowledged (restore): queue them again. Results of
    # this very request are at or below max_device_seq (the server advanced it for them).
    lost = conn.execute(
        "SELECT count(*) FROM outbox WHERE device_seq > ? AND state IN (?, ?)",
        (page.max_device_seq, outbox.ACKNOWLEDGED, outbox.DURABLE),
    ).fetchone()[0]
    if lost or out.epoch_changed or page.reset:
        # A restored server may also have lost scans: ask again which ones it lacks.
        conn.execute("DELETE FROM sync_uploads")
    if lost:
        out.requeued = outbox.requeue_after(conn, page.max_device_seq)
        conn.execute(
            "DELETE FROM sync_conflicts WHERE device_seq > ? AND status = 'open'",
            (page.max_device_seq,),
        )
    views = _Views(conn)
    touched: set[str] = set()
    # 2. Pull: a pulled field is applied only when it is the newest the device knows of.
    # After a reset the page starts the history again (a snapshot of the records): what the
    # device knew of the old history is forgotten first.
    if page.reset:
        _forget_server_state(conn)
    changes = []
    for change in page.changes:
        changes.append(_filter_pulled(views, ctx, change))
        out.resolved += _note_resolution(conn, change)
        if change.get("entity") == "dossier":
            touched.add(str(change["entity_id"]))
    report = replica.apply_remote_changes(conn, ctx, changes, cursor_seq(page.cursor))
    out.pulled = report.applied
    set_meta(conn, META_CURSOR, page.cursor)
    # 3. Record the answer to each pushed change; what the server applied joins the view.
    final = []
    for result in page.results:
        status = result.get("status")
        if status in FINAL_STATUSES:
            final.append(result)
            out.statuses[str(status)] += 1
        else:
            out.deferred += 1
    outbox.record_results(conn, final, at=page.synced_at)
    for result in final:
        touched.update(_learn_own(conn, views, result))
        for conflict_id in result.get("conflict_ids") or ():
            cur = conn.execute(
                "INSERT INTO sync_conflicts (conflict_id, change_id, device_seq, seen_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (conflict_id) DO NOTHING",
                (
                    str(conflict_id),
                    str(result.get("change_id") or ""),
                    result.get("device_seq"),
                    page.synced_at,
                ),
            )
            if cur.rowcount:
                out.new_conflicts.append(str(conflict_id))
    # 4. Fields with nothing pending show the server's value.
    for entity_id in sorted(touched):
        out.restored_fields += _reconcile(conn, ctx, views.get(entity_id))
    views.save()
    if lost and not page.reset:
        # Sequence numbers the server handed out after the restored backup will be reused:
        # forget the view and pull everything again from the start.
        _forget_server_state(conn)
    # 5. Book blocks, epoch, durability and health.
    for block in page.blocks:
        try:
            books.add_block(
                conn,
                str(block["book_type"]),
                int(block["year"]),
                int(block["start"]),
                int(block["end"]),
                "server",
                page.synced_at,
            )
            out.blocks_added += 1
        except StoreError:
            pass  # already held (a repeated grant) or overlaps a local block: keep ours
    if page.epoch:
        outbox.mark_durable(conn, page.epoch, page.max_device_seq)
    values: dict[str, Any] = {"last_sync_at": page.synced_at, "last_error": None}
    if page.epoch:
        values["server_epoch"] = page.epoch
    if page.clock_offset_s is not None:
        values["clock_offset"] = page.clock_offset_s
    replica.update_sync_state(conn, **values)
    set_meta(conn, META_SKEW_FLAGGED, "1" if page.skew_flagged else None)
    set_meta(conn, META_ERROR_CODE, None)
    if page.conflicts_open is not None:
        set_meta(conn, META_CONFLICTS_OPEN, str(int(page.conflicts_open)))
    return out


def _forget_server_state(conn: Any) -> None:
    """Drop the cursor and the server view: the next pull starts from the beginning."""
    conn.execute("DELETE FROM sync_view")
    set_meta(conn, META_CURSOR, "")
    replica.update_sync_state(conn, cursor=0)


def _filter_pulled(views: _Views, ctx: WriteContext, change: Mapping[str, Any]) -> dict[str, Any]:
    """Return a pulled change for the replica, without fields older than the known ones."""
    converted = dict(change)
    if "server_version" not in converted:
        converted["server_version"] = int(change.get("version") or 0)
    if change.get("entity") != "dossier":
        return converted
    view = views.get(str(change["entity_id"]))
    seq = int(change.get("server_seq") or 0)
    if change.get("op") == "delete":
        view.deleted, view.dirty = True, True
        return converted
    if change.get("kind") == "snapshot":
        view.deleted, view.dirty = False, True
    fields = change.get("fields") or {}
    converted["fields"] = {
        key: pair for key, pair in fields.items() if view.offer(key, pair[1], seq)
    }
    if change.get("device_id") == ctx.device_id:
        converted["device_id"] = None  # a snapshot of an own record: apply it like any other
    return converted


def _learn_own(conn: Any, views: _Views, result: Mapping[str, Any]) -> set[str]:
    """Add an own change the server applied to the view; return the record it touched."""
    row = conn.execute(
        "SELECT entity, entity_id, op, fields FROM outbox WHERE device_seq = ?",
        (result.get("device_seq"),),
    ).fetchone()
    if row is None or row[0] != "dossier":
        return set()
    entity_id = str(row[1])
    if result.get("status") in ("applied", "merged"):
        view = views.get(entity_id)
        seq = int(result.get("server_seq") or 0)
        if row[2] == "delete":
            view.deleted, view.dirty = True, True
        for key, pair in json.loads(row[3]).items():
            view.offer(key, pair[1], seq)
    return {entity_id}


def _reconcile(conn: Any, ctx: WriteContext, view: _View) -> int:
    """Make the local record show the server view wherever nothing local is pending."""
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


def _note_resolution(conn: Any, change: Mapping[str, Any]) -> int:
    """Mark local conflicts closed by a pulled resolution (parents name the losing change)."""
    if change.get("kind") != "resolution":
        return 0
    parents = [str(p) for p in change.get("parents") or ()]
    if not parents:
        return 0
    marks = ", ".join("?" for _ in parents)
    cur = conn.execute(
        f"UPDATE sync_conflicts SET status = 'resolved' WHERE status = 'open' AND "
        f"(change_id IN ({marks}) OR conflict_id IN ({marks}))",
        (*parents, *parents),
    )
    return int(cur.rowcount)


# -- reads for the engine and the status ----------------------------------------------------


def open_conflicts(conn: Any) -> int:
    """Return the conflicts this device caused that are not known to be resolved."""
    if not _has_tables(conn):
        return 0
    return int(
        conn.execute("SELECT count(*) FROM sync_conflicts WHERE status = 'open'").fetchone()[0]
    )


def conflict_ids(conn: Any) -> list[tuple[str, str, str]]:
    """Return ``(conflict_id, change_id, status)`` of every conflict this device saw."""
    if not _has_tables(conn):
        return []
    return [
        (str(a), str(b), str(c))
        for a, b, c in conn.execute(
            "SELECT conflict_id, change_id, status FROM sync_conflicts ORDER BY conflict_id"
        )
    ]


def attachments_to_upload(conn: Any) -> list[tuple[str, int]]:
    """Return ``(sha256, size)`` of local attachments not yet known to be on the server."""
    if not _has_tables(conn):
        return []
    return [
        (str(sha), int(size))
        for sha, size in conn.execute(
            "SELECT sha256, max(size) FROM attachments WHERE sha256 NOT IN "
            "(SELECT sha256 FROM sync_uploads) GROUP BY sha256 ORDER BY min(created_at)"
        )
    ]


def mark_uploaded(conn: Any, sha256s: Sequence[str], at: str) -> None:
    """Remember attachments the server holds complete (caller's transaction)."""
    conn.executemany(
        "INSERT INTO sync_uploads (sha256, uploaded_at) VALUES (?, ?) "
        "ON CONFLICT (sha256) DO NOTHING",
        [(s, at) for s in sha256s],
    )


def forget_uploads(conn: Any) -> None:
    """Forget which attachments were uploaded (after a server restore: ask again)."""
    conn.execute("DELETE FROM sync_uploads")


def audit_message(device_id: str, first_seq: int, last_seq: int, head_hash: str) -> bytes:
    """Return the bytes the device signs for a range of its audit chain."""
    return f"motcua-audit-v1\n{device_id}\n{first_seq}\n{last_seq}\n{head_hash}".encode()


def audit_range_to_sign(conn: Any) -> tuple[int, int, str] | None:
    """Return ``(first, last, head hash)`` of audit entries not yet covered by a signature."""
    last, head = audit.chain_head(conn)
    row = conn.execute("SELECT max(last_audit_seq) FROM batch_signatures").fetchone()
    signed = int(row[0] or 0)
    if last <= signed:
        return None
    return signed + 1, last, head


def record_audit_signature(
    conn: Any,
    *,
    first: int,
    last: int,
    key_id: str,
    signature: str,
    signed_at: str,
) -> None:
    """Keep a signature over audit entries ``first..last`` with the outbox range it covers."""
    top = conn.execute("SELECT max(device_seq) FROM outbox").fetchone()[0]
    low = conn.execute("SELECT max(last_device_seq) FROM batch_signatures").fetchone()[0]
    audit.record_batch_signature(
        conn,
        first_audit_seq=first,
        last_audit_seq=last,
        key_id=key_id,
        signature=signature,
        signed_at=signed_at,
        first_device_seq=int(low or 0) + 1 if top else None,
        last_device_seq=int(top) if top else None,
    )


def max_acknowledged_seq(conn: Any) -> int:
    """Return the highest device_seq the server has answered (0 if none)."""
    row = conn.execute(
        "SELECT max(device_seq) FROM outbox WHERE state IN (?, ?)",
        (outbox.ACKNOWLEDGED, outbox.DURABLE),
    ).fetchone()
    return int(row[0] or 0)
