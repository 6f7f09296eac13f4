"""Recorded, ordered schema migrations (sqlite-utils' idea, on SQLAlchemy Core).

Each migration is a function taking a connection inside a transaction; its name is recorded
in ``schema_migrations`` in the same transaction, so it runs exactly once. Never edit a
released migration: add a new one at the end of :data:`MIGRATIONS`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    insert,
    inspect,
    select,
    text,
    tuple_,
    update,
)

from desktop.forms.lifecycle import HOAN_THANH
from server import schema
from server.dossier_facts import FACT_COLUMNS, dossier_facts, finished_on

__all__ = ["MIGRATIONS", "applied_migrations", "migrate"]

_GENESIS_CHAIN = "0" * 64


def _m0001_initial(conn: Connection) -> None:
    """Create the tables of the first release and the sequence counter row."""
    tables = [
        schema.server_meta,
        schema.seq_counter,
        schema.devices,
        schema.enrol_codes,
        schema.changes,
        schema.records,
        schema.record_versions,
        schema.conflicts,
        schema.book_blocks,
        schema.attachments,
        schema.attachment_chunks,
        schema.seen_batches,
        schema.sessions,
    ]
    schema.metadata.create_all(conn, tables=tables)
    conn.execute(insert(schema.seq_counter).values(id=1, value=0, chain=_GENESIS_CHAIN))


def _add_columns(conn: Connection, table: Table, names: tuple[str, ...]) -> None:
    """Add the columns ``names`` of ``table`` (as :mod:`server.schema` declares them) if missing.

    A database created by a later release's ``0001_initial`` (which builds the tables as
    :mod:`server.schema` has them now) has them already.
    """
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    quote = conn.dialect.identifier_preparer.quote
    for name in names:
        if name in present:
            continue
        column = table.c[name]
        ddl = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} {ddl}"))


def _create_indexes(conn: Connection, table: Table, names: tuple[str, ...]) -> None:
    """Create the indexes ``names`` of ``table`` if missing."""
    for index in table.indexes:
        if index.name in names:
            index.create(conn, checkfirst=True)


def _m0002_operators(conn: Connection) -> None:
    """Create the tables of provincial IT consoles: operators and their one-time codes."""
    schema.metadata.create_all(conn, tables=[schema.operators, schema.operator_codes])


def _m0003_console_tracking(conn: Connection) -> None:
    """Keep what the console shows: device reports, acknowledged cursors, deliveries, deciders."""
    _add_columns(
        conn, schema.devices, ("pending_reported", "app_version", "last_error", "acked_seq")
    )
    _add_columns(conn, schema.conflicts, ("resolved_by",))
    # Every resolution so far was made from the command line, signed "provincial-it".
    c = schema.conflicts
    conn.execute(
        update(c)
        .where(c.c.status == "resolved", c.c.resolved_by.is_(None))
        .values(resolved_by="provincial-it")
    )
    _create_indexes(
        conn,
        schema.conflicts,
        ("ix_conflicts_status_created", "ix_conflicts_other_commune", "ix_conflicts_server_seq"),
    )
    _create_indexes(conn, schema.changes, ("ix_changes_status_device",))
    schema.metadata.create_all(conn, tables=[schema.deliveries])


def _m0004_record_facts(conn: Connection) -> None:
    """Materialise each dossier's facts (statistics, inbox filters) into ``records``; fill them."""
    r = schema.records
    _add_columns(conn, r, (*FACT_COLUMNS, "finished_on"))
    _create_indexes(conn, r, ("ix_records_received_on",))
    after = ("", "")
    while True:  # in pages by key: a province's records do not fit in memory at once
        rows = conn.execute(
            select(r.c.entity, r.c.entity_id, r.c["values"])
            .where(tuple_(r.c.entity, r.c.entity_id) > tuple_(*after))
            .order_by(r.c.entity, r.c.entity_id)
            .limit(1000)
        ).all()
        for entity, entity_id, values_text in rows:
            facts = dossier_facts(entity, json.loads(values_text))
            done = _finish_date(conn, entity, entity_id) if facts["status"] == HOAN_THANH else None
            conn.execute(
                update(r)
                .where(r.c.entity == entity, r.c.entity_id == entity_id)
                .values(**facts, finished_on=done)
            )
        if len(rows) < 1000:
            return
        after = (rows[-1][0], rows[-1][1])


def _finish_date(conn: Connection, entity: str, entity_id: str) -> str | None:
    """Replay a record's versions: the one that set ``hoan_thanh`` gives its finish date."""
    v, ch = schema.record_versions, schema.changes
    history = conn.execute(
        select(v.c["values"], v.c.changed, ch.c.hlc)
        .join(ch, ch.c.server_seq == v.c.server_seq)
        .where(v.c.entity == entity, v.c.entity_id == entity_id)
        .order_by(v.c.version)
    ).all()
    done: str | None = None
    before: dict[str, Any] | None = None
    for version_values, changed, hlc in history:
        done = finished_on(before, done, json.loads(changed), hlc)
        before = json.loads(version_values)
    return done


#: Every migration, in order. Append only.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", _m0001_initial),
    ("0002_operators", _m0002_operators),
    ("0003_console_tracking", _m0003_console_tracking),
    ("0004_record_facts", _m0004_record_facts),
]


def _serialize(conn: Connection) -> None:
    """Make concurrent migrators wait for each other (SQLite: BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(72701)"))


def applied_migrations(engine: Engine) -> list[str]:
    """Return the names of the migrations already applied (empty for a blank database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_migrations"):
            return []
        rows = conn.execute(select(schema.schema_migrations.c.name)).scalars().all()
        return sorted(rows)


def migrate(engine: Engine) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction.

    Safe to run from several processes at once: each migration runs under a lock (a
    PostgreSQL advisory lock, SQLite's write lock) and commits with its record.

    Returns:
        The names applied by this call.
    """
    with engine.begin() as conn:
        _serialize(conn)
        schema.metadata.create_all(conn, tables=[schema.schema_migrations])
    done: list[str] = []
    for name, func in MIGRATIONS:
        with engine.begin() as conn:
            _serialize(conn)
            already = conn.execute(
                select(schema.schema_migrations.c.name).where(
                    schema.schema_migrations.c.name == name
                )
            ).first()
            if already:
                continue
            func(conn)
            conn.execute(
                insert(schema.schema_migrations).values(
                    name=name, applied_at=int(time.time() * 1000)
                )
            )
        done.append(name)
    return done
