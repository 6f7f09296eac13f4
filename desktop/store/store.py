"""The store façade: one open, unlocked profile.

Writes go through one writer thread (:class:`desktop.store.writer.Writer`) and each is one
transaction that also writes its outbox entry, audit entry and search-index entry. Reads use
a connection per calling thread, so the Tk thread can read while the writer writes.

Typical use::

    store = Store.create(path, commune="02701", username="lan", password="…", full_name="…")
    record = store.register_dossier("khai_sinh", data)
    store.search("giang a xa")
    store.close()
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from desktop.store import (
    attachments,
    audit,
    backup,
    books,
    database,
    domain,
    dossiers,
    drafts,
    migrations,
    outbox,
    profile,
    replica,
)
from desktop.store.context import WriteContext
from desktop.store.errors import (
    ProfileExists,
    ProfileNotFound,
    StoreClosed,
    StoreError,
    UnknownClerk,
    WrongPassword,
)
from desktop.store.hlc import HybridClock
from desktop.store.ids import uuid7
from desktop.store.keyslots import KeySlots, new_database_key
from desktop.store.writer import Writer

T = TypeVar("T")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
_COMMUNE = re.compile(r"^\d{5}$")
#: The username under which provincial IT acts after opening a profile with the recovery key.
RECOVERY_CLERK = "recovery"

DossierRecord = dossiers.DossierRecord
DossierSummary = dossiers.DossierSummary


@dataclass(frozen=True)
class Clerk:
    """A clerk account of this profile."""

    username: str
    full_name: str
    role: str
    active: bool
    created_at: str


def _check_username(username: str) -> None:
    if not _USERNAME.match(username or ""):
        raise StoreError(
            f"invalid username {username!r}: use 1-32 lower-case letters, digits, '.', '_' or '-'"
        )


class Store:
    """An open, unlocked local store. Use :meth:`create` or :meth:`open`, then :meth:`close`.

    The store is also a context manager.
    """

    def __init__(self, profile_dir: Path, key: bytes, slots: KeySlots, username: str) -> None:
        """Open the database of an unlocked profile (use :meth:`create` / :meth:`open`)."""
        self.profile_dir = Path(profile_dir)
        self._paths = profile.paths(self.profile_dir)
        self._key = key
        self._slots = slots
        self._slots_lock = threading.Lock()
        self.config = profile.load_config(self.profile_dir)
        self._closed = False
        self._local = threading.local()
        self._readers: list[Any] = []
        self._readers_lock = threading.Lock()
        self._writer = Writer(self._open_writer)
        last = self._read().execute("SELECT value FROM meta WHERE key = 'last_hlc'").fetchone()
        self.ctx = WriteContext(
            device_id=self.config.device_id,
            commune=self.config.commune,
            clerk=username,
            clock=HybridClock(self.config.device_id, last[0] if last else None),
        )
        self._attachment_key: bytes | None = None

    # -- opening and closing -----------------------------------------------------------------

    def _open_writer(self) -> Any:
        conn = database.connect(self._paths["database"], self._key)
        migrations.migrate(conn)
        return conn

    def _read(self) -> Any:
        """Return this thread's read connection (opened on first use)."""
        if self._closed:
            raise StoreClosed("the store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = database.connect(self._paths["database"], self._key, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @classmethod
    def create(
        cls,
        profile_dir: Path | str,
        *,
        commune: str,
        username: str,
        password: str,
        full_name: str,
        recovery_public_key: bytes | None = None,
        server_url: str | None = None,
    ) -> Store:
        """Create a new profile (key slots, config, empty database) and open it.

        The profile is built in a temporary directory and renamed into place, so a crash
        during creation leaves no half-made profile.

        Raises:
            ProfileExists: ``profile_dir`` exists and is not empty.
            StoreError: invalid commune code, username or empty password.
        """
        target = Path(profile_dir).absolute()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ProfileExists(f"{target} exists and is not empty")
        if not _COMMUNE.match(commune or ""):
            raise StoreError(f"invalid commune code {commune!r}: expected 5 digits, e.g. 02701")
        _check_username(username)
        if not full_name or not full_name.strip():
            raise StoreError("the clerk's full name must not be empty")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.create-", dir=target.parent))
        key = new_database_key()
        try:
            config = profile.ProfileConfig(
                commune=commune, device_id=uuid7(), server_url=server_url
            )
            profile.save_config(staging, config)
            conn = database.connect(staging / profile.DATABASE, key)
            try:
                migrations.migrate(conn)
                now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('device_id', ?), ('commune', ?)",
                    (config.device_id, commune),
                )
                conn.execute(
                    "INSERT INTO clerks (username, full_name, role, created_at) VALUES (?, ?, ?, ?)",
                    (username, full_name.strip(), "admin", now),
                )
                audit.append_audit(
                    conn,
                    at=now,
                    clerk=username,
                    action="profile.create",
                    summary=f"commune {commune} device {config.device_id}",
                )
                audit.append_audit(
                    conn,
                    at=now,
                    clerk=username,
                    action="clerk.add",
                    entity="clerk",
                    entity_id=username,
                    summary="role admin",
                )
                conn.execute("COMMIT")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            slots = KeySlots(staging / profile.KEYSLOTS)
            slots.add_password_slot(username, password, key)
            if recovery_public_key is not None:
                slots.set_recovery(recovery_public_key, key)
            slots.save()
            (staging / profile.ATTACHMENTS).mkdir()
            if target.exists():
                target.rmdir()
            staging.replace(target)
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
        slots.path = target / profile.KEYSLOTS
        return cls(target, key, slots, username)

    @classmethod
    def open(cls, profile_dir: Path | str, username: str, password: str) -> Store:
        """Unlock a profile with a clerk's password.

        Raises:
            ProfileNotFound: no profile there.
            WrongPassword: unknown clerk or wrong password (the database is not touched).
        """
        target = Path(profile_dir).absolute()
        if not profile.exists(target):
            raise ProfileNotFound(f"no motcua profile at {target}")
        slots = KeySlots.load(target / profile.KEYSLOTS)
        key = slots.unlock(username, password)
        return cls(target, key, slots, username)

    @classmethod
    def open_with_recovery(cls, profile_dir: Path | str, private_key: bytes) -> Store:
        """Unlock a profile with the province's recovery private key (acts as ``recovery``).

        Raises:
            ProfileNotFound, WrongPassword.
        """
        target = Path(profile_dir).absolute()
        if not profile.exists(target):
            raise ProfileNotFound(f"no motcua profile at {target}")
        slots = KeySlots.load(target / profile.KEYSLOTS)
        key = slots.unlock_with_recovery(private_key)
        return cls(target, key, slots, RECOVERY_CLERK)

    @staticmethod
    def profile_usernames(profile_dir: Path | str) -> list[str]:
        """Return the clerks who can sign in to a profile (without unlocking it)."""
        return KeySlots.load(Path(profile_dir) / profile.KEYSLOTS).usernames()

    def close(self) -> None:
        """Finish queued writes and close every connection."""
        if self._closed:
            return
        self._writer.close()
        self._closed = True
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except Exception:
                    pass
            self._readers.clear()

    def __enter__(self) -> Store:
        """Return the store itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    @property
    def clerk(self) -> str:
        """The username of the clerk who opened the store."""
        return self.ctx.clerk

    @property
    def device_id(self) -> str:
        """This device's id."""
        return self.ctx.device_id

    @property
    def commune(self) -> str:
        """This profile's commune code."""
        return self.ctx.commune

    def warm_up(self) -> None:
        """Load the procedure declarations and the search path now (call off the Tk thread
        after sign-in) so the clerk's first save and first search are not the slow ones."""
        from desktop.forms import procedures

        for procedure in procedures.all_procedures():
            procedure.search_terms({})
        domain.fold("Giàng A Xà")
        self.search("a")

    # -- running work on the writer ----------------------------------------------------------

    def write(self, fn: Callable[[Any, WriteContext], T]) -> T:
        """Run ``fn(conn, ctx)`` in one write transaction on the writer thread and wait.

        For the sync engine's own tables; ``conn`` must not escape ``fn``.
        """
        return self._writer.execute(lambda conn: fn(conn, self.ctx))

    def submit(self, fn: Callable[[Any, WriteContext], T]) -> Future[T]:
        """Like :meth:`write` but return a Future at once (for UI code)."""
        return self._writer.submit(lambda conn: fn(conn, self.ctx))

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` with this thread's read connection."""
        return fn(self._read())

    def update_config(self, **changes: Any) -> profile.ProfileConfig:
        """Change ``server_url`` or ``settings`` in config.json (never personal data)."""
        for key, value in changes.items():
            if key not in ("server_url", "settings"):
                raise StoreError(f"config field {key!r} cannot be changed")
            setattr(self.config, key, value)
        profile.save_config(self.profile_dir, self.config)
        return self.config

    # -- clerks ------------------------------------------------------------------------------

    def add_clerk(self, username: str, password: str, full_name: str, role: str = "clerk") -> Clerk:
        """Give a clerk an account and a key slot (the data is not re-encrypted).

        Raises:
            StoreError: invalid username, empty password or name, or the clerk exists.
        """
        _check_username(username)
        if not full_name or not full_name.strip():
            raise StoreError("the clerk's full name must not be empty")
        if not password:
            raise StoreError("the password must not be empty")
        if role not in ("clerk", "admin"):
            raise StoreError(f"unknown role {role!r}")

        def fn(conn: Any, ctx: WriteContext) -> Clerk:
            row = conn.execute("SELECT active FROM clerks WHERE username = ?", (username,))
            existing = row.fetchone()
            if existing is not None and existing[0]:
                raise StoreError(f"clerk {username!r} already exists")
            at = ctx.timestamp()
            conn.execute(
                "INSERT INTO clerks (username, full_name, role, active, created_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (username) DO UPDATE SET "
                "full_name = excluded.full_name, role = excluded.role, active = 1",
                (username, full_name.strip(), role, at),
            )
            audit.append_audit(
                conn,
                at=at,
                clerk=ctx.clerk,
                action="clerk.add",
                entity="clerk",
                entity_id=username,
                summary=f"role {role}",
            )
            with self._slots_lock:
                # Inside the transaction: if writing the slot fails, the row rolls back.
                self._slots.add_password_slot(username, password, self._key)
                self._slots.save()
            return Clerk(username, full_name.strip(), role, True, at)

        return self.write(fn)

    def remove_clerk(self, username: str) -> None:
        """Remove a clerk's key slot and deactivate the account (history is kept).

        Raises:
            UnknownClerk: no such active clerk.
            StoreError: it is the last clerk.
        """

        def fn(conn: Any, ctx: WriteContext) -> None:
            cur = conn.execute(
                "UPDATE clerks SET active = 0 WHERE username = ? AND active = 1", (username,)
            )
            if cur.rowcount == 0:
                raise UnknownClerk(f"no active clerk {username!r}")
            audit.append_audit(
                conn,
                at=ctx.timestamp(),
                clerk=ctx.clerk,
                action="clerk.remove",
                entity="clerk",
                entity_id=username,
                summary="key slot removed",
            )
            with self._slots_lock:
                self._slots.remove_password_slot(username)
                self._slots.save()

        self.write(fn)

    def change_password(self, username: str, new_password: str) -> None:
        """Re-wrap the database key under a clerk's new password."""
        if username not in self._slots.usernames():
            raise UnknownClerk(f"no clerk {username!r}")

        def fn(conn: Any, ctx: WriteContext) -> None:
            audit.append_audit(
                conn,
                at=ctx.timestamp(),
                clerk=ctx.clerk,
                action="clerk.password",
                entity="clerk",
                entity_id=username,
                summary="password changed",
            )
            with self._slots_lock:
                self._slots.add_password_slot(username, new_password, self._key)
                self._slots.save()

        self.write(fn)

    def set_recovery_key(self, public_key: bytes) -> None:
        """Add (or replace) the recovery slot sealed to the province's public key."""
        with self._slots_lock:
            self._slots.set_recovery(public_key, self._key)
            self._slots.save()

    def clerks(self) -> list[Clerk]:
        """Return the active clerks, by username."""
        rows = self._read().execute(
            "SELECT username, full_name, role, active, created_at FROM clerks "
            "WHERE active = 1 ORDER BY username"
        )
        return [Clerk(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows.fetchall()]

    # -- dossiers ----------------------------------------------------------------------------

    def prepare_dossier(
        self,
        procedure_code: str,
        data: Mapping[str, Any],
        *,
        received_at: dt.datetime | None = None,
    ) -> dossiers.PreparedDossier:
        """Validate new dossier data without saving (raises ``ValidationError``)."""
        received = received_at or self.ctx.now().replace(tzinfo=None)
        if received.tzinfo is not None:
            received = received.astimezone().replace(tzinfo=None)
        return dossiers.prepare(
            procedure_code, data, received_at=received, today=self.ctx.now().date()
        )

    def register_dossier(
        self,
        procedure_code: str,
        data: Mapping[str, Any],
        *,
        received_at: dt.datetime | None = None,
        allow_duplicate: bool = False,
    ) -> DossierRecord:
        """Validate and save a new dossier (status tiếp nhận) with its outbox entry.

        Args:
            procedure_code: ``khai_sinh``, ``khai_tu``, ``xac_nhan_hon_nhan`` or ``ket_hon``.
            data: the procedure's fields by name (values as typed; dates ISO).
            received_at: when the papers were received (default: now, local time).
            allow_duplicate: save even when a likely duplicate exists (the clerk decided).

        Raises:
            ValidationError: bad data (nothing saved).
            DuplicateDossier: likely duplicates exist and ``allow_duplicate`` is False.
        """
        prepared = self.prepare_dossier(procedure_code, data, received_at=received_at)
        return self.register_prepared(prepared, allow_duplicate=allow_duplicate)

    def register_prepared(
        self, prepared: dossiers.PreparedDossier, *, allow_duplicate: bool = False
    ) -> DossierRecord:
        """Save a dossier :meth:`prepare_dossier` validated (no second validation).

        Raises:
            DuplicateDossier: likely duplicates exist and ``allow_duplicate`` is False.
        """
        return self._writer.execute(
            lambda conn: dossiers.insert(conn, self.ctx, prepared, allow_duplicate=allow_duplicate)
        )

    def submit_register_dossier(
        self,
        procedure_code: str,
        data: Mapping[str, Any],
        *,
        received_at: dt.datetime | None = None,
        allow_duplicate: bool = False,
    ) -> Future[DossierRecord]:
        """Like :meth:`register_dossier` but return a Future (validation errors go in it)."""
        try:
            prepared = self.prepare_dossier(procedure_code, data, received_at=received_at)
        except Exception as exc:
            future: Future[DossierRecord] = Future()
            future.set_exception(exc)
            return future
        return self.submit_register_prepared(prepared, allow_duplicate=allow_duplicate)

    def submit_register_prepared(
        self, prepared: dossiers.PreparedDossier, *, allow_duplicate: bool = False
    ) -> Future[DossierRecord]:
        """Like :meth:`register_prepared` but return a Future of the saved record."""
        return self._writer.submit(
            lambda conn: dossiers.insert(conn, self.ctx, prepared, allow_duplicate=allow_duplicate)
        )

    def find_duplicates(self, prepared: dossiers.PreparedDossier) -> list[DossierSummary]:
        """Return live dossiers that look like the same event as a prepared (unsaved) dossier."""
        return dossiers.find_duplicates(self._read(), prepared.dup_key)

    def update_dossier(self, dossier_id: str, changes: Mapping[str, Any]) -> DossierRecord:
        """Change fields of a dossier (re-validated); one outbox entry with old and new values.

        Raises:
            DossierNotFound, DossierLocked, ValidationError, StoreError.
        """
        return self._writer.execute(
            lambda conn: dossiers.update(conn, self.ctx, dossier_id, dict(changes))
        )

    def transition(self, dossier_id: str, new_status: str, *, note: str = "") -> DossierRecord:
        """Move a dossier along its lifecycle (``cho_ky`` assigns the register book number).

        Raises:
            DossierNotFound, InvalidTransition.
        """
        return self._writer.execute(
            lambda conn: dossiers.transition(conn, self.ctx, dossier_id, new_status, note)
        )

    def get_dossier(self, dossier_id: str) -> DossierRecord:
        """Return one dossier (raises ``DossierNotFound``)."""
        return dossiers.get(self._read(), dossier_id)

    def find_by_number(self, dossier_no: str) -> DossierRecord | None:
        """Return the dossier with this receipt number, if any."""
        return dossiers.find_by_number(self._read(), dossier_no)

    def search(self, text: str, limit: int = 50) -> list[DossierSummary]:
        """Search names, ID numbers and dossier numbers, diacritic-insensitive, as you type."""
        return dossiers.search_dossiers(self._read(), text, limit)

    def _summaries(self, where: str, args: tuple[Any, ...], order: str) -> list[DossierSummary]:
        records = dossiers.select(self._read(), where, args, order)
        return [dossiers.summary_of(r) for r in records]

    def dossiers_received_on(self, day: dt.date) -> list[DossierSummary]:
        """Return dossiers received on a day, in order of receipt."""
        nxt = day + dt.timedelta(days=1)
        return self._summaries(
            "received_at >= ? AND received_at < ?",
            (day.isoformat(), nxt.isoformat()),
            "received_at, rowid",
        )

    def dossiers_due_or_late(self, today: dt.date) -> list[DossierSummary]:
        """Return open dossiers due today or overdue, most overdue first."""
        return self._summaries(
            "status IN ('tiep_nhan', 'dang_xu_ly', 'cho_ky') AND due_at <= ?",
            (today.isoformat(),),
            "due_at, rowid",
        )

    def dossiers_waiting_signature(self) -> list[DossierSummary]:
        """Return dossiers waiting for the leader's signature (chờ ký), oldest first."""
        return self._summaries("status = 'cho_ky'", (), "received_at, rowid")

    def count_dossiers(self, status: str | None = None) -> int:
        """Return how many dossiers the store holds (optionally with one status)."""
        if status is None:
            return int(self._read().execute("SELECT count(*) FROM dossiers").fetchone()[0])
        row = self._read().execute("SELECT count(*) FROM dossiers WHERE status = ?", (status,))
        return int(row.fetchone()[0])

    def iter_dossiers(self, batch: int = 500) -> Iterator[DossierRecord]:
        """Yield every dossier in order of creation (for export)."""
        last = 0
        conn = self._read()
        while True:
            rows = conn.execute(
                "SELECT id, record, server_version, created_at, updated_at, created_by, "
                "updated_by, rowid FROM dossiers WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield dossiers._to_record(row)
            last = rows[-1][7]

    def status_history(self, dossier_id: str) -> list[dossiers.StatusChange]:
        """Return a dossier's status timeline, oldest first."""
        return dossiers.status_history(self._read(), dossier_id)

    # -- register books ----------------------------------------------------------------------

    def add_book_block(
        self, book_type: str, year: int, start: int, end: int, source: str = "server"
    ) -> books.BookBlock:
        """Record a block of register numbers handed to this device (by the server)."""
        return self.write(
            lambda conn, ctx: books.add_block(
                conn, book_type, year, start, end, source, ctx.timestamp()
            )
        )

    def book_blocks(self, book_type: str | None = None) -> list[books.BookBlock]:
        """Return the blocks of register numbers this device holds."""
        return books.blocks(self._read(), book_type)

    # -- audit -------------------------------------------------------------------------------

    def audit_trail(self, entity_id: str) -> list[audit.AuditEntry]:
        """Return the audit entries about one dossier, attachment or clerk."""
        return audit.audit_trail(self._read(), entity_id)

    def verify_audit(self) -> audit.AuditReport:
        """Check the whole hash chain."""
        return audit.verify_audit(self._read())

    # -- attachments -------------------------------------------------------------------------

    def _attachments_key(self) -> bytes:
        if self._attachment_key is None:
            from desktop.store import chunkcrypt

            self._attachment_key = chunkcrypt.derive_key(self._key, attachments.KEY_INFO)
        return self._attachment_key

    def add_attachment(
        self, dossier_id: str, content: bytes, name: str, mime: str
    ) -> attachments.Attachment:
        """Store a file for a dossier (encrypted, content-addressed) with its outbox entry."""
        digest = attachments.write_content(
            self._paths["attachments"], self._attachments_key(), content
        )
        return self._writer.execute(
            lambda conn: attachments.insert(
                conn,
                self.ctx,
                dossier_id=dossier_id,
                sha256=digest,
                size=len(content),
                mime=mime,
                name=name,
            )
        )

    def attachments(self, dossier_id: str) -> list[attachments.Attachment]:
        """Return a dossier's attachments."""
        return attachments.list_for(self._read(), dossier_id)

    def attachment_content(self, sha256: str) -> bytes:
        """Return the decrypted content of an attachment (checked against its hash)."""
        return attachments.read_content(self._paths["attachments"], self._attachments_key(), sha256)

    def has_attachment_content(self, sha256: str) -> bool:
        """Whether this device holds the content of ``sha256``."""
        return attachments.content_path(self._paths["attachments"], sha256).exists()

    def store_attachment_content(self, content: bytes) -> str:
        """Store content downloaded by sync (no metadata row); return its SHA-256."""
        return attachments.write_content(
            self._paths["attachments"], self._attachments_key(), content
        )

    def attachment_chunks(self, sha256: str) -> Iterator[bytes]:
        """Yield an attachment's plaintext in fixed-size chunks (resumable upload)."""
        return attachments.iter_plain_chunks(
            self._paths["attachments"], self._attachments_key(), sha256
        )

    # -- drafts ------------------------------------------------------------------------------

    def save_draft(self, key: str, procedure: str, data: Mapping[str, Any]) -> None:
        """Save (or replace) a half-typed form."""
        self.write(
            lambda conn, ctx: drafts.save(conn, key, procedure, data, ctx.clerk, ctx.timestamp())
        )

    def list_drafts(self) -> list[drafts.Draft]:
        """Return the saved drafts, newest first."""
        return drafts.list_all(self._read())

    def delete_draft(self, key: str) -> bool:
        """Delete a draft; return whether it existed."""
        return self.write(lambda conn, ctx: drafts.delete(conn, key))

    # -- outbox and sync bookkeeping ---------------------------------------------------------

    def pending_changes(self, limit: int | None = None) -> list[outbox.Change]:
        """Return outbox entries the server has not acknowledged, oldest first."""
        return outbox.pending_changes(self._read(), limit)

    def all_changes(self, entity_id: str | None = None) -> list[outbox.Change]:
        """Return every outbox entry (optionally of one entity)."""
        return outbox.all_changes(self._read(), entity_id=entity_id)

    def mark_sent(self, device_seqs: Iterable[int]) -> None:
        """Mark entries as sent in a batch awaiting the server's answer."""
        seqs = list(device_seqs)
        self.write(lambda conn, ctx: outbox.mark_sent(conn, seqs))

    def record_results(self, results: Iterable[Mapping[str, Any]]) -> int:
        """Store the server's status per change (applied/merged/conflict/rejected)."""
        items = list(results)
        return self.write(lambda conn, ctx: outbox.record_results(conn, items, at=ctx.timestamp()))

    def mark_durable(self, epoch: str, upto_device_seq: int) -> int:
        """Mark acknowledged entries durable under the server's epoch."""
        return self.write(lambda conn, ctx: outbox.mark_durable(conn, epoch, upto_device_seq))

    def requeue_after(self, device_seq: int) -> int:
        """Re-queue entries after ``device_seq`` (the server lost them in a restore)."""
        return self.write(lambda conn, ctx: outbox.requeue_after(conn, device_seq))

    def outbox_summary(self) -> outbox.OutboxSummary:
        """Return pending / rejected / conflict counts for the sync indicator."""
        return outbox.outbox_summary(self._read())

    def apply_remote_changes(
        self, changes: Iterable[Mapping[str, Any]], cursor: int
    ) -> replica.ApplyReport:
        """Apply a pulled page of changes and store the cursor in the same transaction."""
        items = list(changes)
        return self.write(lambda conn, ctx: replica.apply_remote_changes(conn, ctx, items, cursor))

    def sync_state(self) -> replica.SyncState:
        """Return the stored sync state (cursor, epoch, last sync, last error, clock offset)."""
        return replica.get_sync_state(self._read())

    def update_sync_state(self, **values: Any) -> None:
        """Set fields of the sync state (cursor, server_epoch, last_sync_at, …)."""
        self.write(lambda conn, ctx: replica.update_sync_state(conn, **values))

    # -- integrity and backup ----------------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """Run SQLite's integrity check (``["ok"]`` when healthy)."""
        return database.integrity_check(self._read())

    def backup(self, path: Path | str) -> int:
        """Write an online backup of the whole profile to one encrypted file.

        Returns:
            The size of the backup file in bytes.
        """
        dest = Path(path).absolute()
        with tempfile.TemporaryDirectory(prefix=".motcua-snap-", dir=dest.parent) as tmp:
            snap = Path(tmp) / profile.DATABASE
            self._writer.execute(lambda conn: backup.snapshot(conn, snap), transaction=False)
            size = backup.write_backup(
                dest,
                snapshot_db=snap,
                profile_dir=self.profile_dir,
                key=self._key,
                commune=self.commune,
                device_id=self.device_id,
            )
        self.write(
            lambda conn, ctx: audit.append_audit(
                conn,
                at=ctx.timestamp(),
                clerk=ctx.clerk,
                action="profile.backup",
                summary=f"{size} bytes",
            )
        )
        return size

    @staticmethod
    def restore(
        backup_path: Path | str,
        profile_dir: Path | str,
        password: str,
        *,
        username: str | None = None,
    ) -> Path | None:
        """Restore a profile from a backup (see :mod:`desktop.store.backup`).

        Returns:
            Where the previous profile was moved aside, or None.

        Raises:
            WrongPassword, BackupError.
        """
        return backup.restore_backup(
            Path(backup_path), Path(profile_dir), password, username=username
        )


__all__ = [
    "Clerk",
    "DossierRecord",
    "DossierSummary",
    "ProfileExists",
    "ProfileNotFound",
    "Store",
    "StoreError",
    "WrongPassword",
]
