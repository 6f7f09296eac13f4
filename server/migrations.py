"""Recorded, ordered schema migrations (sqlite-utils' idea, on SQLAlchemy Core).

Each migration is a function taking a connection inside a transaction; its name is recorded
in ``schema_migrations`` in the same transaction, so it runs exactly once. Never edit a
released migration: add a new one at the end of :data:`MIGRATIONS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, insert, inspect, select, text

from server import schema

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


#: Every migration, in order. Append only.
MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", _m0001_initial),
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
