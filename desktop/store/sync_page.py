"""Apply one server answer to ``POST /sync`` to the store, in one transaction.

This is the one place a pulled page and the server's answers reach the store. The sync
engine hands plain data (:class:`SyncPage`) to ``Store.sync.apply_page``, which runs
:func:`apply_page` in one write transaction:

1. if the server holds fewer of this device's changes than it acknowledged before (a server
   restored from a backup), the lost ones are queued again and the next pull starts afresh;
2. the page of pulled changes is applied and the cursor stored — in the same transaction;
3. the server's answer to each pushed change is recorded, with the conflicts it names;
4. every touched record is reconciled with the server view (:mod:`desktop.store.server_view`),
   so every device converges to the server while a conflict waits for provincial IT;
5. granted register-book blocks, durability, the epoch, the clock offset and the server's
   flags are stored in the one sync state record (:mod:`desktop.store.sync_state`).

Rules for each pulled change:

* a change this device made itself (same ``device_id``) only advances ``server_version``:
  the local row already has its values;
* otherwise its fields are applied, except fields older than the server view knows and
  fields with local changes the server has not answered yet (those keep the local value until
  the server answers: it merges or reports a conflict);
* ``op = "delete"`` removes the record (unless it has pending local changes: then only the
  version moves and the server will report the conflict).

A pulled change is a dict in the wire format (docs/architecture.md) plus ``server_seq`` and
``version`` (the record's version on the server after that change).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.store import audit, books, dossiers, outbox
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.errors import StoreError
from desktop.store.server_view import ServerViews, forget_views, reconcile
from desktop.store.sync_state import read_state, update_state
from protocol import wire


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
        pulled: pulled changes applied to local records.
        own: pulled changes of this device whose version was advanced.
        kept_local: pulled field values not applied because they have pending local changes.
        requeued: outbox entries queued again because the server lost them.
        epoch_changed: the server's epoch differs from the one stored before.
        restored_fields: local values set to the server's (after a refusal or a late page).
        new_conflicts: conflict ids seen for the first time.
        resolved: conflicts this device learned were resolved.
        blocks_added: book blocks stored.
    """

    statuses: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(outbox.ANSWERED_STATUSES, 0)
    )
    deferred: int = 0
    pulled: int = 0
    own: int = 0
    kept_local: int = 0
    requeued: int = 0
    epoch_changed: bool = False
    restored_fields: int = 0
    new_conflicts: list[str] = field(default_factory=list)
    resolved: int = 0
    blocks_added: int = 0


def apply_page(conn: Connection, ctx: WriteContext, page: SyncPage) -> PageOutcome:
    """Apply one server answer in the caller's transaction (see the module docstring)."""
    out = PageOutcome()
    lost = _requeue_lost(conn, page, out)
    views = ServerViews(conn)
    if page.reset:
        # The page starts the history again (a snapshot of the records): what the device
        # knew of the old history is forgotten first.
        _forget_server_state(conn)
    touched = _pull(conn, ctx, views, page, out)
    touched |= _record_answers(conn, views, page, out)
    for entity_id in sorted(touched):
        out.restored_fields += reconcile(conn, ctx, views.get(entity_id))
    views.save()
    if lost and not page.reset:
        # Sequence numbers the server handed out after the restored backup will be reused:
        # forget the view and pull everything again from the start.
        _forget_server_state(conn)
    _store_blocks(conn, page, out)
    _store_health(conn, page)
    return out


def _requeue_lost(conn: Connection, page: SyncPage, out: PageOutcome) -> int:
    """Queue again what a restored server lost; return how many acknowledged entries it lost.

    Results of this very request are at or below ``max_device_seq`` (the server advanced it
    for them).
    """
    stored_epoch = read_state(conn).server_epoch
    if page.epoch and stored_epoch and page.epoch != stored_epoch:
        out.epoch_changed = True
    lost = int(
        conn.execute(
            "SELECT count(*) FROM outbox WHERE device_seq > ? AND state IN (?, ?)",
            (page.max_device_seq, outbox.ACKNOWLEDGED, outbox.DURABLE),
        ).fetchone()[0]
    )
    if lost or out.epoch_changed or page.reset:
        # A restored server may also have lost scans: ask again which ones it lacks.
        conn.execute("DELETE FROM sync_uploads")
    if lost:
        out.requeued = outbox.requeue_after(conn, page.max_device_seq)
        conn.execute(
            "DELETE FROM sync_conflicts WHERE device_seq > ? AND status = 'open'",
            (page.max_device_seq,),
        )
    return lost


def _forget_server_state(conn: Connection) -> None:
    """Drop the cursor and the server view: the next pull starts from the beginning."""
    forget_views(conn)
    update_state(conn, cursor="")


# -- 2. the pulled changes ----------------------------------------------------------------


def _pull(
    conn: Connection, ctx: WriteContext, views: ServerViews, page: SyncPage, out: PageOutcome
) -> set[str]:
    """Apply the pulled changes and store the cursor; return the dossiers they touched."""
    touched: set[str] = set()
    at = ctx.timestamp()
    before = out.pulled
    for change in page.changes:
        pulled = _newest_fields(views, ctx, change)
        out.resolved += _note_resolution(conn, change)
        _audit_resolution(conn, change, at)
        if change.get("entity") == "dossier":
            touched.add(str(change["entity_id"]))
        _apply_pulled(conn, ctx, pulled, at, out)
    update_state(conn, cursor=page.cursor)
    if out.pulled > before:
        audit.append_audit(
            conn,
            at=at,
            clerk=ctx.clerk,
            action="sync.pull",
            summary=f"applied {out.pulled - before} remote change(s), "
            f"cursor {_cursor_seq(page.cursor)}",
        )
    return touched


def _cursor_seq(cursor: str) -> int:
    """Return the server sequence number in a cursor (``"5090.0be0…"`` or ``"s5090.…"`` → 5090).

    Only this number goes into the audit log: the rest of the cursor means nothing to a reader.
    """
    head = cursor.split(".", 1)[0].lstrip("s")
    return int(head) if head.isdigit() else 0


def _newest_fields(
    views: ServerViews, ctx: WriteContext, change: Mapping[str, Any]
) -> dict[str, Any]:
    """Return a pulled change without fields older than the known ones (the view learns it)."""
    converted = dict(change)
    if "server_version" not in converted:
        converted["server_version"] = int(change.get("version") or 0)
    if change.get("entity") != "dossier":
        return converted
    view = views.get(str(change["entity_id"]))
    seq = int(change.get("server_seq") or 0)
    if change.get("op") == "delete":
        view.mark_deleted()
        return converted
    if change.get("kind") == "snapshot":
        view.mark_deleted(False)
    fields = change.get("fields") or {}
    converted["fields"] = {
        key: pair for key, pair in fields.items() if view.offer(key, pair[1], seq)
    }
    if change.get("device_id") == ctx.device_id:
        converted["device_id"] = None  # a snapshot of an own record: apply it like any other
    return converted


def _note_resolution(conn: Connection, change: Mapping[str, Any]) -> int:
    """Mark local conflicts closed by a pulled resolution (parents name the losing change)."""
    if change.get("kind") != wire.KIND_RESOLUTION:
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


def _audit_resolution(conn: Connection, change: Mapping[str, Any], at: str) -> None:
    """Record in the dossier's audit trail who at the province decided a conflict, and why.

    The entry's clerk is the resolution's ``clerk`` (the operator's name the server signed),
    its summary the fields decided and the operator's ``reason`` from the pull entry.
    """
    if change.get("kind") != wire.KIND_RESOLUTION or change.get("entity") != "dossier":
        return
    fields = ", ".join(sorted(change.get("fields") or {})) or "none"
    what = "deleted the record" if change.get("op") == "delete" else f"fields: {fields}"
    reason = str(change.get("reason") or "").strip() or "not given"
    audit.append_audit(
        conn,
        at=at,
        clerk=str(change.get("clerk") or "provincial IT"),
        action="sync.resolution",
        entity="dossier",
        entity_id=str(change["entity_id"]),
        summary=f"conflict decided by provincial IT; {what}; reason: {reason}",
    )


def _apply_pulled(
    conn: Connection, ctx: WriteContext, change: Mapping[str, Any], at: str, out: PageOutcome
) -> None:
    """Apply one pulled change to the local records (see the module docstring's rules)."""
    entity_id = str(change["entity_id"])
    version = int(change.get("server_version") or 0)
    if change.get("hlc"):
        try:
            ctx.clock.update(str(change["hlc"]))
        except ValueError:
            pass  # a malformed stamp orders nothing; the change itself is still good
    if change.get("entity") == "attachment":
        _apply_attachment(conn, change, version, at)
        out.pulled += 1
        return
    if change.get("entity") != "dossier":
        return  # reference data and future entities are the sync engine's business
    if change.get("device_id") == ctx.device_id:
        conn.execute(
            "UPDATE dossiers SET server_version = max(server_version, ?) WHERE id = ?",
            (version, entity_id),
        )
        out.own += 1
        return
    pending = outbox.pending_fields(conn, entity_id)
    out.pulled += 1
    if change.get("op") == "delete":
        if pending:
            conn.execute(
                "UPDATE dossiers SET server_version = ? WHERE id = ?", (version, entity_id)
            )
            out.kept_local += 1
        else:
            dossiers.delete_remote(conn, entity_id)
        return
    row = conn.execute("SELECT record FROM dossiers WHERE id = ?", (entity_id,)).fetchone()
    record: dict[str, Any] = json.loads(row[0]) if row else {}
    for key, (_old, new) in change.get("fields", {}).items():
        if key in pending:
            out.kept_local += 1
        elif new is None:
            record.pop(key, None)
        else:
            record[key] = new
    dossiers.write_remote(conn, entity_id, record, server_version=version, at=at)


def _apply_attachment(conn: Connection, change: Mapping[str, Any], version: int, at: str) -> None:
    """Store pulled attachment metadata (the content comes by hash, when needed)."""
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


# -- 3. the answers to pushed changes ----------------------------------------------------------


def _record_answers(
    conn: Connection, views: ServerViews, page: SyncPage, out: PageOutcome
) -> set[str]:
    """Record the server's answer to each pushed change; return the dossiers they touched."""
    final = []
    for result in page.results:
        status = result.get("status")
        if status in outbox.ANSWERED_STATUSES:
            final.append(result)
            out.statuses[str(status)] += 1
        else:
            out.deferred += 1
    outbox.record_results(conn, final, at=page.synced_at)
    touched: set[str] = set()
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
    return touched


def _learn_own(conn: Connection, views: ServerViews, result: Mapping[str, Any]) -> set[str]:
    """Add an own change the server applied to the view; return the record it touched."""
    row = conn.execute(
        "SELECT entity, entity_id, op, fields FROM outbox WHERE device_seq = ?",
        (result.get("device_seq"),),
    ).fetchone()
    if row is None or row[0] != "dossier":
        return set()
    entity_id = str(row[1])
    if result.get("status") in (wire.STATUS_APPLIED, wire.STATUS_MERGED):
        view = views.get(entity_id)
        seq = int(result.get("server_seq") or 0)
        if row[2] == "delete":
            view.mark_deleted()
        for key, pair in json.loads(row[3]).items():
            view.offer(key, pair[1], seq)
    return {entity_id}


# -- 5. blocks, durability and health -----------------------------------------------------------


def _store_blocks(conn: Connection, page: SyncPage, out: PageOutcome) -> None:
    """Keep the register-book blocks the server granted."""
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


def _store_health(conn: Connection, page: SyncPage) -> None:
    """Mark what the server holds durable, and record a good sync in the state record."""
    if page.epoch:
        outbox.mark_durable(conn, page.epoch, page.max_device_seq)
    values: dict[str, Any] = {
        "last_sync_at": page.synced_at,
        "error_code": None,
        "last_error": None,
        "skew_flagged": int(page.skew_flagged),
    }
    if page.epoch:
        values["server_epoch"] = page.epoch
    if page.clock_offset_s is not None:
        values["clock_offset"] = page.clock_offset_s
    if page.conflicts_open is not None:
        values["conflicts_open"] = int(page.conflicts_open)
    update_state(conn, **values)
