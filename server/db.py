"""Database engines for the server: one code path for PostgreSQL and SQLite.

PostgreSQL (``postgresql+psycopg://...``) is production; SQLite (``sqlite:///path``) is the
embedded default. The differences are confined here:

* SQLite runs in WAL mode with ``synchronous=FULL`` and a 30 s busy timeout, and every
  writing transaction starts with ``BEGIN IMMEDIATE`` (the write lock up front, so two
  processes never deadlock upgrading a read lock); read-only ones with a plain ``BEGIN``;
* on PostgreSQL the write lock is the ``seq_counter`` row, taken with ``SELECT ... FOR UPDATE``
  by :meth:`server.storage.Storage.write`.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["DEFAULT_DB_URL", "DatabaseUrlError", "make_engine", "normalize_url"]

#: Used when neither ``--db`` nor ``MOTCUA_SERVER_DB`` is given: a file in the current dir.
DEFAULT_DB_URL = "sqlite:///motcua-server.db"


class DatabaseUrlError(ValueError):
    """Raised for a database URL the server cannot use."""


def normalize_url(url: str) -> str:
    """Return ``url`` with ``postgresql://`` mapped to the psycopg 3 driver.

    Raises:
        DatabaseUrlError: for an unparseable URL or an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"invalid database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise DatabaseUrlError(f"unsupported database {backend!r}: use PostgreSQL or SQLite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` with the per-backend settings this server relies on.

    Raises:
        DatabaseUrlError: for an unusable URL.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    # Error messages must never quote row values (names, ID numbers) into logs.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            path = Path(db)
            if path.parent and not path.parent.exists():
                raise DatabaseUrlError(f"directory of the database does not exist: {path.parent}")
            if not path.exists():
                # Create it private: it holds the server's private keys.
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's BEGIN.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Readers (Storage.read) take no write lock: WAL gives them a snapshot.
            read_only = conn.get_execution_options().get("motcua_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 5)
    return create_engine(url, **kwargs)
