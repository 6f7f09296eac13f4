"""The server's storage: every read and write of the database, behind one small API.

:class:`Storage` opens units of work: ``with storage.write() as tx`` takes the server's one
write lock (the ``seq_counter`` row: ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite) for the whole transaction, so ``server_seq`` numbers are gap-free and
commit in order even with several server processes on one PostgreSQL; ``with storage.read()
as tx`` is a plain transaction. :class:`Tx` holds the queries, grouped by table in
:mod:`server.queries`; the rows they return are typed in :mod:`server.rows`. The same contract
test suite (tests/server/test_storage_contract.py) runs against both backends.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from sqlalchemy import Engine, func, insert, select, update

from server import schema
from server.db import make_engine
from server.migrations import migrate
from server.queries.attachments import AttachmentQueries
from server.queries.books import BookQueries
from server.queries.conflicts import ConflictQueries
from server.queries.console import ConsoleQueries
from server.queries.devices import DeviceQueries
from server.queries.log import ChangeLogQueries
from server.queries.operators import OperatorQueries
from server.queries.records import RecordQueries

__all__ = ["Storage", "Tx"]


class Storage:
    """The server database: engine, migrations and units of work.

    Args:
        url: SQLAlchemy URL (``postgresql+psycopg://…`` or ``sqlite:///path``).
        engine: an engine to use instead of creating one from ``url``.
    """

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)

    def migrate(self) -> list[str]:
        """Apply pending migrations; return their names."""
        return migrate(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        """Open a transaction holding the server's write lock (committed on success)."""
        with self.engine.begin() as conn:
            # SQLite: BEGIN IMMEDIATE has taken the lock already; PostgreSQL: lock the row.
            row = conn.execute(
                select(schema.seq_counter.c.value, schema.seq_counter.c.chain)
                .where(schema.seq_counter.c.id == 1)
                .with_for_update()
            ).one()
            start = (int(row.value), str(row.chain))
            tx = Tx(conn, locked=True, head=start)
            yield tx
            tx.flush()
            if tx.head() != start:
                seq, chain = tx.head()
                t = schema.seq_counter
                conn.execute(update(t).where(t.c.id == 1).values(value=seq, chain=chain))

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        """Open a plain transaction for reading (takes no write lock)."""
        with self.engine.connect() as conn:
            conn.execution_options(motcua_read_only=True)
            with conn.begin():
                yield Tx(conn, locked=False)


class Tx(
    ChangeLogQueries,
    RecordQueries,
    ConflictQueries,
    DeviceQueries,
    BookQueries,
    AttachmentQueries,
    OperatorQueries,
    ConsoleQueries,
):
    """A unit of work on one connection. Writes need :meth:`Storage.write`'s lock.

    Beyond the table groups it inherits, it holds the server's settings (``server_meta``),
    the log head and the gap-free sequence, and table counts.
    """

    # --- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return a server_meta value, or None."""
        t = schema.server_meta
        value: str | None = self.conn.execute(select(t.c.value).where(t.c.key == key)).scalar()
        return value

    def set_meta(self, key: str, value: str) -> None:
        """Insert or replace a server_meta value."""
        t = schema.server_meta
        if self.get_meta(key) is None:
            self.conn.execute(insert(t).values(key=key, value=value))
        else:
            self.conn.execute(update(t).where(t.c.key == key).values(value=value))

    # --- the log head and sequence ------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """Return the last ``(server_seq, chain)`` committed (or taken in this transaction)."""
        if self._head is not None:
            return self._head
        t = schema.seq_counter
        row = self.conn.execute(select(t.c.value, t.c.chain).where(t.c.id == 1)).one()
        return int(row.value), str(row.chain)

    def next_seq(self, change_id: str) -> tuple[int, str]:
        """Take the next gap-free ``server_seq`` and extend the hash chain with ``change_id``.

        Raises:
            RuntimeError: outside a :meth:`Storage.write` transaction.
        """
        if not self.locked or self._head is None:
            raise RuntimeError("next_seq needs the write lock (Storage.write)")
        seq, chain = self._head
        seq += 1
        chain = hashlib.sha256(bytes.fromhex(chain) + change_id.encode("utf-8")).hexdigest()
        # The counter row is written once, when the transaction ends (Storage.write); the row
        # lock we hold keeps every other writer out until then.
        self._head = (seq, chain)
        return seq, chain

    # --- statistics ---------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Return the number of rows of a table."""
        self.flush()
        t = schema.metadata.tables[table]
        return int(self.conn.execute(select(func.count()).select_from(t)).scalar() or 0)
