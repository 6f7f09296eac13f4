"""Pull: the next page of a commune's changes after a device's cursor.

A cursor is ``<server_seq>.<first 16 hex of the log's hash chain there>``; an ``s`` in front
marks a snapshot (current records, for a device's first pull or after a reset) instead of the
change log. A cursor the log does not hold (a restored server) resets the device to a snapshot
and, the first time, starts a new epoch.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from protocol import wire
from server.rows import ChangeRow, DeviceRow, RecordRow
from server.storage import Tx

__all__ = ["PAGE_BYTES", "Page", "acknowledged_seq", "pull_page"]

log = logging.getLogger("motcua.server")

#: Upper bound of a pull page's JSON before compression (a response must stay < 8 MiB).
PAGE_BYTES = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Page:
    """A page of changes for a device.

    Attributes:
        changes: the entries, oldest first.
        cursor: where the next pull starts.
        more: whether more entries wait after this page.
        reset: whether the device must drop its cursor (its history moved back).
        epoch: the server's epoch (a new one when this pull started it).
    """

    changes: list[dict[str, Any]]
    cursor: str
    more: bool
    reset: bool
    epoch: str


def pull_page(
    tx: Tx,
    device: DeviceRow,
    request: Mapping[str, Any],
    epoch: str,
    before_push: tuple[int, str],
) -> Page:
    """Return the device's next page of its commune's changes.

    Args:
        tx: the sync's write transaction.
        device: the pulling device.
        request: the sync request (``cursor``, ``epoch``, ``limit``).
        epoch: the server's current epoch.
        before_push: the log head before this request's push (a first pull stops there).
    """
    head_seq, head_chain = tx.head()
    cursor = request["cursor"]
    if cursor == "":
        # First pull of a device: everything it pushed in this request is its own already.
        head_seq, head_chain = before_push
    snapshot, after, valid = _parse_cursor(tx, cursor, head_seq)
    reset = False
    if not valid or (request["epoch"] not in (None, epoch)):
        reset = True
        if not valid and request["epoch"] == epoch:
            # The first device to notice that the history moved back starts a new epoch.
            epoch = uuid.uuid4().hex
            tx.set_meta("epoch", epoch)
            log.warning("cursor beyond the restored history: new epoch started")
        snapshot, after = True, 0
    limit = request["limit"]
    if snapshot:
        entries = _snapshot_entries(tx.pull_snapshot(device.commune, after, head_seq, limit + 1))
    else:
        entries = _log_entries(
            tx.pull(device.commune, after, head_seq, device.device_id, limit + 1)
        )
    page: list[dict[str, Any]] = []
    size = 0
    more = False
    last = after
    for entry in entries:
        if len(page) == limit or size > PAGE_BYTES:
            more = True
            break
        size += len(wire.canonical_json(entry))
        page.append(entry)
        last = entry["server_seq"]
    if more:
        held = tx.change_at(last)
        chain = held.chain if held is not None else head_chain
        next_cursor = f"{'s' if snapshot else ''}{last}.{chain[:16]}"
    else:
        next_cursor = f"{head_seq}.{head_chain[:16]}"
    return Page(page, next_cursor, more, reset, epoch)


def _log_entries(rows: list[ChangeRow]) -> Iterator[dict[str, Any]]:
    """Yield the pull entries of logged changes."""
    for row in rows:
        entry: dict[str, Any] = {
            "server_seq": row.server_seq,
            "change_id": row.change_id,
            "device_id": row.device_id,
            "device_seq": row.device_seq,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "op": row.op,
            "base_version": row.base_version,
            "version": row.new_version,
            "fields": row.applied,
            "hlc": row.hlc,
            "clerk": row.clerk,
            "commune": row.commune,
            "kind": row.kind,
            "status": row.status,
        }
        if row.parents is not None:
            entry["parents"] = row.parents
        if row.signature:
            entry["signature"] = row.signature
        if row.kind == wire.KIND_RESOLUTION and row.reason:
            # Why provincial IT decided, for the device's audit trail. Not covered by the
            # resolution's signature (resolutions signed before it was sent must still
            # verify); the answer carrying it is signed by the server as a whole.
            entry["reason"] = row.reason
        yield entry


def _snapshot_entries(records: list[RecordRow]) -> Iterator[dict[str, Any]]:
    """Yield the pull entries of current records (a snapshot page)."""
    for rec in records:
        yield {
            "server_seq": rec.updated_seq,
            "entity": rec.entity,
            "entity_id": rec.entity_id,
            "op": "delete" if rec.deleted else "upsert",
            "version": rec.version,
            "fields": {k: [None, v] for k, v in rec.values.items()},
            "commune": rec.commune,
            "kind": "snapshot",
            "status": wire.STATUS_APPLIED,
        }


def acknowledged_seq(tx: Tx, cursor: str) -> int | None:
    """Return the ``server_seq`` a device's cursor says it holds the log up to, or None.

    None for a first pull, a snapshot being paged, or a cursor the log does not hold.
    """
    snapshot, seq, valid = _parse_cursor(tx, cursor, tx.head()[0])
    return seq if valid and cursor and not snapshot else None


def _parse_cursor(tx: Tx, cursor: str, head_seq: int) -> tuple[bool, int, bool]:
    """Return (snapshot mode, after seq, valid) for a cursor text."""
    if cursor == "":
        return True, 0, True
    snapshot = cursor.startswith("s")
    text = cursor[1:] if snapshot else cursor
    seq_text, _, chain = text.partition(".")
    if not seq_text.isdigit() or len(seq_text) > 18 or len(chain) != 16:
        return snapshot, 0, False
    seq = int(seq_text)
    if seq == 0:
        return snapshot, 0, chain == "0" * 16
    if seq > head_seq:
        return snapshot, 0, False
    held = tx.change_at(seq)
    if held is None or held.chain[:16] != chain:
        return snapshot, 0, False
    return snapshot, seq, True
