"""What every group of queries shares: the connection, the write buffers, query helpers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, Select, and_, bindparam, insert, update

from server import schema
from server.dossier_facts import dossier_facts
from server.rows import RecordRow, dumps

__all__ = ["IN_CHUNK", "TxBase", "chunks"]

#: Values per ``IN (...)`` list: well under every backend's bound-parameter limit.
IN_CHUNK = 1000

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """Yield ``values`` in slices of at most ``size`` (for ``IN`` lists)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


class TxBase:
    """A unit of work on one connection; the query groups build on it.

    Record, log and version rows are buffered and written in few round trips (executemany):
    reads of those tables flush first, and a write transaction flushes at its end.

    Args:
        conn: the connection, inside a transaction.
        locked: whether the transaction holds the server's write lock.
        head: the ``(server_seq, chain)`` the write lock was taken at.
    """

    def __init__(
        self, conn: Connection, *, locked: bool, head: tuple[int, str] | None = None
    ) -> None:
        self.conn = conn
        self.locked = locked
        self._head = head
        self._changes: list[dict[str, Any]] = []
        self._versions: list[dict[str, Any]] = []
        self._records: dict[tuple[str, str], tuple[RecordRow, bool]] = {}

    def flush(self) -> None:
        """Write buffered records, change-log and version rows."""
        self._flush_records()
        if self._changes:
            rows, self._changes = self._changes, []
            self.conn.execute(insert(schema.changes), rows)
        if self._versions:
            rows, self._versions = self._versions, []
            self.conn.execute(insert(schema.record_versions), rows)

    def _flush_records(self) -> None:
        if not self._records:
            return
        buffered, self._records = self._records, {}
        t = schema.records
        inserts = [
            {"entity": r.entity, "entity_id": r.entity_id, **_record_columns(r)}
            for r, new in buffered.values()
            if new
        ]
        updates = [
            {"b_entity": r.entity, "b_entity_id": r.entity_id, **_record_columns(r)}
            for r, new in buffered.values()
            if not new
        ]
        if inserts:
            self.conn.execute(insert(t), inserts)
        if updates:
            self.conn.execute(
                update(t).where(
                    and_(
                        t.c.entity == bindparam("b_entity"),
                        t.c.entity_id == bindparam("b_entity_id"),
                    )
                ),
                updates,
            )

    def _first(self, query: Select[Any]) -> RowMapping | None:
        """Return the first row of ``query`` by column name, or None."""
        return self.conn.execute(query).mappings().first()

    def _all(self, query: Select[Any]) -> Sequence[RowMapping]:
        """Return every row of ``query`` by column name."""
        return self.conn.execute(query).mappings().all()


def _record_columns(rec: RecordRow) -> dict[str, Any]:
    """Return a record's columns other than its key, JSON columns as text, with its facts."""
    return {
        "commune": rec.commune,
        "version": rec.version,
        "values": dumps(rec.values),
        "field_seq": dumps(rec.field_seq),
        "deleted": rec.deleted,
        "updated_seq": rec.updated_seq,
        "dup_key": rec.dup_key,
        "book_key": rec.book_key,
        "finished_on": rec.finished_on,
        **dossier_facts(rec.entity, rec.values),
    }
