"""The store as the sync engine sees it: one typed façade, ``Store.sync``.

The sync engine (``desktop.sync``) never touches a connection or SQL: it calls these methods,
each one read or one write transaction on the store's writer thread. This package does not
import ``desktop.sync``: what crosses is plain data (:class:`~desktop.store.sync_page.SyncPage`
in, :class:`~desktop.store.sync_page.PageOutcome` out, the dataclasses of
:mod:`desktop.store.sync_state`).

Typical use (by the engine)::

    state = store.sync.state()
    outcome = store.sync.apply_page(SyncPage(results=..., changes=..., cursor=...))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from desktop.store import audit, outbox, sync_page, sync_state
from desktop.store.audit import AuditRange
from desktop.store.books import BookBlock
from desktop.store.context import WriteContext
from desktop.store.database import Connection
from desktop.store.outbox import Change
from desktop.store.sync_page import PageOutcome, SyncPage
from desktop.store.sync_state import Enrolment, StoredSyncState, SyncIdentity

if TYPE_CHECKING:
    from desktop.store.store import Store

#: Everything the sync engine needs from the store comes from this module.
__all__ = [
    "AuditRange",
    "BookBlock",
    "Change",
    "Enrolment",
    "PageOutcome",
    "StoredSyncState",
    "SyncIdentity",
    "SyncPage",
    "SyncStore",
]


class SyncStore:
    """Everything the sync engine reads from and writes to the store.

    Args:
        store: the open store (``Store.sync`` is this store's one instance).
    """

    def __init__(self, store: Store) -> None:
        """Wrap an open store."""
        self._store = store

    # -- who and where -------------------------------------------------------------------------

    @property
    def device_id(self) -> str:
        """This device's id."""
        return self._store.device_id

    @property
    def commune(self) -> str:
        """This profile's commune code."""
        return self._store.commune

    @property
    def server_url(self) -> str | None:
        """The provincial server's address: the profile config's, its one home."""
        return self._store.config.server_url

    def set_server_url(self, url: str) -> None:
        """Record the server's address in the profile config."""
        self._store.update_config(server_url=url)

    # -- identity and state --------------------------------------------------------------------

    def identity(self) -> SyncIdentity:
        """Return the stored keys and session.

        Raises:
            ValueError: a stored value is unreadable.
        """
        return self._store.read(sync_state.read_identity)

    def pending_keys(self) -> bytes | None:
        """Return keys made for an enrolment not finished yet, if any."""
        return self._store.read(sync_state.read_pending_keys)

    def save_pending_keys(self, keys: bytes) -> None:
        """Keep keys made for an enrolment before the request goes out."""
        self._store.write(lambda conn, ctx: sync_state.save_pending_keys(conn, keys))

    def save_session(self, session: str | None) -> None:
        """Keep (or with None forget) the session the server offered."""
        self._store.write(lambda conn, ctx: sync_state.save_session(conn, session))

    def save_enrolment(self, enrolment: Enrolment) -> None:
        """Pin the server and start sync afresh (one transaction)."""
        self._store.write(lambda conn, ctx: sync_state.save_enrolment(conn, enrolment))

    def state(self) -> StoredSyncState:
        """Return the one record of sync state."""
        return self._store.sync_state()

    def record_failure(self, *, code: str, clerk_message: str, revoked: bool = False) -> None:
        """Record why the last sync failed (and that the server refused this device for good)."""
        self._store.write(
            lambda conn, ctx: sync_state.record_failure(
                conn, code=code, clerk_message=clerk_message, revoked=revoked
            )
        )

    # -- records ---------------------------------------------------------------------------------

    def pending_changes(self, limit: int | None = None) -> list[Change]:
        """Return outbox entries the server has not answered, oldest first."""
        return self._store.pending_changes(limit)

    def changes_needing_attention(self) -> list[Change]:
        """Return changes the server refused or holds as conflicts, newest first."""
        return self._store.read(outbox.flagged_changes)

    def outbox_summary(self) -> outbox.OutboxSummary:
        """Return the pending / rejected / conflict counts."""
        return self._store.outbox_summary()

    def book_blocks(self) -> list[BookBlock]:
        """Return the blocks of register numbers this device holds."""
        return self._store.book_blocks()

    def apply_page(self, page: SyncPage) -> PageOutcome:
        """Apply one server answer: results, pulled page, cursor, state (one transaction)."""
        return self._store.write(lambda conn, ctx: sync_page.apply_page(conn, ctx, page))

    def open_conflicts(self) -> int:
        """Return the conflicts this device caused that are not known to be resolved."""
        return self._store.read(_open_conflicts)

    def known_conflicts(self) -> list[tuple[str, str, str]]:
        """Return ``(conflict_id, change_id, open|resolved)`` of every conflict this device saw."""
        return self._store.read(_known_conflicts)

    # -- audit -----------------------------------------------------------------------------------

    def sign_audit(self, sign: Callable[[AuditRange], str], *, key_id: str) -> AuditRange | None:
        """Sign the audit entries no signature covers yet and keep the signature.

        Args:
            sign: returns the signature (text) of a range of the chain.
            key_id: the id of the signing key.

        Returns:
            The range signed, or None when every entry was signed already.
        """

        def fn(conn: Connection, ctx: WriteContext) -> AuditRange | None:
            todo = audit.unsigned_range(conn)
            if todo is not None:
                audit.record_batch_signature(
                    conn, todo, key_id=key_id, signature=sign(todo), signed_at=ctx.timestamp()
                )
            return todo

        return self._store.write(fn)

    # -- scans ----------------------------------------------------------------------------------

    def attachments_to_upload(self) -> list[tuple[str, int]]:
        """Return ``(sha256, size)`` of local attachments not yet known to be on the server."""
        return self._store.read(_attachments_to_upload)

    def mark_uploaded(self, sha256s: Sequence[str], at: str) -> None:
        """Remember attachments the server holds complete."""
        rows = [(s, at) for s in sha256s]
        self._store.write(
            lambda conn, ctx: conn.executemany(
                "INSERT INTO sync_uploads (sha256, uploaded_at) VALUES (?, ?) "
                "ON CONFLICT (sha256) DO NOTHING",
                rows,
            )
        )

    def attachment_content(self, sha256: str) -> bytes:
        """Return the decrypted content of an attachment."""
        return self._store.attachment_content(sha256)

    def has_attachment_content(self, sha256: str) -> bool:
        """Whether this device holds the content of ``sha256``."""
        return self._store.has_attachment_content(sha256)


def _open_conflicts(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) FROM sync_conflicts WHERE status = 'open'").fetchone()
    return int(row[0])


def _known_conflicts(conn: Connection) -> list[tuple[str, str, str]]:
    return [
        (str(a), str(b), str(c))
        for a, b, c in conn.execute(
            "SELECT conflict_id, change_id, status FROM sync_conflicts ORDER BY conflict_id"
        )
    ]


def _attachments_to_upload(conn: Connection) -> list[tuple[str, int]]:
    return [
        (str(sha), int(size))
        for sha, size in conn.execute(
            "SELECT sha256, max(size) FROM attachments WHERE sha256 NOT IN "
            "(SELECT sha256 FROM sync_uploads) GROUP BY sha256 ORDER BY min(created_at)"
        )
    ]
