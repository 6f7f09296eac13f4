"""Open SQLCipher connections to the profile's encrypted database.

Every connection is keyed with the raw 32-byte database key (no passphrase KDF in SQLCipher:
the key slots already did the slow part), runs in autocommit mode so that transactions are
explicit (``BEGIN IMMEDIATE`` … ``COMMIT``), uses WAL so the UI can read while the writer
writes, and ``synchronous=FULL`` so a committed dossier survives a power cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from desktop.store.errors import StoreError, WrongPassword

#: How long a connection waits for a lock before failing (ms).
BUSY_TIMEOUT_MS = 10_000


class Cursor(Protocol):
    """What the store uses of a DB-API cursor (``sqlcipher3`` has no type stubs).

    Rows stay ``Any``: each query knows its own columns.
    """

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        ...

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        ...

    def fetchone(self) -> Any:
        """Return the next row, or None."""
        ...

    def fetchall(self) -> list[Any]:
        """Return the remaining rows."""
        ...

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the remaining rows."""
        ...


class Connection(Protocol):
    """What the store uses of a SQLite connection: ``sqlite3.Connection``-like.

    Every function of the store that takes ``conn`` takes one of these: the writer thread's
    connection (inside its transaction) or a thread's read connection.
    """

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor:
        """Run one statement."""
        ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        """Run one statement once per parameter row."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


def _key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect(path: Path, key: bytes, *, check_same_thread: bool = True) -> Connection:
    """Open and key a connection, and check that the key opens the file.

    Args:
        path: the database file (created if missing).
        key: the raw 32-byte database key.
        check_same_thread: keep sqlite's guard that a connection stays on its thread.

    Returns:
        A ``sqlcipher3`` connection in autocommit mode (``isolation_level=None``).

    Raises:
        WrongPassword: the key does not open the file (the file is not modified).
        StoreError: the file cannot be opened.
    """
    import sqlcipher3

    if len(key) != 32:
        raise StoreError("the database key must be 32 bytes")
    try:
        conn = sqlcipher3.connect(
            str(path), isolation_level=None, check_same_thread=check_same_thread
        )
    except sqlcipher3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        conn.execute(_key_pragma(key))
        # Reading the schema is the first access that needs the key: a wrong key fails here,
        # before any write could touch the file.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise WrongPassword("the key does not open this database") from exc
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.close()
        raise StoreError(f"cannot switch {path} to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Sorts and temporary indexes stay in memory: no temporary file with personal data.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def integrity_check(conn: Connection) -> list[str]:
    """Run ``PRAGMA integrity_check`` and return its rows (``["ok"]`` when healthy)."""
    return [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
