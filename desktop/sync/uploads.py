"""Upload scans after the records, resumably (tus-like), and never holding the records up.

The server is asked first which hashes it lacks and how many bytes of each it holds; each
missing scan then goes in :data:`protocol.limits.CHUNK_BYTES` chunks, each sealed and
checksummed, from the offset the server acknowledged. A cut link costs at most the chunk in
flight: the next attempt (or the next sync) goes on from the server's offset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from desktop.store.sync_store import SyncStore
from desktop.sync.channel import Channel
from desktop.sync.client import HttpError
from desktop.sync.errors import SyncError
from desktop.sync.report import SyncReport
from protocol import errors, limits, wire


class Uploader:
    """Send the scans the server lacks through the channel."""

    def __init__(self, channel: Channel) -> None:
        """Upload through ``channel`` the scans of its store."""
        self.channel = channel
        self.store: SyncStore = channel.store

    def run(self, report: SyncReport) -> None:
        """Upload scans the server lacks, resuming from its acknowledged offset.

        Raises:
            SyncError, TransportError, EnvelopeError: the scans wait for the next sync.
        """
        todo = self.store.attachments_to_upload()
        if not todo:
            return
        sizes = dict(todo)
        answer = self.channel.retrying(
            lambda n: self.channel.call(wire.PATH_ATTACHMENTS_MISSING, {"hashes": list(sizes)})[0]
        )
        missing = {
            str(m["sha256"]): int(m.get("offset") or 0)
            for m in answer.get("missing") or ()
            if isinstance(m, dict) and m.get("sha256") in sizes
        }
        done = [sha for sha in sizes if sha not in missing]
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        if done:
            self.store.mark_uploaded(done, stamp)
            report.attachments_uploaded += len(done)
        for sha, offset in missing.items():
            if not self.store.has_attachment_content(sha):
                continue  # metadata pulled from another device; the content is not here
            self._upload(sha, offset, report)
            self.store.mark_uploaded([sha], stamp)
            report.attachments_uploaded += 1

    def _upload(self, sha: str, offset: int, report: SyncReport) -> None:
        """Send one scan from ``offset`` to its end, one checksummed chunk per request."""
        content = self.store.attachment_content(sha)
        size = len(content)
        path = wire.PATH_ATTACHMENTS + sha
        while offset < size:
            chunk = content[offset : offset + limits.CHUNK_BYTES]
            extra = {"a": sha, "o": offset, "n": size, "c": hashlib.sha256(chunk).hexdigest()}

            def send(n: int, c: bytes = chunk, x: dict[str, Any] = extra) -> dict[str, Any]:
                report.attachment_bytes += len(c)  # counted per attempt: re-sends show
                return self.channel.call(path, c, extra=x, method="PATCH", expect=256)[0]

            try:
                answer = self.channel.retrying(send)
            except HttpError as exc:
                if exc.code == errors.ERR_OFFSET and isinstance(exc.body.get("offset"), int):
                    # The chunk's answer was lost on the way back, or the server holds less
                    # than we thought: go on from the offset the server acknowledged.
                    offset = int(exc.body["offset"])
                    continue
                raise
            new_offset = int(answer.get("offset") or 0)
            if answer.get("complete"):
                return
            if new_offset <= offset:
                raise SyncError(f"the server did not accept the chunk at {offset}", code="upload")
            offset = new_offset

    def head_offset(self, sha: str) -> int:
        """Ask the server how many bytes of a scan it holds (``HEAD``, signed headers)."""
        reply = self.channel.signed_head(wire.PATH_ATTACHMENTS + sha)
        return int(reply.headers.get(wire.HEADER_UPLOAD_OFFSET) or 0)
