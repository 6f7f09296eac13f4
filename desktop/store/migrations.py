"""Ordered, recorded schema migrations (the idea of sqlite-utils' ``Migrations``).

Each migration is a named function run once, inside its own transaction, and recorded in
``_migrations`` (name, applied_at). A database made by any older release opens and is
upgraded in order. Released migrations are never edited: a schema change is a new migration
appended to :data:`MIGRATIONS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from desktop.store.database import Connection

Migration = tuple[str, Callable[[Connection], None]]


def _script(conn: Connection, sql: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction.

    ``executescript`` would COMMIT first, breaking the one-transaction-per-migration rule.
    """
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


#: The core tables of release 1 (settings, counters, clerks, dossiers, history, outbox, audit).
_CORE_SQL = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE clerks (
            username TEXT PRIMARY KEY,
            full_name TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT 'clerk',
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE dossiers (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            procedure TEXT NOT NULL,
            commune TEXT NOT NULL,
            dossier_no TEXT NOT NULL,
            status TEXT NOT NULL,
            received_at TEXT NOT NULL,
            due_at TEXT,
            late INTEGER NOT NULL DEFAULT 0,
            book_type TEXT,
            book_year INTEGER,
            book_number INTEGER,
            dup_key TEXT,
            record TEXT NOT NULL,
            server_version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            created_by TEXT,
            updated_by TEXT
        );
        CREATE INDEX dossiers_received ON dossiers (received_at);
        CREATE INDEX dossiers_no ON dossiers (dossier_no);
        CREATE INDEX dossiers_status_due ON dossiers (status, due_at);
        CREATE INDEX dossiers_dup_key ON dossiers (dup_key) WHERE dup_key IS NOT NULL;
        CREATE INDEX dossiers_book ON dossiers (book_type, book_year, book_number);
        CREATE TABLE status_history (
            id INTEGER PRIMARY KEY,
            dossier_id TEXT NOT NULL,
            at TEXT NOT NULL,
            clerk TEXT,
            from_status TEXT,
            to_status TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX status_history_dossier ON status_history (dossier_id, id);
        CREATE TABLE outbox (
            device_seq INTEGER PRIMARY KEY,
            change_id TEXT NOT NULL UNIQUE,
            device_id TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            op TEXT NOT NULL,
            base_version INTEGER NOT NULL,
            fields TEXT NOT NULL,
            hlc TEXT NOT NULL,
            clerk TEXT,
            commune TEXT NOT NULL,
            created_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            server_status TEXT,
            reason TEXT,
            server_seq INTEGER,
            server_epoch TEXT,
            acknowledged_at TEXT
        );
        CREATE INDEX outbox_state ON outbox (state, device_seq);
        CREATE INDEX outbox_entity ON outbox (entity_id, device_seq);
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            clerk TEXT,
            action TEXT NOT NULL,
            entity TEXT,
            entity_id TEXT,
            summary TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_entity ON audit (entity_id, seq);
        """


def _m001_core(conn: Connection) -> None:
    """Create the core tables: settings, counters, clerks, dossiers, history, outbox, audit."""
    _script(conn, _CORE_SQL)


def _m002_search(conn: Connection) -> None:
    """Add the FTS5 search index over folded names, ID numbers and dossier numbers.

    The indexed text is already folded (no diacritics, đ→d, lower case); its rowid is the
    dossier's rowid. The table keeps its text (inside the encrypted database) so that hits can
    be ranked without loading and re-folding whole records. Existing dossiers are indexed here.
    """
    from desktop.store import search

    conn.execute(
        "CREATE VIRTUAL TABLE dossier_fts USING fts5("
        "terms, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')"
    )
    for rowid, record in conn.execute("SELECT rowid, record FROM dossiers").fetchall():
        search.index_record(conn, rowid, record)


#: Register-book blocks, attachments, drafts and the first sync bookkeeping tables.
_BOOKS_ATTACHMENTS_SYNC_SQL = """
        CREATE TABLE book_blocks (
            id INTEGER PRIMARY KEY,
            book_type TEXT NOT NULL,
            year INTEGER NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            next INTEGER NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK (start <= next AND next <= "end" + 1)
        );
        CREATE INDEX book_blocks_book ON book_blocks (book_type, year, id);
        CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            dossier_id TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL,
            name TEXT NOT NULL,
            chunk_size INTEGER NOT NULL,
            server_version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_by TEXT
        );
        CREATE INDEX attachments_dossier ON attachments (dossier_id);
        CREATE INDEX attachments_sha ON attachments (sha256);
        CREATE TABLE drafts (
            key TEXT PRIMARY KEY,
            procedure TEXT NOT NULL,
            data TEXT NOT NULL,
            clerk TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor INTEGER NOT NULL DEFAULT 0,
            server_epoch TEXT,
            last_sync_at TEXT,
            last_error TEXT,
            clock_offset REAL
        );
        INSERT INTO sync_state (id) VALUES (1);
        CREATE TABLE batch_signatures (
            id INTEGER PRIMARY KEY,
            first_audit_seq INTEGER NOT NULL,
            last_audit_seq INTEGER NOT NULL,
            first_device_seq INTEGER,
            last_device_seq INTEGER,
            key_id TEXT NOT NULL,
            signature TEXT NOT NULL,
            signed_at TEXT NOT NULL
        );
        """


def _m003_books_attachments_sync(conn: Connection) -> None:
    """Add register-book blocks, attachments, drafts and sync bookkeeping tables."""
    _script(conn, _BOOKS_ATTACHMENTS_SYNC_SQL)


def _m004_imported_lines(conn: Connection) -> None:
    """Remember which import-file lines were saved, so a re-run import skips them."""
    conn.execute(
        "CREATE TABLE imported_lines (line_hash TEXT PRIMARY KEY, dossier_id TEXT NOT NULL, "
        "imported_at TEXT NOT NULL)"
    )


def _m005_sync_client(conn: Connection) -> None:
    """The sync engine's own tables: the server's view of each record (value and the server
    sequence that set each field), conflicts seen, and scans already uploaded.

    ``IF NOT EXISTS``: profiles from before this migration may already hold them, created on
    the fly by the first sync engine.
    """
    _script(
        conn,
        """
        CREATE TABLE IF NOT EXISTS sync_view (
            entity_id TEXT PRIMARY KEY,
            vals TEXT NOT NULL,
            seqs TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS sync_conflicts (
            conflict_id TEXT PRIMARY KEY,
            change_id TEXT NOT NULL,
            device_seq INTEGER,
            status TEXT NOT NULL DEFAULT 'open',
            seen_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sync_uploads (
            sha256 TEXT PRIMARY KEY,
            uploaded_at TEXT NOT NULL
        );
        """,
    )


#: The one record of sync state. The cursor becomes the server's opaque text (it was kept twice:
#: its number in ``sync_state.cursor`` and its text in meta ``sync.cursor``), and what meta held
#: beside (error code, revoked, skew flag, the commune's open conflicts) joins the last error.
_ONE_SYNC_STATE_SQL = """
        CREATE TABLE sync_state_new (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cursor TEXT NOT NULL DEFAULT '',
            server_epoch TEXT,
            last_sync_at TEXT,
            error_code TEXT,
            last_error TEXT,
            clock_offset REAL,
            skew_flagged INTEGER NOT NULL DEFAULT 0,
            conflicts_open INTEGER,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO sync_state_new (id, cursor, server_epoch, last_sync_at, error_code,
            last_error, clock_offset, skew_flagged, conflicts_open, revoked)
        SELECT 1,
            coalesce((SELECT value FROM meta WHERE key = 'sync.cursor'), ''),
            server_epoch, last_sync_at,
            (SELECT value FROM meta WHERE key = 'sync.error_code'),
            last_error, clock_offset,
            (SELECT count(*) FROM meta WHERE key = 'sync.skew_flagged'),
            (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sync.conflicts_open'),
            (SELECT count(*) FROM meta WHERE key = 'sync.revoked')
        FROM sync_state WHERE id = 1;
        INSERT OR IGNORE INTO sync_state_new (id) VALUES (1);
        DROP TABLE sync_state;
        ALTER TABLE sync_state_new RENAME TO sync_state;
        DELETE FROM meta WHERE key IN ('sync.cursor', 'sync.error_code', 'sync.skew_flagged',
            'sync.conflicts_open', 'sync.revoked')
        """


def _m006_one_sync_state(conn: Connection) -> None:
    """Keep all sync state in the one ``sync_state`` row (see :data:`_ONE_SYNC_STATE_SQL`).

    The server URL (meta ``sync.server_url``) is not touched here: it moves to config.json,
    which a migration cannot write, when the store opens (``Store``).
    """
    _script(conn, _ONE_SYNC_STATE_SQL)


#: Every migration ever released, in order. Append only; never edit or reorder.
MIGRATIONS: list[Migration] = [
    ("001_core", _m001_core),
    ("002_search", _m002_search),
    ("003_books_attachments_sync", _m003_books_attachments_sync),
    ("004_imported_lines", _m004_imported_lines),
    ("005_sync_client", _m005_sync_client),
    ("006_one_sync_state", _m006_one_sync_state),
]


def applied(conn: Connection) -> list[str]:
    """Return the names of the migrations recorded in the database, in order applied."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: Connection, *, upto: str | None = None) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction.

    Args:
        conn: an autocommit (``isolation_level=None``) connection.
        upto: stop after this migration (tests build old databases with it).

    Returns:
        The names of the migrations applied now.
    """
    done = set(applied(conn))
    ran: list[str] = []
    for name, fn in MIGRATIONS:
        if name not in done:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-check inside the lock: another process may have migrated meanwhile.
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    conn.execute("COMMIT")
                else:
                    fn(conn)
                    conn.execute(
                        "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                        (name, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
                    )
                    conn.execute("COMMIT")
                    ran.append(name)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if name == upto:
            break
    return ran
