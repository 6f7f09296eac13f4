"""One sync round trip (``POST /sync``): push, book blocks, pull, clock, session; one answer.

Everything happens in one write transaction: a refused request stores nothing, and the
device's cursor, sequence and clock offset move together with what was applied.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Mapping
from typing import Any

from protocol import envelope as env
from protocol import errors, limits, sealing, wire
from server.auth import check_status, open_request, seal_response
from server.context import ServerContext
from server.errors import ApiError, BadRequest, DeviceCloned
from server.pull import acknowledged_seq, pull_page
from server.push import ClonedIdentity, push_changes
from server.rows import DeviceRow
from server.storage import Tx

__all__ = ["BATCH_MEMORY_MS", "BLOCK_SIZE", "SESSION_TTL_S", "sync"]

log = logging.getLogger("motcua.server")

#: Numbers per register-book block granted to a device.
BLOCK_SIZE = 100
#: Lifetime of a session key.
SESSION_TTL_S = 24 * 3600
#: Batch ids are remembered this long (replay guard).
BATCH_MEMORY_MS = 30 * 24 * 3600 * 1000


def sync(ctx: ServerContext, body: bytes) -> bytes:
    """Handle ``POST /sync``: push, pull, blocks, clock; one transaction, one answer.

    Raises:
        ApiError: for anything the device must fix; nothing is stored then.
    """
    device, opened = open_request(ctx, body)
    try:
        request = wire.validate_sync_request(wire.loads(opened.payload))
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    for change in request["changes"]:
        if change["device_id"] != device.device_id:
            raise BadRequest("a change's device_id differs from the envelope's")
    now = ctx.clock()
    try:
        with ctx.storage.write() as tx:
            response = _sync_tx(tx, device.device_id, opened, request, now)
    except ClonedIdentity as cloned:
        with ctx.storage.write() as tx:
            tx.update_device(device.device_id, status="cloned", status_reason=str(cloned))
            tx.drop_sessions(device.device_id)
        log.warning("device %s refused: cloned identity detected", device.device_id)
        raise DeviceCloned() from None
    log.info(
        "sync device=%s pushed=%d pulled=%d more=%s",
        device.device_id,
        len(request["changes"]),
        len(response["changes"]),
        response["more"],
    )
    return seal_response(ctx, opened, response)


def _sync_tx(
    tx: Tx,
    device_id: str,
    opened: sealing.OpenedRequest,
    request: Mapping[str, Any],
    now: int,
) -> dict[str, Any]:
    """Do the whole round trip under the write lock; return the answer's payload."""
    device = _admit(tx, device_id, opened, now)
    _note_acknowledged(tx, device, request["cursor"], now)
    # A fresh device's first snapshot stops before its own pushes: no echo of its records.
    before_push = tx.head()
    results, top = push_changes(tx, device, request["changes"], now)
    blocks = _grant_blocks(tx, device, request["want_blocks"], now)
    page = pull_page(tx, device, request, tx.get_meta("epoch") or "", before_push)
    skew = opened.header.created_at_ms - now
    flagged = abs(skew) > limits.SKEW_LIMIT_MS
    session = _offer_session(tx, device_id, opened, request, now)
    report = request["report"] or {}
    tx.update_device(
        device_id,
        last_seen=now,
        last_sync=now,
        last_device_seq=top,
        clock_offset_ms=skew,
        flagged_skew=flagged,
        # What the device reports of itself (an older client reports nothing: kept as it was).
        **(
            {
                "pending_reported": report["pending"],
                "app_version": report["app_version"] or None,
                "last_error": report["last_error"],
            }
            if report
            else {}
        ),
    )
    return {
        "results": results,
        "changes": page.changes,
        "cursor": page.cursor,
        "more": page.more,
        "reset": page.reset,
        "epoch": page.epoch,
        "max_device_seq": top,
        "server_time": now,
        "clock_skew_ms": skew,
        "skew_flagged": flagged,
        "blocks": blocks,
        "conflicts_open": tx.count_open_conflicts(device.commune),
        "session": session,
    }


def _admit(tx: Tx, device_id: str, opened: sealing.OpenedRequest, now: int) -> DeviceRow:
    """Return the device, refusing it when revoked meanwhile or when the envelope is a replay.

    Raises:
        ApiError: 403/409 for a revoked or cloned device, 409 for a replayed envelope.
    """
    device = tx.get_device(device_id)
    assert device is not None
    check_status(device)  # revoked while the request was in flight
    if not tx.remember_batch(device_id, opened.header.batch_id, now):
        raise ApiError(409, errors.ERR_REPLAYED, "envelope already received (replay)")
    if random.random() < 0.01:
        tx.prune_batches(now - BATCH_MEMORY_MS)
        tx.prune_sessions(now)
    return device


def _note_acknowledged(tx: Tx, device: DeviceRow, cursor: str, now: int) -> None:
    """Keep the log position the device's cursor acknowledges, and the resolutions it holds.

    A resolution counts as received by a device at its first sync whose cursor is at or past
    the resolution's ``server_seq`` (the device stored the page holding it).
    """
    acked = acknowledged_seq(tx, cursor)
    if acked is None or acked == device.acked_seq:
        return
    tx.record_deliveries(device.device_id, device.commune, device.acked_seq or 0, acked, now)
    tx.update_device(device.device_id, acked_seq=acked)


def _grant_blocks(
    tx: Tx, device: DeviceRow, wanted: list[dict[str, Any]], now: int
) -> list[dict[str, Any]]:
    """Return the register-book blocks asked for (the same block when asked again)."""
    blocks = []
    for want in wanted:
        block = tx.block_after(
            device.commune, want["book_type"], want["year"], device.device_id, want["after"]
        ) or tx.grant_block(
            device.commune, want["book_type"], want["year"], device.device_id, BLOCK_SIZE, now
        )
        blocks.append(
            {
                "book_type": block["book_type"],
                "year": block["year"],
                "start": block["start"],
                "end": block["end"],
            }
        )
    return blocks


def _offer_session(
    tx: Tx,
    device_id: str,
    opened: sealing.OpenedRequest,
    request: Mapping[str, Any],
    now: int,
) -> dict[str, Any] | None:
    """Hand out a session key when asked in an HPKE request (later requests skip the KEM)."""
    if not (request["session"] and opened.header.mode == env.MODE_HPKE):
        return None
    session_id = secrets.token_urlsafe(12)
    key = sealing.derive_session_key(opened.response_key, session_id)
    tx.insert_session(session_id, device_id, key, now + SESSION_TTL_S * 1000)
    return {"id": session_id, "ttl_s": SESSION_TTL_S}
