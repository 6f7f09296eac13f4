"""The provincial sync server as a library: every capability the HTTP app and the CLI expose.

:class:`SyncServer` is a thin façade over the modules that do the work. It turns request bytes
into response bytes (``enrol``, ``sync``, ``attachments_missing``, ``upload_chunk``,
``attachment_offset``) and offers the administration calls of provincial IT (``issue_code``,
``devices``, ``revoke``, ``conflicts``, ``resolve``, ``stats``). Errors a client caused are
:class:`server.errors.ApiError` with an HTTP status, a code and an English message.

Where the work is: :mod:`server.enrolment`, :mod:`server.auth` (opening a device's
envelope), :mod:`server.sync` (one round trip) over :mod:`server.push`,
:mod:`server.domain_conflicts` and :mod:`server.pull`, :mod:`server.changes` (record versions
and the change log), :mod:`server.attachments`, :mod:`server.administration`,
:mod:`server.statistics`.

Nothing here logs personal data: log lines carry device ids, counts and statuses only.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from protocol.keys import PrivateKeys
from server import administration, attachments, enrolment, statistics
from server import sync as sync_round
from server.context import ServerContext
from server.rows import ConflictRow
from server.storage import Storage

__all__ = ["SyncServer"]

log = logging.getLogger("motcua.server")


class SyncServer(ServerContext):
    """The server's behaviour over a :class:`~server.storage.Storage`.

    Args:
        storage: the database.
        clock: returns the server time in Unix ms (tests may pass a fake).
    """

    @classmethod
    def open(cls, url: str, *, init: bool = False) -> SyncServer:
        """Open the server database at ``url`` (creating and migrating it when ``init``)."""
        server = cls(Storage(url))
        if init:
            server.init()
        return server

    # --- setup ----------------------------------------------------------------------------

    def init(self) -> dict[str, Any]:
        """Migrate the database and create the server keys and epoch if missing.

        Returns:
            ``{"migrations": [...applied now], "key_id", "epoch"}``.
        """
        applied = self.storage.migrate()
        with self.storage.write() as tx:
            if tx.get_meta("server_keys") is None:
                keys = PrivateKeys.generate()
                tx.set_meta("server_keys", base64.b64encode(keys.to_bytes()).decode("ascii"))
                tx.set_meta("created_at", str(self.clock()))
            if tx.get_meta("epoch") is None:
                tx.set_meta("epoch", uuid.uuid4().hex)
            epoch = tx.get_meta("epoch")
        return {"migrations": applied, "key_id": self.public_keys().key_id, "epoch": epoch}

    def epoch(self) -> str:
        """Return the current epoch id."""
        with self.storage.read() as tx:
            return tx.get_meta("epoch") or ""

    def new_epoch(self) -> str:
        """Start a new epoch (run after restoring the database from a backup); return it."""
        with self.storage.write() as tx:
            epoch = uuid.uuid4().hex
            tx.set_meta("epoch", epoch)
        log.info("new epoch started")
        return epoch

    # --- device requests (see the modules for what each raises) ---------------------------

    def enrol(self, body: bytes) -> bytes:
        """Handle ``POST /enrol`` (:func:`server.enrolment.enrol`)."""
        return enrolment.enrol(self, body)

    def sync(self, body: bytes) -> bytes:
        """Handle ``POST /sync`` (:func:`server.sync.sync`)."""
        return sync_round.sync(self, body)

    def attachments_missing(self, body: bytes) -> bytes:
        """Handle ``POST /attachments/missing`` (:func:`server.attachments.attachments_missing`)."""
        return attachments.attachments_missing(self, body)

    def upload_chunk(self, sha256: str, body: bytes) -> bytes:
        """Handle ``PATCH /attachments/<sha256>`` (:func:`server.attachments.upload_chunk`)."""
        return attachments.upload_chunk(self, sha256, body)

    def attachment_offset(
        self, sha256: str, method: str, path: str, headers: Mapping[str, str]
    ) -> int:
        """Handle ``HEAD /attachments/<sha256>`` (:func:`server.attachments.attachment_offset`)."""
        return attachments.attachment_offset(self, sha256, method, path, headers)

    # --- administration -------------------------------------------------------------------

    def issue_code(self, commune: str, ttl_hours: float = 72.0) -> str:
        """Issue a one-time enrolment code (:func:`server.enrolment.issue_code`)."""
        return enrolment.issue_code(self, commune, ttl_hours)

    def devices(self) -> list[dict[str, Any]]:
        """Return every device as a JSON-ready dict (:func:`server.administration.devices`)."""
        return administration.devices(self)

    def revoke(self, device_id: str, reason: str = "") -> None:
        """Revoke a device (:func:`server.administration.revoke`)."""
        administration.revoke(self, device_id, reason)

    def conflicts(self, status: str | None = "open") -> list[ConflictRow]:
        """Return conflicts, open ones by default (:func:`server.administration.conflicts`)."""
        return administration.conflicts(self, status)

    def resolve(
        self,
        conflict_id: int,
        *,
        take: str | None = None,
        assignments: Mapping[str, Any] | None = None,
        reason: str,
    ) -> dict[str, Any]:
        """Resolve a conflict (:func:`server.administration.resolve`)."""
        return administration.resolve(
            self, conflict_id, take=take, assignments=assignments, reason=reason
        )

    def stats(self) -> dict[str, Any]:
        """Return sync health and counts (:func:`server.statistics.stats`)."""
        return statistics.stats(self)
