"""The store façade: one open, unlocked profile.

Writes go through one writer thread (:class:`desktop.store.writer.Writer`) and each is one
transaction that also writes its outbox entry, audit entry and search-index entry. Reads use
a connection per calling thread, so the Tk thread can read while the writer writes. The sync
engine sees the store through :attr:`Store.sync` (:class:`~desktop.store.sync_store.SyncStore`).

Typical use::

    store = Store.create(path, commune="02701", username="lan", password="…", full_name="…")
    record = store.register_dossier("khai_sinh", data)
    store.search("giang a xa")
    store.close()
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from desktop.store import (
    attachments,
    audit,
    backup,
    books,
    clerks,
    database,
    domain,
    dossiers,
    drafts,
    migrations,
    outbox,
    profile,
    records,
    sync_state,
)
from desktop.store.clerks import Clerk
from desktop.store.context import WriteContext
from desktop.store.creation import NewProfile, create_profile
from desktop.store.database import Connection
from desktop.store.errors import (
    ProfileExists,
    ProfileNotFound,
    StoreClosed,
    StoreError,
    WrongPassword,
)
from desktop.store.hlc import HybridClock
from desktop.store.keyslots import KeySlots
from desktop.store.records import DossierRecord, DossierSummary
from desktop.store.sync_store import SyncStore
from desktop.store.writer import Writer

T = TypeVar("T")
#: The username under which provincial IT acts after opening a profile with the recovery key.
RECOVERY_CLERK = "recovery"


class Store:
    """An open, unlocked local store. Use :meth:`create` or :meth:`open`, then :meth:`close`.

    The store is also a context manager.

    Attributes:
        profile_dir: the profile directory.
        config: the profile's ``config.json`` (commune, device, server address, settings).
        ctx: who writes, on which device, with which clocks.
        sync: what the sync engine sees of the store.
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
        self._readers: list[Connection] = []
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
        self.sync = SyncStore(self)
        self._adopt_legacy_server_url()

    # -- opening and closing -----------------------------------------------------------------

    def _open_writer(self) -> Connection:
        conn = database.connect(self._paths["database"], self._key)
        migrations.migrate(conn)
        return conn

    def _read(self) -> Connection:
        """Return this thread's read connection (opened on first use)."""
        if self._closed:
            raise StoreClosed("the store is closed")
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = database.connect(self._paths["database"], self._key, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _adopt_legacy_server_url(self) -> None:
        """Move the server address an older profile kept in the database into config.json.

        The old sync engine synced with that address, whatever config.json said: it wins.
        """
        url = self.read(sync_state.legacy_server_url)
        if url is None:
            return
        if self.config.server_url != url:
            self.update_config(server_url=url)
        self.write(lambda conn, ctx: sync_state.drop_legacy_server_url(conn))

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
        role: str = profile.ROLE_COMMUNE,
    ) -> Store:
        """Create a new profile (key slots, config, empty database) and open it.

        The profile is built in a temporary directory and renamed into place, so a crash
        during creation leaves no half-made profile. ``role="province"`` makes provincial
        IT's console profile (``commune`` may be ""); ``config.role`` tells them apart.

        Raises:
            ProfileExists: ``profile_dir`` exists and is not empty.
            StoreError: invalid role, commune code, username or empty password.
        """
        new = NewProfile(
            commune, username, password, full_name, recovery_public_key, server_url, role
        )
        target, key, slots = create_profile(profile_dir, new)
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

    def write(self, fn: Callable[[Connection, WriteContext], T]) -> T:
        """Run ``fn(conn, ctx)`` in one write transaction on the writer thread and wait.

        For the store's own modules (and tools such as the benchmarks); ``conn`` must not
        escape ``fn``.
        """
        return self._writer.execute(lambda conn: fn(conn, self.ctx))

    def submit(self, fn: Callable[[Connection, WriteContext], T]) -> Future[T]:
        """Like :meth:`write` but return a Future at once (for UI code)."""
        return self._writer.submit(lambda conn: fn(conn, self.ctx))

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` with this thread's read connection."""
        return fn(self._read())

    def update_config(self, **changes: Any) -> profile.ProfileConfig:
        """Change ``server_url`` or ``settings`` in config.json (never personal data).

        Raises:
            StoreError: another field was named.
        """
        profile.update_config(self.profile_dir, self.config, **changes)
        return self.config

    # -- clerks ------------------------------------------------------------------------------

    def add_clerk(self, username: str, password: str, full_name: str, role: str = "clerk") -> Clerk:
        """Give a clerk an account and a key slot (the data is not re-encrypted).

        Raises:
            StoreError: invalid username, empty password or name, or the clerk exists.
        """
        clerks.check_new_clerk(username, full_name, password, role)

        def fn(conn: Connection, ctx: WriteContext) -> Clerk:
            clerk = clerks.insert(conn, ctx, username, full_name, role)
            with self._slots_lock:
                # Inside the transaction: if writing the slot fails, the row rolls back.
                self._slots.add_password_slot(username, password, self._key)
                self._slots.save()
            return clerk

        return self.write(fn)

    def remove_clerk(self, username: str) -> None:
        """Remove a clerk's key slot and deactivate the account (history is kept).

        Raises:
            UnknownClerk: no such active clerk.
            StoreError: it is the last clerk.
        """

        def fn(conn: Connection, ctx: WriteContext) -> None:
            clerks.deactivate(conn, ctx, username)
            with self._slots_lock:
                self._slots.remove_password_slot(username)
                self._slots.save()

        self.write(fn)

    def clerks(self) -> list[Clerk]:
        """Return the active clerks, by username."""
        return clerks.active(self._read())

    # -- dossiers ----------------------------------------------------------------------------

    def prepare_dossier(
        self,
        procedure_code: str,
        data: Mapping[str, Any],
        *,
        received_at: dt.datetime | None = None,
    ) -> dossiers.PreparedDossier:
        """Validate new dossier data without saving: the one validation (``ValidationError``)."""
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

        :meth:`prepare_dossier` then :meth:`register_prepared`, for the CLI, imports and tests.

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
        return self.write(
            lambda conn, ctx: dossiers.insert(conn, ctx, prepared, allow_duplicate=allow_duplicate)
        )

    def submit_register_prepared(
        self, prepared: dossiers.PreparedDossier, *, allow_duplicate: bool = False
    ) -> Future[DossierRecord]:
        """Like :meth:`register_prepared` but return a Future of the saved record."""
        return self.submit(
            lambda conn, ctx: dossiers.insert(conn, ctx, prepared, allow_duplicate=allow_duplicate)
        )

    def find_duplicates(self, prepared: dossiers.PreparedDossier) -> list[DossierSummary]:
        """Return live dossiers that look like the same event as a prepared (unsaved) dossier."""
        return records.find_duplicates(self._read(), prepared.dup_key)

    def update_dossier(self, dossier_id: str, changes: Mapping[str, Any]) -> DossierRecord:
        """Change fields of a dossier (re-validated); one outbox entry with old and new values.

        Raises:
            DossierNotFound, DossierLocked, ValidationError, StoreError.
        """
        return self.write(lambda conn, ctx: dossiers.update(conn, ctx, dossier_id, dict(changes)))

    def transition(self, dossier_id: str, new_status: str, *, note: str = "") -> DossierRecord:
        """Move a dossier along its lifecycle (``cho_ky`` assigns the register book number).

        Raises:
            DossierNotFound, InvalidTransition.
        """
        return self.write(
            lambda conn, ctx: dossiers.transition(conn, ctx, dossier_id, new_status, note)
        )

    def get_dossier(self, dossier_id: str) -> DossierRecord:
        """Return one dossier (raises ``DossierNotFound``)."""
        return records.get(self._read(), dossier_id)

    def find_by_number(self, dossier_no: str) -> DossierRecord | None:
        """Return the dossier with this receipt number, if any."""
        return records.find_by_number(self._read(), dossier_no)

    def search(self, text: str, limit: int = 50) -> list[DossierSummary]:
        """Search names, ID numbers and dossier numbers, diacritic-insensitive, as you type."""
        return records.search_dossiers(self._read(), text, limit)

    def dossiers_received_on(self, day: dt.date) -> list[DossierSummary]:
        """Return dossiers received on a day, in order of receipt."""
        return records.received_on(self._read(), day)

    def dossiers_due_or_late(self, today: dt.date) -> list[DossierSummary]:
        """Return open dossiers due today or overdue, most overdue first."""
        return records.due_or_late(self._read(), today)

    def dossiers_waiting_signature(self) -> list[DossierSummary]:
        """Return dossiers waiting for the leader's signature (chờ ký), oldest first."""
        return records.waiting_signature(self._read())

    def count_dossiers(self, status: str | None = None) -> int:
        """Return how many dossiers the store holds (optionally with one status)."""
        return records.count(self._read(), status)

    def iter_dossiers(self, batch: int = 500) -> Iterator[DossierRecord]:
        """Yield every dossier in order of creation (for export)."""
        return records.iter_records(self._read(), batch)

    def status_history(self, dossier_id: str) -> list[records.StatusChange]:
        """Return a dossier's status timeline, oldest first."""
        return records.status_history(self._read(), dossier_id)

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
        return self.write(
            lambda conn, ctx: attachments.insert(
                conn,
                ctx,
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

    def attachment_chunks(self, sha256: str) -> Iterator[bytes]:
        """Yield an attachment's plaintext in fixed-size chunks."""
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

    # -- outbox and sync state ---------------------------------------------------------------

    def pending_changes(self, limit: int | None = None) -> list[outbox.Change]:
        """Return outbox entries the server has not answered yet, oldest first."""
        return outbox.pending_changes(self._read(), limit)

    def all_changes(self, entity_id: str | None = None) -> list[outbox.Change]:
        """Return every outbox entry (optionally of one entity)."""
        return outbox.all_changes(self._read(), entity_id=entity_id)

    def outbox_summary(self) -> outbox.OutboxSummary:
        """Return pending / rejected / conflict counts for the sync indicator."""
        return outbox.outbox_summary(self._read())

    def sync_state(self) -> sync_state.StoredSyncState:
        """Return the one record of sync state (cursor, epoch, last sync, last error, …)."""
        return sync_state.read_state(self._read())

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
        self.write(lambda conn, ctx: backup.audit_backup(conn, ctx, size))
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
