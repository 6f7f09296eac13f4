"""The provincial sync server as a library: every capability the HTTP app and the CLI expose.

:class:`SyncServer` is a thin façade over the modules that do the work. It turns request bytes
into response bytes (``enrol``, ``sync``, ``attachments_missing``, ``upload_chunk``,
``attachment_offset``, and the console's ``enrol_operator`` and ``admin``) and offers the
administration calls of provincial IT that the command line makes (``issue_code``, ``devices``,
``revoke``, ``conflicts``, ``resolve``, ``stats``, and the console's actions: ``conflict``,
``resolve_choices``, ``duplicate``, ``decide_duplicate``, ``device_infos``, ``health``,
``dossier_stats``, ``history``, the operators). Errors a client caused are
:class:`server.errors.ApiError` with an HTTP status, a code and an English message.

Where the work is: :mod:`server.enrolment`, :mod:`server.auth` (opening a device's
envelope), :mod:`server.sync` (one round trip) over :mod:`server.push`,
:mod:`server.domain_conflicts` and :mod:`server.pull`, :mod:`server.changes` (record versions
and the change log), :mod:`server.attachments`, :mod:`server.administration`,
:mod:`server.resolutions`, :mod:`server.statistics`, :mod:`server.operators` and the console's
actions in :mod:`server.console`.

Nothing here logs personal data: log lines carry device ids, counts and statuses only.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from protocol.admin import (
    CommuneHealth,
    ConflictDetail,
    DeviceInfo,
    DuplicateDetail,
    RecordVersion,
    Resolved,
    StatsRow,
)
from protocol.keys import PrivateKeys
from server import administration, attachments, enrolment, operators, resolutions, statistics
from server import sync as sync_round
from server.console import conflicts as console_conflicts
from server.console import devices as console_devices
from server.console.dispatch import handle_admin
from server.console.duplicates import duplicate_detail
from server.console.history import record_history
from server.console.statistics import dossier_stats
from server.context import ServerContext
from server.queries.console import ConflictFilter
from server.rows import ConflictRow
from server.storage import Storage, Tx

__all__ = ["SyncServer"]

log = logging.getLogger("motcua.server")

T = TypeVar("T")


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

    def conflicts(
        self,
        status: str | None = "open",
        *,
        filters: Mapping[str, Any] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[ConflictRow]:
        """Return conflicts, oldest first: open ones by default (``None``: all).

        Args:
            status: ``open``, ``resolved``, or None for all.
            filters: ``conflicts.list`` filters (``commune``, ``procedure``, ``kind``,
                ``min_age_days``, ``max_age_days``), see :mod:`protocol.admin`.
            offset: conflicts to skip.
            limit: at most this many (None: all).
        """
        if not filters and not offset and limit is None:
            return administration.conflicts(self, status)
        args = {**(filters or {}), "status": status or "all"}
        f: ConflictFilter = console_conflicts.conflict_filter(args, self.clock())
        with self.storage.read() as tx:
            _total, rows = tx.conflict_page(f, offset=offset, limit=limit, newest_first=False)
        return [row.conflict for row in rows]

    def resolve(
        self,
        conflict_id: int,
        *,
        take: str | None = None,
        assignments: Mapping[str, Any] | None = None,
        reason: str,
    ) -> Resolved:
        """Resolve a conflict taking a side or setting values (:func:`server.resolutions.resolve`)."""
        return resolutions.resolve(
            self, conflict_id, take=take, assignments=assignments, reason=reason
        )

    def stats(self) -> dict[str, Any]:
        """Return sync health and counts (:func:`server.statistics.stats`)."""
        return statistics.stats(self)

    # --- the provincial IT console ----------------------------------------------------------

    def enrol_operator(self, body: bytes) -> bytes:
        """Handle ``POST /admin/enrol`` (:func:`server.operators.enrol_operator`)."""
        return operators.enrol_operator(self, body)

    def admin(self, body: bytes) -> bytes:
        """Handle ``POST /admin`` (:func:`server.console.dispatch.handle_admin`)."""
        return handle_admin(self, body)

    def _read(self, func: Callable[[Tx], T]) -> T:
        with self.storage.read() as tx:
            return func(tx)

    def _write(self, func: Callable[[Tx], T]) -> T:
        with self.storage.write() as tx:
            return func(tx)

    def issue_operator_code(self, name: str, ttl_hours: float = 72.0) -> dict[str, Any]:
        """Issue a one-time operator code (:func:`server.operators.issue_operator_code`)."""
        now = self.clock()
        return self._write(lambda tx: operators.issue_operator_code(tx, name, ttl_hours, now))

    def operators(self) -> list[dict[str, Any]]:
        """Return every operator as a JSON-ready dict (no keys)."""
        return [operators.operator_info(o) for o in self._read(lambda tx: tx.list_operators())]

    def revoke_operator(self, operator_id: str, reason: str) -> None:
        """Revoke an operator (:func:`server.operators.revoke_operator`)."""
        self._write(lambda tx: operators.revoke_operator(tx, operator_id, reason))

    def conflict(self, conflict_id: int) -> ConflictDetail:
        """Return one conflict side by side (``conflicts.get``)."""
        return self._read(lambda tx: console_conflicts.conflict_detail(tx, conflict_id))

    def resolve_choices(
        self,
        conflict_id: int,
        choices: Mapping[str, Mapping[str, Any]],
        reason: str,
        clerk: str = resolutions.RESOLVER_CLERK,
    ) -> Resolved:
        """Resolve a conflict field by field (``conflicts.resolve``)."""
        now = self.clock()
        return self._write(
            lambda tx: resolutions.resolve_choices(
                tx, self.keys, conflict_id, choices, reason=reason, clerk=clerk, now=now
            )
        )

    def duplicate(self, conflict_id: int) -> DuplicateDetail:
        """Return a suspected duplicate with its evidence (``duplicates.get``)."""
        return self._read(lambda tx: duplicate_detail(tx, conflict_id))

    def decide_duplicate(
        self, conflict_id: int, decision: str, reason: str, clerk: str = resolutions.RESOLVER_CLERK
    ) -> Resolved:
        """Keep both, or mark one the duplicate of the other (``duplicates.decide``)."""
        now = self.clock()
        return self._write(
            lambda tx: resolutions.decide_duplicate(
                tx, self.keys, conflict_id, decision, reason=reason, clerk=clerk, now=now
            )
        )

    def device_infos(self, commune: str | None = None) -> list[DeviceInfo]:
        """Return every device with its reports and counts (``devices.list``)."""
        return self._read(lambda tx: console_devices.device_infos(tx, commune))

    def health(self) -> list[CommuneHealth]:
        """Return every commune's sync health (``health.communes``)."""
        now = self.clock()
        return self._read(lambda tx: console_devices.commune_health(tx, now))

    def dossier_stats(
        self, period: str, since: str | None = None, until: str | None = None
    ) -> list[StatsRow]:
        """Return the dossier count cube (``stats.dossiers``)."""
        now = self.clock()
        return self._read(lambda tx: dossier_stats(tx, period, since, until, now))

    def history(self, entity_id: str) -> list[RecordVersion]:
        """Return every version of a record, oldest first (``records.history``)."""
        return self._read(lambda tx: record_history(tx, entity_id))
