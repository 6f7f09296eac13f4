"""Attachments: which scans the server lacks, and resumable chunked uploads (tus-like).

A scan is named by its SHA-256. The device asks which hashes are missing (with the offset
acknowledged so far), ``HEAD``s one for its offset, and ``PATCH``es chunks at that offset, each
with its own checksum; the last chunk completes the upload once the whole hash matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from protocol import errors, limits, sealing, wire
from server.auth import open_request, seal_response, verify_signed_request
from server.context import ServerContext
from server.errors import ApiError, BadRequest
from server.rows import AttachmentRow, DeviceRow
from server.storage import Tx

__all__ = ["attachment_offset", "attachments_missing", "upload_chunk"]


def attachments_missing(ctx: ServerContext, body: bytes) -> bytes:
    """Handle ``POST /attachments/missing``: which hashes the server lacks, with offsets."""
    _device, opened = open_request(ctx, body)
    try:
        hashes = wire.validate_missing_request(wire.loads(opened.payload))
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    missing = []
    with ctx.storage.read() as tx:
        for sha in dict.fromkeys(hashes):
            row = tx.get_attachment(sha)
            if row is None or not row["complete"]:
                missing.append({"sha256": sha, "offset": int(row["received"]) if row else 0})
    return seal_response(ctx, opened, {"missing": missing})


def upload_chunk(ctx: ServerContext, sha256: str, body: bytes) -> bytes:
    """Handle ``PATCH /attachments/<sha256>``: append one chunk at the acknowledged offset.

    Raises:
        ApiError: 400 malformed, 409 wrong offset (with the right one), 422 hash mismatch.
    """
    device, opened = open_request(ctx, body)
    chunk, size, offset = _checked_chunk(sha256, opened)
    now = ctx.clock()
    with ctx.storage.write() as tx:
        row = _upload_state(tx, device, sha256, size, now)
        if row["complete"]:
            return seal_response(ctx, opened, {"offset": int(row["size"]), "complete": True})
        if int(row["size"]) != size:
            raise BadRequest("attachment size differs from upload's")
        if offset != int(row["received"]):
            raise ApiError(
                409,
                errors.ERR_OFFSET,
                "chunk offset is not the acknowledged offset",
                offset=int(row["received"]),
            )
        end = offset + len(chunk)
        if end > size:
            raise BadRequest("chunk runs past the attachment size")
        tx.add_chunk(sha256, offset, chunk)
        complete = mismatch = False
        if end == size:
            if hashlib.sha256(tx.attachment_content(sha256)).hexdigest() != sha256:
                tx.reset_attachment(sha256)
                mismatch = True
            else:
                tx.complete_attachment(sha256, now)
                complete = True
    if mismatch:
        # Raised after the commit: the reset to offset 0 must be kept.
        raise ApiError(422, errors.ERR_BAD_REQUEST, "attachment hash mismatch: upload again")
    return seal_response(ctx, opened, {"offset": end, "complete": complete})


def _checked_chunk(sha256: str, opened: sealing.OpenedRequest) -> tuple[bytes, int, int]:
    """Return (chunk, attachment size, offset) of a well-formed chunk upload.

    Raises:
        BadRequest: for a malformed header, another attachment's chunk, a bad size or checksum.
    """
    try:
        wire.check_sha256(sha256, "path")
        info = wire.validate_chunk_header(opened.header.extra)
    except errors.WireError as exc:
        raise BadRequest(str(exc)) from exc
    chunk = opened.payload
    if info["sha256"] != sha256:
        raise BadRequest("chunk header names another attachment")
    if not chunk or len(chunk) > limits.MAX_CHUNK_BYTES:
        raise BadRequest("chunk must hold 1 byte to 1 MiB")
    if hashlib.sha256(chunk).hexdigest() != info["chunk_sha256"]:
        raise BadRequest("chunk checksum does not match")
    return chunk, int(info["size"]), int(info["offset"])


def _upload_state(tx: Tx, device: DeviceRow, sha256: str, size: int, now: int) -> AttachmentRow:
    """Return an attachment's upload state, starting the upload when it is new."""
    row = tx.get_attachment(sha256)
    if row is None:
        tx.insert_attachment(sha256, size, device.device_id, device.commune, now)
        row = tx.get_attachment(sha256)
        assert row is not None
    return row


def attachment_offset(
    ctx: ServerContext, sha256: str, method: str, path: str, headers: Mapping[str, str]
) -> int:
    """Handle ``HEAD /attachments/<sha256>``: the acknowledged offset (signed headers).

    Raises:
        ApiError: for missing/invalid signature headers or an unusable device.
    """
    try:
        wire.check_sha256(sha256, "path")
    except errors.WireError as exc:
        raise BadRequest(f"bad signed request: {exc}") from exc
    verify_signed_request(ctx, method, path, headers)
    with ctx.storage.read() as tx:
        row = tx.get_attachment(sha256)
    if row is None:
        return 0
    return int(row["size"]) if row["complete"] else int(row["received"])
