"""The server's storage: every read and write of the database, behind one small API.

:class:`Storage` opens units of work: ``with storage.write() as tx`` takes the server's one
write lock (the ``seq_counter`` row: ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite) for the whole transaction, so ``server_seq`` numbers are gap-free and
commit in order even with several server processes on one PostgreSQL; ``with storage.read()
as tx`` is a plain transaction. :class:`Tx` holds the queries. The same contract test suite
(tests/server/test_storage_contract.py) runs against both backends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update

from server import schema
from server.db import make_engine
from server.migrations import migrate

__all__ = ["ChangeRow", "DeviceRow", "RecordRow", "Storage", "Tx", "dumps", "loads"]

SERVER_DEVICE_ID = "server"


def dumps(obj: Any) -> str:
    """Return canonical JSON text for a JSON column."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    """Parse a JSON column (None stays None)."""
    return None if text is None else json.loads(text)


@dataclasses.dataclass(frozen=True)
class DeviceRow:
    """An enrolled device as stored."""

    device_id: str
    commune: str
    label: str
    keys: dict[str, str]
    key_id: str
    status: str
    status_reason: str
    enrolled_at: int
    last_seen: int | None
    last_sync: int | None
    last_device_seq: int
    clock_offset_ms: int | None
    flagged_skew: bool


@dataclasses.dataclass(frozen=True)
class ChangeRow:
    """One entry of the change log."""

    server_seq: int
    chain: str
    change_id: str
    device_id: str
    device_seq: int | None
    entity: str
    entity_id: str
    commune: str
    op: str
    base_version: int
    new_version: int | None
    fields: dict[str, list[Any]]
    applied: dict[str, list[Any]]
    hlc: str
    clerk: str
    status: str
    reason: str | None
    conflict_ids: list[int]
    kind: str
    parents: list[Any] | None
    signature: str | None
    received_at: int


@dataclasses.dataclass(frozen=True)
class RecordRow:
    """The current state of one record."""

    entity: str
    entity_id: str
    commune: str
    version: int
    values: dict[str, Any]
    field_seq: dict[str, int]
    deleted: bool
    updated_seq: int
    dup_key: str | None
    book_key: str | None


def _device(row: Any) -> DeviceRow:
    m = row._mapping
    return DeviceRow(
        device_id=m["device_id"],
        commune=m["commune"],
        label=m["label"],
        keys=json.loads(m["keys"]),
        key_id=m["key_id"],
        status=m["status"],
        status_reason=m["status_reason"],
        enrolled_at=m["enrolled_at"],
        last_seen=m["last_seen"],
        last_sync=m["last_sync"],
        last_device_seq=m["last_device_seq"],
        clock_offset_ms=m["clock_offset_ms"],
        flagged_skew=bool(m["flagged_skew"]),
    )


def _change(row: Any) -> ChangeRow:
    m = row._mapping
    return ChangeRow(
        server_seq=m["server_seq"],
        chain=m["chain"],
        change_id=m["change_id"],
        device_id=m["device_id"],
        device_seq=m["device_seq"],
        entity=m["entity"],
        entity_id=m["entity_id"],
        commune=m["commune"],
        op=m["op"],
        base_version=m["base_version"],
        new_version=m["new_version"],
        fields=json.loads(m["fields"]),
        applied=json.loads(m["applied"]),
        hlc=m["hlc"],
        clerk=m["clerk"],
        status=m["status"],
        reason=m["reason"],
        conflict_ids=json.loads(m["conflict_ids"]),
        kind=m["kind"],
        parents=loads(m["parents"]),
        signature=m["signature"],
        received_at=m["received_at"],
    )


def _record(row: Any) -> RecordRow:
    m = row._mapping
    return RecordRow(
        entity=m["entity"],
        entity_id=m["entity_id"],
        commune=m["commune"],
        version=m["version"],
        values=json.loads(m["values"]),
        field_seq=json.loads(m["field_seq"]),
        deleted=bool(m["deleted"]),
        updated_seq=m["updated_seq"],
        dup_key=m["dup_key"],
        book_key=m["book_key"],
    )


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


class Tx:
    """A unit of work on one connection. Writes need :meth:`Storage.write`'s lock."""

    def __init__(self, conn: Connection, *, locked: bool, head: tuple[int, str] | None = None):
        self.conn = conn
        self.locked = locked
        self._head = head
        # Record, log and version rows are buffered and written in few round trips
        # (executemany): reads of those tables flush first, and a write transaction flushes
        # at its end.
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

    # --- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return a server_meta value, or None."""
        t = schema.server_meta
        return self.conn.execute(select(t.c.value).where(t.c.key == key)).scalar()

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

    # --- devices ------------------------------------------------------------------------

    def get_device(self, device_id: str) -> DeviceRow | None:
        """Return a device, or None."""
        t = schema.devices
        row = self.conn.execute(select(t).where(t.c.device_id == device_id)).first()
        return _device(row) if row else None

    def insert_device(
        self, device_id: str, commune: str, label: str, keys: dict[str, str], key_id: str, at: int
    ) -> None:
        """Enrol a device (status ``active``)."""
        self.conn.execute(
            insert(schema.devices).values(
                device_id=device_id,
                commune=commune,
                label=label,
                keys=dumps(keys),
                key_id=key_id,
                status="active",
                status_reason="",
                enrolled_at=at,
                last_device_seq=0,
                flagged_skew=False,
            )
        )

    def reactivate_device(
        self, device_id: str, label: str, keys: dict[str, str], key_id: str, at: int
    ) -> None:
        """Enrol a revoked device again (a fresh code from IT): new keys, status ``active``."""
        self.update_device(
            device_id,
            label=label,
            keys=dumps(keys),
            key_id=key_id,
            status="active",
            status_reason="",
            enrolled_at=at,
        )

    def update_device(self, device_id: str, **values: Any) -> None:
        """Update some columns of a device."""
        t = schema.devices
        self.conn.execute(update(t).where(t.c.device_id == device_id).values(**values))

    def list_devices(self) -> list[DeviceRow]:
        """Return every device, by commune then enrolment time."""
        t = schema.devices
        rows = self.conn.execute(select(t).order_by(t.c.commune, t.c.enrolled_at)).all()
        return [_device(r) for r in rows]

    # --- enrolment codes ----------------------------------------------------------------

    def insert_code(self, code_key: bytes, commune: str, created_at: int, expires_at: int) -> int:
        """Store a one-time code's derived key; return its id."""
        result = self.conn.execute(
            insert(schema.enrol_codes).values(
                code_key=code_key, commune=commune, created_at=created_at, expires_at=expires_at
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def codes_for_commune(self, commune: str) -> list[dict[str, Any]]:
        """Return every code issued for a commune (used and expired ones too)."""
        t = schema.enrol_codes
        rows = self.conn.execute(select(t).where(t.c.commune == commune).order_by(t.c.id)).all()
        return [dict(r._mapping) for r in rows]

    def mark_code_used(self, code_id: int, device_id: str, at: int) -> None:
        """Record that a code enrolled ``device_id``."""
        t = schema.enrol_codes
        self.conn.execute(update(t).where(t.c.id == code_id).values(used_by=device_id, used_at=at))

    # --- the change log -----------------------------------------------------------------

    def insert_change(self, **row: Any) -> None:
        """Append one change to the log (JSON columns given as Python values; buffered)."""
        for key in ("fields", "applied"):
            row[key] = dumps(row.get(key) or {})
        row["conflict_ids"] = dumps(row.get("conflict_ids") or [])
        row["parents"] = None if row.get("parents") is None else dumps(row["parents"])
        self._changes.append(row)

    def set_change_conflicts(self, server_seq: int, conflict_ids: list[int]) -> None:
        """Note conflict ids on a change not yet written (the log is never updated in place).

        A change already written keeps what it had; :meth:`conflict_ids_by_seq` (the conflicts
        table) is the authority either way.
        """
        for row in self._changes:
            if row["server_seq"] == server_seq:
                row["conflict_ids"] = dumps(conflict_ids)
                return

    def conflict_ids_by_seq(self, seqs: list[int]) -> dict[int, list[int]]:
        """Return the ids of the conflicts raised by the changes numbered ``seqs``."""
        t = schema.conflicts
        out: dict[int, list[int]] = {}
        for i in range(0, len(seqs), 1000):
            rows = self.conn.execute(
                select(t.c.id, t.c.server_seq)
                .where(t.c.server_seq.in_(seqs[i : i + 1000]))
                .order_by(t.c.id)
            ).all()
            for conflict_id, seq in rows:
                out.setdefault(int(seq), []).append(int(conflict_id))
        return out

    def changes_by_device_seqs(self, device_id: str, seqs: list[int]) -> dict[int, ChangeRow]:
        """Return the changes a device sent under any of ``seqs``, by device_seq."""
        if not seqs:
            return {}
        self.flush()
        t = schema.changes
        out: dict[int, ChangeRow] = {}
        for i in range(0, len(seqs), 1000):
            part = seqs[i : i + 1000]
            rows = self.conn.execute(
                select(t).where(and_(t.c.device_id == device_id, t.c.device_seq.in_(part)))
            ).all()
            for r in rows:
                row = _change(r)
                out[int(row.device_seq or 0)] = row
        return out

    def existing_change_ids(self, change_ids: list[str]) -> set[str]:
        """Return which of ``change_ids`` the log already holds."""
        self.flush()
        t = schema.changes
        found: set[str] = set()
        for i in range(0, len(change_ids), 1000):
            part = change_ids[i : i + 1000]
            found.update(
                self.conn.execute(select(t.c.change_id).where(t.c.change_id.in_(part))).scalars()
            )
        return found

    def change_by_device_seq(self, device_id: str, device_seq: int) -> ChangeRow | None:
        """Return the change a device sent under ``device_seq``, or None."""
        self.flush()
        t = schema.changes
        row = self.conn.execute(
            select(t).where(and_(t.c.device_id == device_id, t.c.device_seq == device_seq))
        ).first()
        return _change(row) if row else None

    def change_by_id(self, change_id: str) -> ChangeRow | None:
        """Return the first change logged under ``change_id``, or None."""
        self.flush()
        t = schema.changes
        row = self.conn.execute(
            select(t).where(t.c.change_id == change_id).order_by(t.c.server_seq).limit(1)
        ).first()
        return _change(row) if row else None

    def change_at(self, server_seq: int) -> ChangeRow | None:
        """Return the change numbered ``server_seq``, or None."""
        self.flush()
        t = schema.changes
        row = self.conn.execute(select(t).where(t.c.server_seq == server_seq)).first()
        return _change(row) if row else None

    def device_seqs_from(self, device_id: str, start: int, count: int) -> list[int]:
        """Return the device_seqs held for a device in ``[start, start + count)``, sorted."""
        self.flush()
        t = schema.changes
        rows = self.conn.execute(
            select(t.c.device_seq)
            .where(
                and_(
                    t.c.device_id == device_id,
                    t.c.device_seq >= start,
                    t.c.device_seq < start + count,
                )
            )
            .order_by(t.c.device_seq)
        ).scalars()
        return [int(r) for r in rows]

    def contiguous_device_seq(self, device_id: str, known: int = 0) -> int:
        """Return the highest device_seq held with no gap below it (starting from ``known``)."""
        top = known
        while True:
            seqs = self.device_seqs_from(device_id, top + 1, 1000)
            for s in seqs:
                if s != top + 1:
                    return top
                top = s
            if len(seqs) < 1000:
                return top

    def pull(
        self, commune: str, after: int, upto: int, exclude_device: str, limit: int
    ) -> list[ChangeRow]:
        """Return up to ``limit`` applied changes of a commune's records in ``(after, upto]``.

        Changes made by ``exclude_device`` (the puller itself) are left out.
        """
        self.flush()
        t = schema.changes
        rows = self.conn.execute(
            select(t)
            .where(
                and_(
                    t.c.commune == commune,
                    t.c.server_seq > after,
                    t.c.server_seq <= upto,
                    t.c.status.in_(("applied", "merged")),
                    t.c.new_version.is_not(None),
                    t.c.device_id != exclude_device,
                )
            )
            .order_by(t.c.server_seq)
            .limit(limit)
        ).all()
        return [_change(r) for r in rows]

    def pull_snapshot(self, commune: str, after: int, upto: int, limit: int) -> list[RecordRow]:
        """Return up to ``limit`` current records of a commune last changed in ``(after, upto]``."""
        self._flush_records()
        t = schema.records
        rows = self.conn.execute(
            select(t)
            .where(and_(t.c.commune == commune, t.c.updated_seq > after, t.c.updated_seq <= upto))
            .order_by(t.c.updated_seq)
            .limit(limit)
        ).all()
        return [_record(r) for r in rows]

    # --- records ------------------------------------------------------------------------

    def get_records(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], RecordRow]:
        """Return the current state of several records, by (entity, entity_id)."""
        self._flush_records()
        t = schema.records
        out: dict[tuple[str, str], RecordRow] = {}
        ids = sorted({k[1] for k in keys})
        for i in range(0, len(ids), 1000):
            rows = self.conn.execute(select(t).where(t.c.entity_id.in_(ids[i : i + 1000]))).all()
            for r in rows:
                rec = _record(r)
                out[(rec.entity, rec.entity_id)] = rec
        return {k: v for k, v in out.items() if k in set(keys)}

    def get_record(self, entity: str, entity_id: str) -> RecordRow | None:
        """Return a record's current state, or None."""
        self._flush_records()
        t = schema.records
        row = self.conn.execute(
            select(t).where(and_(t.c.entity == entity, t.c.entity_id == entity_id))
        ).first()
        return _record(row) if row else None

    def put_record(self, rec: RecordRow, *, new: bool) -> None:
        """Insert (``new``) or replace a record's current state (buffered until a read)."""
        key = (rec.entity, rec.entity_id)
        pending = self._records.get(key)
        # A record created earlier in this transaction and not yet written stays an insert.
        self._records[key] = (rec, new or (pending is not None and pending[1]))

    def _flush_records(self) -> None:
        if not self._records:
            return
        buffered, self._records = self._records, {}
        t = schema.records

        def columns(rec: RecordRow) -> dict[str, Any]:
            return {
                "commune": rec.commune,
                "version": rec.version,
                "values": dumps(rec.values),
                "field_seq": dumps(rec.field_seq),
                "deleted": rec.deleted,
                "updated_seq": rec.updated_seq,
                "dup_key": rec.dup_key,
                "book_key": rec.book_key,
            }

        inserts = [
            {"entity": r.entity, "entity_id": r.entity_id, **columns(r)}
            for r, new in buffered.values()
            if new
        ]
        updates = [
            {"b_entity": r.entity, "b_entity_id": r.entity_id, **columns(r)}
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

    def versions(self, entity: str, entity_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Return a record's versions above ``after`` (JSON columns parsed), oldest first."""
        self.flush()
        t = schema.record_versions
        rows = self.conn.execute(
            select(t)
            .where(and_(t.c.entity == entity, t.c.entity_id == entity_id, t.c.version > after))
            .order_by(t.c.version)
        ).all()
        out = []
        for r in rows:
            d = dict(r._mapping)
            d["values"] = json.loads(d["values"])
            d["changed"] = json.loads(d["changed"])
            d["deleted"] = bool(d["deleted"])
            out.append(d)
        return out

    def version_values(self, entity: str, entity_id: str, version: int) -> dict[str, Any] | None:
        """Return a record's values at ``version`` (None if unknown)."""
        self.flush()
        t = schema.record_versions
        text = self.conn.execute(
            select(t.c["values"]).where(
                and_(t.c.entity == entity, t.c.entity_id == entity_id, t.c.version == version)
            )
        ).scalar()
        return loads(text)

    def records_with_keys(self, column: str, keys: list[str]) -> list[RecordRow]:
        """Return live records whose ``dup_key`` or ``book_key`` is one of ``keys``."""
        self._flush_records()
        t = schema.records
        col = t.c[column]
        out: list[RecordRow] = []
        unique = sorted(set(keys))
        for i in range(0, len(unique), 1000):
            rows = self.conn.execute(
                select(t).where(and_(col.in_(unique[i : i + 1000]), t.c.deleted.is_(False)))
            ).all()
            out.extend(_record(r) for r in rows)
        return out

    def records_with_key(self, column: str, key: str, exclude_id: str) -> list[RecordRow]:
        """Return live records whose ``dup_key`` or ``book_key`` equals ``key``."""
        self._flush_records()
        t = schema.records
        col = t.c[column]
        rows = self.conn.execute(
            select(t).where(and_(col == key, t.c.entity_id != exclude_id, t.c.deleted.is_(False)))
        ).all()
        return [_record(r) for r in rows]

    # --- conflicts ----------------------------------------------------------------------

    def insert_conflict(self, **row: Any) -> int:
        """Store a conflict (JSON columns given as Python values); return its id."""
        for key in ("fields", "base", "current", "incoming"):
            row[key] = dumps(row[key])
        row.setdefault("status", "open")
        result = self.conn.execute(insert(schema.conflicts).values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get_conflict(self, conflict_id: int) -> dict[str, Any] | None:
        """Return a conflict (JSON columns parsed), or None."""
        t = schema.conflicts
        row = self.conn.execute(select(t).where(t.c.id == conflict_id)).first()
        return _conflict(row) if row else None

    def list_conflicts(self, status: str | None = None) -> list[dict[str, Any]]:
        """Return conflicts, oldest first (only those with ``status`` when given)."""
        t = schema.conflicts
        query = select(t).order_by(t.c.id)
        if status:
            query = query.where(t.c.status == status)
        return [_conflict(r) for r in self.conn.execute(query).all()]

    def open_conflict_between(self, kind: str, a: str, b: str) -> bool:
        """Return True if an open conflict of ``kind`` already links records ``a`` and ``b``."""
        t = schema.conflicts
        n = self.conn.execute(
            select(func.count())
            .select_from(t)
            .where(
                and_(
                    t.c.kind == kind,
                    t.c.status == "open",
                    ((t.c.entity_id == a) & (t.c.other_entity_id == b))
                    | ((t.c.entity_id == b) & (t.c.other_entity_id == a)),
                )
            )
        ).scalar()
        return bool(n)

    def resolve_conflict(self, conflict_id: int, change_id: str, reason: str, at: int) -> None:
        """Mark a conflict resolved by a resolution change."""
        t = schema.conflicts
        self.conn.execute(
            update(t)
            .where(t.c.id == conflict_id)
            .values(
                status="resolved",
                resolution_change_id=change_id,
                resolution_reason=reason,
                resolved_at=at,
            )
        )

    def count_open_conflicts(self, commune: str | None = None) -> int:
        """Return how many conflicts are open (for one commune, or for all)."""
        t = schema.conflicts
        query = select(func.count()).select_from(t).where(t.c.status == "open")
        if commune:
            query = query.where((t.c.commune == commune) | (t.c.other_commune == commune))
        return int(self.conn.execute(query).scalar() or 0)

    # --- book number blocks -------------------------------------------------------------

    def block_after(
        self, commune: str, book_type: str, year: int, device_id: str, after: int
    ) -> dict[str, Any] | None:
        """Return the device's first block of a book that starts after number ``after``."""
        t = schema.book_blocks
        row = self.conn.execute(
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
        ).first()
        return dict(row._mapping) if row else None

    def grant_block(
        self, commune: str, book_type: str, year: int, device_id: str, size: int, at: int
    ) -> dict[str, Any]:
        """Grant the next block of ``size`` numbers of a book to a device (needs the lock)."""
        t = schema.book_blocks
        top = self.conn.execute(
            select(func.max(t.c.end)).where(
                and_(t.c.commune == commune, t.c.book_type == book_type, t.c.year == year)
            )
        ).scalar()
        start = int(top or 0) + 1
        row = {
            "commune": commune,
            "book_type": book_type,
            "year": year,
            "start": start,
            "end": start + size - 1,
            "device_id": device_id,
            "granted_at": at,
        }
        self.conn.execute(insert(t).values(**row))
        return row

    # --- attachments --------------------------------------------------------------------

    def get_attachment(self, sha256: str) -> dict[str, Any] | None:
        """Return an attachment's upload state, or None."""
        t = schema.attachments
        row = self.conn.execute(select(t).where(t.c.sha256 == sha256)).first()
        return dict(row._mapping) if row else None

    def insert_attachment(self, sha256: str, size: int, device_id: str, commune: str, at: int):
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
        t = schema.attachments
        self.conn.execute(update(t).where(t.c.sha256 == sha256).values(received=offset + len(data)))

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
        t = schema.attachments
        self.conn.execute(update(t).where(t.c.sha256 == sha256).values(received=0))

    # --- replay guard and sessions ------------------------------------------------------

    def remember_batch(self, device_id: str, batch_id: str, at: int) -> bool:
        """Record an envelope's batch id; return False if it was seen before (a replay)."""
        t = schema.seen_batches
        seen = self.conn.execute(
            select(t.c.batch_id).where(and_(t.c.device_id == device_id, t.c.batch_id == batch_id))
        ).first()
        if seen:
            return False
        # Under the write lock no other transaction can insert the same id in between.
        self.conn.execute(insert(t).values(device_id=device_id, batch_id=batch_id, received_at=at))
        return True

    def prune_batches(self, before: int) -> int:
        """Forget batch ids received before ``before``; return how many."""
        t = schema.seen_batches
        return int(self.conn.execute(delete(t).where(t.c.received_at < before)).rowcount or 0)

    def insert_session(self, session_id: str, device_id: str, key: bytes, expires_at: int):
        """Store a session key."""
        self.conn.execute(
            insert(schema.sessions).values(
                session_id=session_id, device_id=device_id, key=key, expires_at=expires_at
            )
        )

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """Return a session, or None."""
        t = schema.sessions
        row = self.conn.execute(select(t).where(t.c.session_id == session_id)).first()
        return dict(row._mapping) if row else None

    def prune_sessions(self, now: int) -> None:
        """Drop expired sessions."""
        t = schema.sessions
        self.conn.execute(delete(t).where(t.c.expires_at < now))

    def drop_sessions(self, device_id: str) -> None:
        """Drop every session of a device (revocation)."""
        t = schema.sessions
        self.conn.execute(delete(t).where(t.c.device_id == device_id))

    # --- statistics ---------------------------------------------------------------------

    def count(self, table: str) -> int:
        """Return the number of rows of a table."""
        self.flush()
        t = schema.metadata.tables[table]
        return int(self.conn.execute(select(func.count()).select_from(t)).scalar() or 0)

    def change_status_counts(self) -> dict[str, int]:
        """Return how many logged changes have each status."""
        self.flush()
        t = schema.changes
        rows = self.conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
        return {str(s): int(n) for s, n in rows}


def _conflict(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    for key in ("fields", "base", "current", "incoming"):
        d[key] = json.loads(d[key])
    return d
