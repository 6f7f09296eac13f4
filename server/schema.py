"""The server's tables, as SQLAlchemy Core metadata (one definition for PostgreSQL and SQLite).

JSON values are stored as canonical JSON text, times as Unix milliseconds (BigInteger), keys
and chunks as binary: the same column types work on both backends. Migrations
(:mod:`server.migrations`) create and change these tables; this module is the current shape.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "attachment_chunks",
    "attachments",
    "book_blocks",
    "changes",
    "conflicts",
    "deliveries",
    "devices",
    "enrol_codes",
    "metadata",
    "operator_codes",
    "operators",
    "record_versions",
    "records",
    "schema_migrations",
    "seen_batches",
    "seq_counter",
    "server_meta",
    "sessions",
]

metadata = MetaData()

#: Which migrations have run (name, when).
schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("applied_at", BigInteger, nullable=False),
)

#: Key/value settings: epoch, the server's private keys, creation time.
server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: The one-row lock and counter that hands out gap-free server_seq numbers (and the log's
#: hash chain). Locked with SELECT ... FOR UPDATE (PostgreSQL) / BEGIN IMMEDIATE (SQLite).
seq_counter = Table(
    "seq_counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
    Column("chain", String(64), nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("commune", String(5), nullable=False, index=True),
    Column("label", String(100), nullable=False, default=""),
    Column("keys", Text, nullable=False),  # PublicKeys.to_json()
    Column("key_id", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # active | revoked | cloned
    Column("status_reason", Text, nullable=False, default=""),
    Column("enrolled_at", BigInteger, nullable=False),
    Column("last_seen", BigInteger),
    Column("last_sync", BigInteger),
    Column("last_device_seq", BigInteger, nullable=False, default=0),
    Column("clock_offset_ms", BigInteger),
    Column("flagged_skew", Boolean, nullable=False, default=False),
    # What the device reported in its last sync (migration 0003).
    Column("pending_reported", BigInteger),
    Column("app_version", String(32)),
    Column("last_error", String(64)),
    # The server_seq of the last log cursor the device sent back: what it holds (0003).
    Column("acked_seq", BigInteger),
)

enrol_codes = Table(
    "enrol_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_key", LargeBinary, nullable=False),  # SHA-256 derived key, never the code
    Column("commune", String(5), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_by", String(64)),
    Column("used_at", BigInteger),
)

#: The append-only change log. Every pushed change (whatever its status) and every resolution.
changes = Table(
    "changes",
    metadata,
    Column("server_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("chain", String(64), nullable=False),
    Column("change_id", String(64), nullable=False, index=True),
    Column("device_id", String(64), nullable=False),
    Column("device_seq", BigInteger),  # null for resolutions
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("commune", String(5), nullable=False),
    Column("op", String(16), nullable=False),
    Column("base_version", BigInteger, nullable=False),
    Column("new_version", BigInteger),
    Column("fields", Text, nullable=False),  # as sent: {field: [old, new]}
    Column("applied", Text, nullable=False),  # as applied: {field: [server old, new]}
    Column("hlc", String(120), nullable=False),
    Column("clerk", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("conflict_ids", Text, nullable=False, default="[]"),
    Column("kind", String(16), nullable=False),  # change | resolution
    Column("parents", Text),
    Column("signature", Text),  # server signature of a resolution
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("device_id", "device_seq", name="uq_changes_device_seq"),
    Index("ix_changes_commune_seq", "commune", "server_seq"),
    Index("ix_changes_status_device", "status", "device_id"),
)

#: Current state of every record (materialised from the log).
records = Table(
    "records",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("commune", String(5), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("values", Text, nullable=False),
    Column("field_seq", Text, nullable=False),  # {field: server_seq that last changed it}
    Column("deleted", Boolean, nullable=False, default=False),
    Column("updated_seq", BigInteger, nullable=False),
    Column("dup_key", String(64)),  # SHA-256 of the duplicate key (no personal data in clear)
    Column("book_key", String(64)),  # commune|book_type|year|number
    # A dossier's facts for the statistics and the conflict inbox (server.dossier_facts),
    # materialised from ``values`` by every write (migration 0004).
    Column("procedure", String(32)),
    Column("status", String(16)),
    Column("received_on", String(10)),  # ISO date of received_at
    Column("received_week", String(10)),  # Monday of its week
    Column("received_month", String(10)),  # first day of its month
    Column("due_on", String(10)),
    Column("late", Boolean),
    Column("finished_on", String(10)),  # UTC+7 date of the device clock that set hoan_thanh
    Index("ix_records_commune_updated", "commune", "updated_seq"),
    Index("ix_records_dup_key", "dup_key"),
    Index("ix_records_book_key", "book_key"),
    Index("ix_records_received_on", "received_on"),
)

#: Every version of every record, kept forever (the losing side of a conflict stays here).
record_versions = Table(
    "record_versions",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("server_seq", BigInteger, nullable=False),
    Column("change_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("values", Text, nullable=False),
    Column("changed", Text, nullable=False),  # {field: new value} of this version
    Column("deleted", Boolean, nullable=False, default=False),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # field | delete | duplicate | book_number
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("other_entity_id", String(64)),
    Column("commune", String(5), nullable=False, index=True),
    Column("other_commune", String(5)),
    Column("change_id", String(64), nullable=False),
    Column("server_seq", BigInteger, nullable=False),
    Column("base_version", BigInteger, nullable=False),
    Column("current_version", BigInteger, nullable=False),
    Column("fields", Text, nullable=False),  # the clashing fields
    Column("base", Text, nullable=False),
    Column("current", Text, nullable=False),
    Column("incoming", Text, nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("clerk", String(64), nullable=False),
    Column("hlc", String(120), nullable=False),
    Column("status", String(16), nullable=False),  # open | resolved
    Column("resolution_change_id", String(64)),
    Column("resolution_reason", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
    Column("resolved_by", String(64)),  # who decided: an operator's name (migration 0003)
    Index("ix_conflicts_status_created", "status", "created_at"),
    Index("ix_conflicts_other_commune", "other_commune"),
    Index("ix_conflicts_server_seq", "server_seq"),
)

#: When each device first held a resolution: its first sync whose cursor was at or past the
#: resolution's server_seq (migration 0003).
deliveries = Table(
    "deliveries",
    metadata,
    Column("change_id", String(64), primary_key=True),  # the resolution change
    Column("device_id", String(64), primary_key=True),
    Column("received_at", BigInteger, nullable=False),
)

book_blocks = Table(
    "book_blocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("commune", String(5), nullable=False),
    Column("book_type", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("granted_at", BigInteger, nullable=False),
    UniqueConstraint("commune", "book_type", "year", "start", name="uq_book_blocks_start"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False, default=0),
    Column("complete", Boolean, nullable=False, default=False),
    Column("device_id", String(64), nullable=False),
    Column("commune", String(5), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger),
)

attachment_chunks = Table(
    "attachment_chunks",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("offset", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

#: Envelopes already processed: a replayed envelope is refused (pruned after 30 days).
seen_batches = Table(
    "seen_batches",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("batch_id", String(64), primary_key=True),
    Column("received_at", BigInteger, nullable=False, index=True),
)

#: Provincial IT consoles, enrolled like devices but for the whole province (migration 0002).
operators = Table(
    "operators",
    metadata,
    Column("operator_id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),  # who decides: signs resolutions as clerk
    Column("label", String(100), nullable=False, default=""),
    Column("keys", Text, nullable=False),  # PublicKeys.to_json()
    Column("key_id", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # active | revoked
    Column("status_reason", Text, nullable=False, default=""),
    Column("enrolled_at", BigInteger, nullable=False),
    Column("last_seen", BigInteger),
)

#: One-time codes that enrol an operator under a name (only a key derived from the code).
operator_codes = Table(
    "operator_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_key", LargeBinary, nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_by", String(64)),
    Column("used_at", BigInteger),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("key", LargeBinary, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)
