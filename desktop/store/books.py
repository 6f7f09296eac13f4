"""Register book numbering ("Số …, Quyển số …") from per-device blocks of numbers.

A register book is one per book type (``KS`` birth, ``KT`` death, ``XNHN``, ``KH``) per year;
its entries are numbered in order and a number is never reused: a cancelled dossier keeps its
number. Several devices may register into one commune's book, so each device numbers from
*blocks* it holds (``book_blocks``: book type, year, start, end, next, source). Before
enrolment a device opens local provisional blocks (``source = 'local'``) of
:data:`BLOCK_SIZE` numbers after every number it has seen; the sync engine adds blocks the
server hands out (``source = 'server'``) with :func:`add_block`, and those are used first.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.store.database import Connection
from desktop.store.errors import StoreError

BLOCK_SIZE = 100


@dataclass(frozen=True)
class BookBlock:
    """A range of register numbers this device may hand out."""

    id: int
    book_type: str
    year: int
    start: int
    end: int
    next: int
    source: str

    @property
    def remaining(self) -> int:
        """How many numbers are still free in the block."""
        return self.end - self.next + 1


def add_block(
    conn: Connection, book_type: str, year: int, start: int, end: int, source: str, at: str
) -> BookBlock:
    """Record a block of numbers this device may use (in the caller's transaction).

    Raises:
        StoreError: the range is empty or overlaps a block this device already holds.
    """
    if start < 1 or end < start:
        raise StoreError(f"invalid book block {start}-{end}")
    overlap = conn.execute(
        'SELECT 1 FROM book_blocks WHERE book_type = ? AND year = ? AND NOT ("end" < ? OR start > ?)',
        (book_type, year, start, end),
    ).fetchone()
    if overlap:
        raise StoreError(f"book block {book_type}/{year} {start}-{end} overlaps a held block")
    cur = conn.execute(
        'INSERT INTO book_blocks (book_type, year, start, "end", next, source, created_at) '
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (book_type, year, start, end, start, source, at),
    )
    return BookBlock(int(cur.lastrowid or 0), book_type, year, start, end, start, source)


def blocks(conn: Connection, book_type: str | None = None) -> list[BookBlock]:
    """Return the blocks held, optionally of one book type."""
    sql = 'SELECT id, book_type, year, start, "end", next, source FROM book_blocks'
    if book_type is None:
        rows = conn.execute(sql + " ORDER BY id").fetchall()
    else:
        rows = conn.execute(sql + " WHERE book_type = ? ORDER BY id", (book_type,)).fetchall()
    return [BookBlock(*r) for r in rows]


def allocate_book_number(conn: Connection, book_type: str, year: int, at: str) -> int:
    """Take the next free number of the book (in the caller's transaction).

    Server blocks are used before local ones, oldest first. When none has room, a local
    block starts after the highest number held or already used in this book.
    """
    row = conn.execute(
        'SELECT id, next FROM book_blocks WHERE book_type = ? AND year = ? AND next <= "end" '
        "ORDER BY source = 'local', id LIMIT 1",
        (book_type, year),
    ).fetchone()
    if row is None:
        top = conn.execute(
            'SELECT max(m) FROM (SELECT max("end") AS m FROM book_blocks '
            "WHERE book_type = ? AND year = ? UNION ALL SELECT max(book_number) FROM dossiers "
            "WHERE book_type = ? AND book_year = ?)",
            (book_type, year, book_type, year),
        ).fetchone()[0]
        start = int(top or 0) + 1
        block = add_block(conn, book_type, year, start, start + BLOCK_SIZE - 1, "local", at)
        row = (block.id, block.next)
    conn.execute("UPDATE book_blocks SET next = next + 1 WHERE id = ?", (row[0],))
    return int(row[1])
