"""The headless sync engine: enrol a device, push the outbox, pull the commune, upload scans.

One :meth:`SyncEngine.sync_once` signs the new audit entries, then makes a short series of
``POST /sync`` round trips (one when nothing is new, :mod:`desktop.sync.push_pull`), each
answer applied to the store in ONE transaction (``Store.sync``), then uploads scans
(:mod:`desktop.sync.uploads`), which never hold the records up. Requests go through the
sealed channel (:mod:`desktop.sync.channel`); enrolment is :mod:`desktop.sync.enrolment`.

The engine publishes a :class:`~desktop.sync.status.SyncStatus` to its subscribers (the UI's
indicator) and never touches a widget. It is safe to call from any one thread at a time;
:class:`~desktop.sync.scheduler.SyncScheduler` makes sure of that.

Typical use::

    engine = SyncEngine(store)
    engine.enrol("http://tinh.example:8080", "7K2QD-M4XTA")
    report = engine.sync_once()
    print(report.summary())
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.sync import enrolment
from desktop.sync.audit_signing import sign_new_audit_entries
from desktop.sync.channel import Channel
from desktop.sync.client import BatchSizer, HttpTransport, TransportError, TransportPolicy
from desktop.sync.enrolment import EnrolResult
from desktop.sync.errors import (
    MSG_UNEXPECTED,
    OFFLINE_CODES,
    EnrolmentError,
    NotEnrolled,
    SyncError,
)
from desktop.sync.push_pull import RecordSync
from desktop.sync.report import SyncAttempt, SyncReport
from desktop.sync.status import SyncState, SyncStatus
from desktop.sync.uploads import Uploader
from protocol import errors

if TYPE_CHECKING:
    from desktop.store.store import Store
    from desktop.store.sync_store import Change

log = logging.getLogger(__name__)

#: Sync attempts the engine remembers for the sync panel (this run of the app only).
HISTORY_SIZE = 50

__all__ = [
    "EnrolResult",
    "EnrolmentError",
    "NotEnrolled",
    "SyncEngine",
    "SyncError",
    "SyncReport",
]


class SyncEngine:
    """Sync one open store with the provincial server.

    Args:
        store: the open :class:`~desktop.store.store.Store` (the engine uses ``store.sync``).
        transport: the HTTP transport (default: one to the server address in the config).
        clock: this PC's clock in Unix seconds (tests skew it).
        policy: timeouts, retries and batch limits.
        sleep: how to wait between retries (tests pass a fake).
        rng: random source for backoff jitter.
        use_sessions: accept the server's offer of a session key (smaller quiet syncs).
    """

    def __init__(
        self,
        store: Store,
        *,
        transport: HttpTransport | None = None,
        clock: Callable[[], float] = time.time,
        policy: TransportPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        use_sessions: bool = True,
    ) -> None:
        """Load the device's identity from the store; nothing is sent yet."""
        self.store = store
        self.policy = policy or (transport.policy if transport else TransportPolicy())
        self.channel = Channel(
            store.sync,
            transport=transport,
            clock=clock,
            policy=self.policy,
            sleep=sleep,
            rng=rng,
            use_sessions=use_sessions,
        )
        self.sizer = BatchSizer(self.policy)
        self._records = RecordSync(self.channel, self.sizer)
        self._uploads = Uploader(self.channel)
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._subscribers_lock = threading.Lock()
        self._live: SyncState | None = None  # state of the current or last attempt
        self._attempts: deque[SyncAttempt] = deque(maxlen=HISTORY_SIZE)
        self._progress: float | None = None

    # -- identity ----------------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """This PC's clock in Unix seconds."""
        return self.channel.clock

    @property
    def sleep(self) -> Callable[[float], None]:
        """How the engine waits between retries."""
        return self.channel.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], None]) -> None:
        self.channel.sleep = sleep

    @property
    def enrolled(self) -> bool:
        """Whether the device has keys and a pinned server."""
        return self.channel.enrolled

    @property
    def server_url(self) -> str | None:
        """The provincial server this device talks to (the profile config's address)."""
        return self.store.sync.server_url

    @property
    def transport(self) -> HttpTransport:
        """The HTTP transport to the server.

        Raises:
            NotEnrolled: no server is known yet.
        """
        return self.channel.transport

    def printout_signer(self) -> Callable[[bytes], bytes]:
        """Return the device's Ed25519 signing function for the QR code on printouts.

        Before enrolment the device's future keys are made now, so a paper printed offline
        verifies later against the public key the province holds for this device.
        """
        return (self.channel.keys or enrolment.pending_keys(self.store.sync, None)).sign

    def enrol(self, server_url: str, code: str, *, label: str = "") -> EnrolResult:
        """Enrol this device with the provincial server using a one-time code.

        See :func:`desktop.sync.enrolment.enrol` for the arguments: the device makes its keys,
        proves the code, pins the server's keys and records the address in the profile config.

        Raises:
            EnrolmentError: a malformed, wrong, expired or used code; an unreachable server;
                an answer that does not prove knowledge of the code.
        """
        result = enrolment.enrol(self.channel, server_url, code, label=label)
        self._live = None
        self._publish()
        return result

    # -- status ------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` whenever the status changes (from the sync thread).

        The callback must be quick and must not touch widgets: post to a queue instead.

        Returns:
            A function that unsubscribes.
        """
        with self._subscribers_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._subscribers_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self) -> SyncStatus:
        status = self.status()
        with self._subscribers_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(status)
            except Exception:  # a broken subscriber must not break sync
                log.exception("sync status subscriber failed")
        return status

    def _progressed(self, fraction: float) -> None:
        self._progress = fraction
        self._publish()

    def status(self) -> SyncStatus:
        """Return the current sync status (reads the store; cheap)."""
        summary = self.store.sync.outbox_summary()
        state = self.store.sync.state()
        if not self.enrolled:
            current = SyncState.NOT_ENROLLED
        elif state.revoked:
            current = SyncState.REVOKED
        elif self._live is not None:
            current = self._live
        elif state.last_error:
            current = SyncState.OFFLINE if state.error_code in OFFLINE_CODES else SyncState.ERROR
        elif state.last_sync_at:
            current = SyncState.SYNCED
        else:
            current = SyncState.OFFLINE
        last_sync = None
        if state.last_sync_at:
            try:
                last_sync = dt.datetime.fromisoformat(state.last_sync_at)
            except ValueError:
                last_sync = None
        conflicts = state.conflicts_open
        if conflicts is None:
            conflicts = self.store.sync.open_conflicts()
        return SyncStatus(
            state=current,
            pending=summary.pending,
            conflicts=conflicts,
            rejected=summary.rejected,
            last_sync=last_sync,
            clock_offset_s=state.clock_offset,
            last_error=state.last_error,
            progress=self._progress if current is SyncState.SYNCING else None,
        )

    def needing_attention(self) -> list[Change]:
        """Return this PC's changes the server refused or holds as conflicts (newest first).

        They stay in the outbox until someone deals with them; the sync panel lists them.
        """
        return self.store.sync.changes_needing_attention()

    def known_conflicts(self) -> list[tuple[str, str, str]]:
        """Return ``(conflict id, change id, open|resolved)`` of every conflict this PC saw."""
        return self.store.sync.known_conflicts()

    # -- sync --------------------------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """Push pending changes, pull the commune's, then upload scans; return what moved.

        Never raises for network or server trouble: the report and the published status say
        what went wrong (and the outbox keeps everything for next time). A device the server
        revoked stays revoked, with provincial IT's reason, without asking again: only a
        fresh enrolment (:meth:`enrol`) brings it back.
        """
        with self._lock:
            started = time.monotonic()
            report = SyncReport()
            if not self.enrolled:
                report.state = SyncState.NOT_ENROLLED
                report.error, report.error_code = "this device is not enrolled", "not_enrolled"
                self._publish()
                return report
            stored = self.store.sync.state()
            if stored.revoked:
                report.state, report.error_code = SyncState.REVOKED, "revoked"
                report.error = "this device was revoked by provincial IT: enrol it again"
                report.clerk_error = stored.last_error
                self._attempts.append(
                    SyncAttempt(at=dt.datetime.now(), ok=False, message=report.clerk_summary())
                )
                self._publish()
                return report
            transport = self.transport
            before = (transport.requests_sent, transport.bytes_sent, transport.bytes_received)
            self._live, self._progress = SyncState.SYNCING, 0.0
            self._publish()
            try:
                self._sync(report)
            finally:
                report.requests = transport.requests_sent - before[0]
                report.bytes_up = transport.bytes_sent - before[1]
                report.bytes_down = transport.bytes_received - before[2]
                report.duration_s = time.monotonic() - started
                if self._live is SyncState.SYNCING:  # an unexpected exception escaped
                    self._live = SyncState.ERROR
                report.state = self._live or SyncState.ERROR
                self._progress = None
                self._attempts.append(
                    SyncAttempt(at=dt.datetime.now(), ok=report.ok, message=report.clerk_summary())
                )
                self._publish()
            return report

    def history(self, limit: int = HISTORY_SIZE) -> list[SyncAttempt]:
        """Return the last attempts of this run of the app, newest first (kept in memory)."""
        return list(self._attempts)[::-1][:limit]

    def _sync(self, report: SyncReport) -> None:
        """Sign the audit, sync records, then scans; a failure is recorded, not raised."""
        try:
            assert self.channel.keys is not None
            sign_new_audit_entries(self.store.sync, self.channel.keys)
            self._records.run(report, self._progressed)
            report.ok = True
            self._live = SyncState.SYNCED
            try:
                self._uploads.run(report)
            except (TransportError, SyncError, errors.EnvelopeError) as exc:
                report.attachment_error = str(exc)
        except SyncError as exc:
            self._fail(report, exc)
        except Exception as exc:  # a bug or a broken store: report it, keep the outbox
            log.exception("sync failed unexpectedly")
            self._fail(
                report,
                SyncError(f"unexpected error: {exc!r}", code="error", clerk_message=MSG_UNEXPECTED),
            )

    def _fail(self, report: SyncReport, exc: SyncError) -> None:
        report.error, report.error_code = str(exc), exc.code
        report.clerk_error = exc.clerk_message
        revoked = exc.code == "revoked"
        if revoked:
            self._live = SyncState.REVOKED
        else:
            self._live = SyncState.OFFLINE if exc.code in OFFLINE_CODES else SyncState.ERROR
        self.store.sync.record_failure(
            code=exc.code, clerk_message=exc.clerk_message, revoked=revoked
        )

    def head_offset(self, sha: str) -> int:
        """Ask the server how many bytes of a scan it holds (``HEAD``, signed headers)."""
        return self._uploads.head_offset(sha)

    def close(self) -> None:
        """Close the HTTP connections (the store stays open: it is the caller's)."""
        self.channel.close()
