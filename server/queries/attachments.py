"""Queries on attachments: upload state and the chunks received so far."""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, insert, select, update

from server import schema
from server.queries.base import TxBase
from server.rows import AttachmentRow

__all__ = ["AttachmentQueries"]


class AttachmentQueries(TxBase):
    """Store resumable uploads chunk by chunk."""

    def get_attachment(self, sha256: str) -> AttachmentRow | None:
        """Return an attachment's upload state, or None."""
        t = schema.attachments
        m = self._first(select(t).where(t.c.sha256 == sha256))
        return cast(AttachmentRow, dict(m)) if m else None

    def insert_attachment(
        self, sha256: str, size: int, device_id: str, commune: str, at: int
    ) -> None:
        """Start an upload."""
        self.conn.execute(
            insert(schema.attachments).values(
                sha256=sha256,
                size=size,
                received=0,
                complete=False,
                device_id=device_id,
                commune=commune,
                created_at=at,
            )
        )

    def add_chunk(self, sha256: str, offset: int, data: bytes) -> None:
        """Store one chunk and advance the acknowledged offset."""
        self.conn.execute(
            insert(schema.attachment_chunks).values(sha256=sha256, offset=offset, data=data)
        )
        self._set_received(sha256, offset + len(data))

    def attachment_content(self, sha256: str) -> bytes:
        """Return the bytes received so far for an attachment, in order."""
        t = schema.attachment_chunks
        rows = self.conn.execute(
            select(t.c.data).where(t.c.sha256 == sha256).order_by(t.c.offset)
        ).scalars()
        return b"".join(bytes(r) for r in rows)

    def complete_attachment(self, sha256: str, at: int) -> None:
        """Mark an upload complete."""
        t = schema.attachments
        self.conn.execute(
            update(t).where(t.c.sha256 == sha256).values(complete=True, completed_at=at)
        )

    def reset_attachment(self, sha256: str) -> None:
        """Throw away an upload's chunks (hash mismatch) so it starts again at 0."""
        self.conn.execute(
            delete(schema.attachment_chunks).where(schema.attachment_chunks.c.sha256 == sha256)
        )
        self._set_received(sha256, 0)

    def _set_received(self, sha256: str, received: int) -> None:
        t = schema.attachments
        self.conn.execute(update(t).where(t.c.sha256 == sha256).values(received=received))
