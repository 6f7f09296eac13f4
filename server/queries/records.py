"""Queries on records (their current state) and on their kept versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from server import schema
from server.queries.base import TxBase, chunks
from server.rows import RecordRow, VersionRow, dumps, loads, record_row, version_row

__all__ = ["RecordQueries"]


class RecordQueries(TxBase):
    """Read and write records and their versions."""

    def get_records(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], RecordRow]:
        """Return the current state of several records, by (entity, entity_id)."""
        self._flush_records()
        t = schema.records
        out: dict[tuple[str, str], RecordRow] = {}
        for part in chunks(sorted({k[1] for k in keys})):
            for m in self._all(select(t).where(t.c.entity_id.in_(part))):
                rec = record_row(m)
                out[(rec.entity, rec.entity_id)] = rec
        return {k: v for k, v in out.items() if k in set(keys)}

    def get_record(self, entity: str, entity_id: str) -> RecordRow | None:
        """Return a record's current state, or None."""
        self._flush_records()
        t = schema.records
        m = self._first(select(t).where(and_(t.c.entity == entity, t.c.entity_id == entity_id)))
        return record_row(m) if m else None

    def put_record(self, rec: RecordRow, *, new: bool) -> None:
        """Insert (``new``) or replace a record's current state (buffered until a read)."""
        key = (rec.entity, rec.entity_id)
        pending = self._records.get(key)
        # A record created earlier in this transaction and not yet written stays an insert.
        self._records[key] = (rec, new or (pending is not None and pending[1]))

    def insert_version(
        self,
        rec: RecordRow,
        *,
        server_seq: int,
        change_id: str,
        device_id: str,
        changed: dict[str, Any],
    ) -> None:
        """Keep a version of a record for ever (buffered)."""
        self._versions.append(
            {
                "entity": rec.entity,
                "entity_id": rec.entity_id,
                "version": rec.version,
                "server_seq": server_seq,
                "change_id": change_id,
                "device_id": device_id,
                "values": dumps(rec.values),
                "changed": dumps(changed),
                "deleted": rec.deleted,
            }
        )

    def versions(self, entity: str, entity_id: str, after: int = 0) -> list[VersionRow]:
        """Return a record's versions above ``after`` (JSON columns parsed), oldest first."""
        self.flush()
        t = schema.record_versions
        rows = self._all(
            select(t)
            .where(and_(t.c.entity == entity, t.c.entity_id == entity_id, t.c.version > after))
            .order_by(t.c.version)
        )
        return [version_row(m) for m in rows]

    def version_values(self, entity: str, entity_id: str, version: int) -> dict[str, Any] | None:
        """Return a record's values at ``version`` (None if unknown)."""
        self.flush()
        t = schema.record_versions
        text = self.conn.execute(
            select(t.c["values"]).where(
                and_(t.c.entity == entity, t.c.entity_id == entity_id, t.c.version == version)
            )
        ).scalar()
        values: dict[str, Any] | None = loads(text)
        return values

    def records_with_keys(self, column: str, keys: list[str]) -> list[RecordRow]:
        """Return live records whose ``dup_key`` or ``book_key`` is one of ``keys``."""
        self._flush_records()
        t = schema.records
        col = t.c[column]
        out: list[RecordRow] = []
        for part in chunks(sorted(set(keys))):
            rows = self._all(select(t).where(and_(col.in_(part), t.c.deleted.is_(False))))
            out.extend(record_row(m) for m in rows)
        return out

    def records_with_key(self, column: str, key: str, exclude_id: str) -> list[RecordRow]:
        """Return live records whose ``dup_key`` or ``book_key`` equals ``key``."""
        self._flush_records()
        t = schema.records
        col = t.c[column]
        rows = self._all(
            select(t).where(and_(col == key, t.c.entity_id != exclude_id, t.c.deleted.is_(False)))
        )
        return [record_row(m) for m in rows]

    def pull_snapshot(self, commune: str, after: int, upto: int, limit: int) -> list[RecordRow]:
        """Return up to ``limit`` current records of a commune last changed in ``(after, upto]``."""
        self._flush_records()
        t = schema.records
        rows = self._all(
            select(t)
            .where(and_(t.c.commune == commune, t.c.updated_seq > after, t.c.updated_seq <= upto))
            .order_by(t.c.updated_seq)
            .limit(limit)
        )
        return [record_row(m) for m in rows]
