"""Queries on register-book number blocks: each device numbers from its own blocks."""

from __future__ import annotations

from typing import cast

from sqlalchemy import and_, func, insert, select

from server import schema
from server.queries.base import TxBase
from server.rows import BookBlockRow

__all__ = ["BookQueries"]


class BookQueries(TxBase):
    """Find and grant blocks of register-book numbers."""

    def block_after(
        self, commune: str, book_type: str, year: int, device_id: str, after: int
    ) -> BookBlockRow | None:
        """Return the device's first block of a book that starts after number ``after``."""
        t = schema.book_blocks
        m = self._first(
            select(t)
            .where(
                and_(
                    t.c.commune == commune,
                    t.c.book_type == book_type,
                    t.c.year == year,
                    t.c.device_id == device_id,
                    t.c.start > after,
                )
            )
            .order_by(t.c.start)
            .limit(1)
        )
        return cast(BookBlockRow, dict(m)) if m else None

    def grant_block(
        self, commune: str, book_type: str, year: int, device_id: str, size: int, at: int
    ) -> BookBlockRow:
        """Grant the next block of ``size`` numbers of a book to a device (needs the lock)."""
        t = schema.book_blocks
        top = self.conn.execute(
            select(func.max(t.c.end)).where(
                and_(t.c.commune == commune, t.c.book_type == book_type, t.c.year == year)
            )
        ).scalar()
        start = int(top or 0) + 1
        values = {
            "commune": commune,
            "book_type": book_type,
            "year": year,
            "start": start,
            "end": start + size - 1,
            "device_id": device_id,
            "granted_at": at,
        }
        result = self.conn.execute(insert(t).values(**values))
        return cast(BookBlockRow, {"id": int(result.inserted_primary_key[0]), **values})  # type: ignore[index]
