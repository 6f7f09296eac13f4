"""Open SQLCipher connections to the profile's encrypted database.

Every connection is keyed with the raw 32-byte database key (no passphrase KDF in SQLCipher:
the key slots already did the slow part), runs in autocommit mode so that transactions are
explicit (``BEGIN IMMEDIATE`` … ``COMMIT``), uses WAL so the UI can read while the writer
writes, and ``synchronous=FULL`` so a committed dossier survives a power cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.store.errors import StoreError, WrongPassword

#: How long a connection waits for a lock before failing (ms).
BUSY_TIMEOUT_MS = 10_000


def _key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect(path: Path, key: bytes, *, check_same_thread: bool = True) -> Any:
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


def wrap(conn: Any) -> Any:
    """Return a ``sqlite_utils.Database`` over an open connection (for table helpers)."""
    import sqlite_utils

    return sqlite_utils.Database(conn)


def integrity_check(conn: Any) -> list[str]:
    """Run ``PRAGMA integrity_check`` and return its rows (``["ok"]`` when healthy)."""
    return [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
