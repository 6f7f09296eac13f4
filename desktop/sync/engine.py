"""The headless sync engine: enrol a device, push the outbox, pull the commune, upload scans.

One :meth:`SyncEngine.sync_once` is a short series of ``POST /sync`` round trips (one when
nothing is new): each request carries a batch of pending changes sized to the link, the pull
cursor and, when needed, a request for register-book number blocks; each answer is applied
to the store in ONE transaction (results, pulled page, cursor, epoch: see
``desktop.store.sync_local``). Attachments go after the records and never hold them up.

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

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from desktop.store import sync_local
from desktop.sync.client import (
    Backoff,
    BatchSizer,
    ConnectionFailed,
    HttpError,
    HttpTransport,
    TransportError,
    TransportPolicy,
    TransportTimeout,
    retry_call,
)
from desktop.sync.status import SyncState, SyncStatus
from protocol import enrolment, envelope, errors, limits, sealing, wire
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys, PublicKeys, b64d, b64e

if TYPE_CHECKING:
    from desktop.store.outbox import Change
    from desktop.store.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "EnrolResult",
    "EnrolmentError",
    "NotEnrolled",
    "SyncEngine",
    "SyncError",
    "SyncReport",
]

#: Pending changes read from the outbox per round (a batch is cut from these by size).
OUTBOX_WINDOW = 5000
#: A sync stops after this many round trips even if the server says ``more`` (next time goes on).
MAX_ROUNDS = 200
#: Estimated compressed bytes of one pulled change, to size the pull page to the budget.
PULLED_CHANGE_BYTES = 400
#: Ask the server for a new block of book numbers when fewer than this many are left.
BOOK_LOW_WATER = 20
_META_PENDING_KEYS = "sync.enrol_keys"

# Messages for the clerk (the status indicator shows them as they are).
MSG_OFFLINE = "Không kết nối được máy chủ tỉnh. Hồ sơ vẫn được lưu trên máy và sẽ tự đồng bộ lại."
MSG_TIMEOUT = "Máy chủ tỉnh không trả lời kịp (đường truyền chậm). Sẽ tự thử lại."
MSG_REVOKED = "Máy này đã bị thu hồi quyền đồng bộ. Hãy liên hệ CNTT tỉnh để đăng ký lại."
MSG_CLONED = (
    "Máy chủ phát hiện hai máy dùng chung một danh tính. Hãy liên hệ CNTT tỉnh để đăng ký lại."
)
MSG_BAD_ANSWER = "Phản hồi của máy chủ không hợp lệ (có thể bị giả mạo). Hãy báo CNTT tỉnh."
MSG_SERVER = "Máy chủ tỉnh đang gặp lỗi ({status}). Sẽ tự thử lại."
MSG_REFUSED = "Máy chủ tỉnh từ chối yêu cầu: {message}"
MSG_NOT_ENROLLED = "Máy chưa đăng ký với máy chủ tỉnh."
MSG_UNEXPECTED = (
    "Đồng bộ gặp lỗi không lường trước. Dữ liệu vẫn an toàn trên máy; hãy báo CNTT tỉnh."
)


class SyncError(Exception):
    """Sync could not be done; the message is English, ``clerk_message`` Vietnamese.

    Attributes:
        code: a machine-readable reason (``offline``, ``timeout``, ``revoked``, …).
        clerk_message: the same in plain Vietnamese, for the status indicator.
    """

    def __init__(self, message: str, *, code: str = "error", clerk_message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.clerk_message = clerk_message or message


class NotEnrolled(SyncError):
    """The device has no keys or server yet: run ``enrol`` first."""


class EnrolmentError(SyncError):
    """Enrolment failed (wrong, expired or used code; unreachable or untrusted server)."""


@dataclasses.dataclass(frozen=True)
class EnrolResult:
    """A successful enrolment.

    Attributes:
        device_id: this device's id (as the server knows it).
        commune: the commune it is enrolled for.
        server_url: the server it talks to.
        server_key_id: the id of the pinned server keys.
        epoch: the server's epoch at enrolment.
        clock_offset_s: server time minus local time, seconds.
    """

    device_id: str
    commune: str
    server_url: str
    server_key_id: str
    epoch: str
    clock_offset_s: float


@dataclasses.dataclass
class SyncReport:
    """What one :meth:`SyncEngine.sync_once` moved.

    Attributes:
        ok: the records part finished (pushed what it could, pulled to the end).
        state: the state the engine ended in.
        pushed: changes the server answered with a final status.
        applied, merged, conflicts, rejected: those answers by status.
        deferred: changes the server deferred (sent again next round).
        pulled: remote changes applied locally.
        restored_fields: local values replaced by the server's after a conflict.
        new_conflicts: conflict ids this device saw for the first time.
        resolved: conflicts this device learned were resolved.
        requeued: changes queued again because the server lost them (restore).
        epoch_changed: the server's epoch changed (it was restored).
        blocks: book-number blocks received.
        attachments_uploaded: scans now complete on the server.
        attachment_bytes: scan bytes sent (a chunk re-sent after a cut counts twice).
        attachment_error: why scans could not be sent, if so (records are unaffected).
        requests: HTTP requests made.
        bytes_up: bytes sent (bodies).
        bytes_down: bytes received (bodies).
        rounds: ``/sync`` round trips.
        clock_offset_s: server time minus local time, seconds.
        error: why the sync failed (English), if it did.
        error_code: a machine-readable reason, if it failed.
        duration_s: wall time.
    """

    ok: bool = False
    state: SyncState = SyncState.SYNCING
    pushed: int = 0
    applied: int = 0
    merged: int = 0
    conflicts: int = 0
    rejected: int = 0
    deferred: int = 0
    pulled: int = 0
    restored_fields: int = 0
    new_conflicts: list[str] = dataclasses.field(default_factory=list)
    resolved: int = 0
    requeued: int = 0
    epoch_changed: bool = False
    blocks: int = 0
    attachments_uploaded: int = 0
    attachment_bytes: int = 0
    attachment_error: str | None = None
    requests: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    rounds: int = 0
    clock_offset_s: float | None = None
    error: str | None = None
    error_code: str | None = None
    duration_s: float = 0.0

    def summary(self) -> str:
        """Return what moved, in one or two English lines (for ``motcua sync``)."""
        lines = [
            f"pushed {self.pushed} (applied {self.applied}, merged {self.merged}, "
            f"conflict {self.conflicts}, rejected {self.rejected}); pulled {self.pulled}; "
            f"{self.requests} request(s), {self.bytes_up} B up, {self.bytes_down} B down"
        ]
        extra = []
        if self.attachments_uploaded or self.attachment_error:
            extra.append(f"scans uploaded {self.attachments_uploaded}")
        if self.attachment_error:
            extra.append(f"scans not sent: {self.attachment_error}")
        if self.new_conflicts:
            extra.append(f"new conflicts {len(self.new_conflicts)}")
        if self.resolved:
            extra.append(f"conflicts resolved {self.resolved}")
        if self.epoch_changed or self.requeued:
            extra.append(f"server was restored: {self.requeued} change(s) sent again")
        if self.blocks:
            extra.append(f"book number blocks {self.blocks}")
        if self.clock_offset_s is not None and abs(self.clock_offset_s) > SyncStatus.SKEW_LIMIT_S:
            extra.append(f"clock off by {self.clock_offset_s:+.0f} s")
        if self.error:
            extra.append(f"error: {self.error}")
        if extra:
            lines.append("; ".join(extra))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data


class _Session:
    """A symmetric session the server offered (saves the 1.1 KB hybrid KEM per request)."""

    def __init__(self, session_id: str, key: bytes, expires_at: float) -> None:
        self.session_id = session_id
        self.key = key
        self.expires_at = expires_at

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.session_id, "key": b64e(self.key), "expires_at": self.expires_at}
        )

    @classmethod
    def from_json(cls, text: str | None) -> _Session | None:
        if not text:
            return None
        try:
            obj = json.loads(text)
            key = base64.urlsafe_b64decode(obj["key"] + "=" * (-len(obj["key"]) % 4))
            return cls(str(obj["id"]), key, float(obj["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None


class SyncEngine:
    """Sync one open store with the provincial server.

    Args:
        store: the open :class:`~desktop.store.store.Store`.
        transport: the HTTP transport (default: one to the enrolled server URL).
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
        self.store = store
        self.policy = policy or (transport.policy if transport else TransportPolicy())
        self._transport = transport
        self.clock = clock
        self.sleep = sleep
        self.backoff = Backoff(self.policy.backoff_base_s, self.policy.backoff_max_s, rng)
        self.sizer = BatchSizer(self.policy)
        self.use_sessions = use_sessions
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._subscribers_lock = threading.Lock()
        self._live: SyncState | None = None  # state of the current or last attempt
        self._progress: float | None = None
        self._compression = 0.35  # compressed / raw bytes of changes, learned per batch
        self._keys: PrivateKeys | None = None
        self._server_keys: PublicKeys | None = None
        self._session: _Session | None = None
        self._load_identity()

    # -- identity ----------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        return self.store.read(lambda conn: sync_local.get_meta(conn, key))

    def _load_identity(self) -> None:
        device_keys = self._meta(sync_local.META_DEVICE_KEYS)
        server_keys = self._meta(sync_local.META_SERVER_KEYS)
        if device_keys and server_keys:
            try:
                self._keys = PrivateKeys.from_bytes(base64.b64decode(device_keys))
                self._server_keys = PublicKeys.from_json(json.loads(server_keys))
            except (KeyError_, ValueError):
                log.error("stored sync keys are unreadable; the device must enrol again")
                self._keys = self._server_keys = None
        self._session = _Session.from_json(self._meta(sync_local.META_SESSION))

    @property
    def enrolled(self) -> bool:
        """Whether the device has keys and a pinned server."""
        return self._keys is not None and self._server_keys is not None

    @property
    def server_url(self) -> str | None:
        """The provincial server this device is enrolled with."""
        return self._meta(sync_local.META_SERVER_URL)

    @property
    def transport(self) -> HttpTransport:
        """The HTTP transport to the enrolled server.

        Raises:
            NotEnrolled: no server is known yet.
        """
        if self._transport is None:
            url = self.server_url
            if not url:
                raise NotEnrolled(
                    "this device is not enrolled",
                    code="not_enrolled",
                    clerk_message=MSG_NOT_ENROLLED,
                )
            self._transport = HttpTransport(url, policy=self.policy)
        return self._transport

    # -- enrolment ---------------------------------------------------------------------------

    def _pending_keys(self) -> PrivateKeys:
        """Return the keys enrolment will register: pending ones, the enrolled ones, or new.

        New keys are saved (inside the encrypted store) before anything is sent, so a retry
        after a lost answer, or a printout signed before enrolment, uses the same keys.
        """
        pending = self._meta(_META_PENDING_KEYS)
        if pending:
            return PrivateKeys.from_bytes(base64.b64decode(pending))
        if self._keys is not None:
            return self._keys
        keys = PrivateKeys.generate()
        encoded = base64.b64encode(keys.to_bytes()).decode("ascii")
        self.store.write(lambda conn, ctx: sync_local.set_meta(conn, _META_PENDING_KEYS, encoded))
        return keys

    def printout_signer(self) -> Callable[[bytes], bytes]:
        """Return the device's Ed25519 signing function for the QR code on printouts.

        Before enrolment the device's future keys are made now, so a paper printed offline
        verifies later against the public key the province holds for this device.
        """
        return (self._keys or self._pending_keys()).sign

    def enrol(self, server_url: str, code: str, *, label: str = "") -> EnrolResult:
        """Enrol this device with the provincial server using a one-time code.

        The device generates its Ed25519 and hybrid HPKE keys, proves it holds the code
        without sending it, checks the server's answer with the code, and pins the server's
        keys. The keys are kept inside the encrypted store before the request goes out, so a
        lost answer can be retried with the same keys.

        Args:
            server_url: e.g. ``http://10.15.0.2:8080``.
            code: the code provincial IT gave (``ABCDE-FGHJK``; case and dashes do not matter).
            label: a name for this PC shown to provincial IT (no personal data).

        Returns:
            What was pinned.

        Raises:
            EnrolmentError: a malformed, wrong, expired or used code; an unreachable server;
                an answer that does not prove knowledge of the code.
        """
        try:
            enrolment.normalize_code(code)
        except errors.WireError as exc:
            raise EnrolmentError(
                str(exc), code="bad_code", clerk_message="Mã đăng ký phải gồm 10 chữ và số."
            ) from exc
        url = server_url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise EnrolmentError(
                "the server URL must start with http:// or https://",
                code="bad_url",
                clerk_message="Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https://.",
            )
        device_id, commune = self.store.device_id, self.store.commune
        # Reuse keys when the server may already know them: a retry after a lost answer (keys
        # saved before sending), or enrolling again with the same keys (e.g. a new address).
        keys = self._pending_keys()
        public = keys.public()
        body = {
            "device_id": device_id,
            "commune": commune,
            "keys": public.to_json(),
            "label": label[:100],
            "proof": enrolment.enrol_proof(code, device_id, commune, public),
        }
        transport = HttpTransport(url, policy=self.policy)
        sent_at = self.clock()
        try:
            reply = retry_call(
                lambda n: transport.post(
                    wire.PATH_ENROL, wire.canonical_json(body), content_type="application/json"
                ),
                backoff=self.backoff,
                max_attempts=self.policy.max_attempts,
                sleep=self.sleep,
            )
        except HttpError as exc:
            transport.close()
            raise EnrolmentError(
                f"enrolment refused: {exc.message}",
                code=exc.code or "refused",
                clerk_message=f"Máy chủ tỉnh từ chối đăng ký: {_vi_enrol_reason(exc.message)}",
            ) from exc
        except TransportError as exc:
            transport.close()
            raise EnrolmentError(
                f"cannot reach {url}: {exc}", code="offline", clerk_message=MSG_OFFLINE
            ) from exc
        received_at = self.clock()
        try:
            payload, server = _open_enrol_answer(reply.body, keys, code)
        except SyncError:
            transport.close()
            raise
        if payload.get("device_id") != device_id or payload.get("commune") != commune:
            raise EnrolmentError(
                "the server answered for another device",
                code="bad_answer",
                clerk_message=MSG_BAD_ANSWER,
            )
        server_time = int(payload.get("server_time") or 0)
        offset = server_time / 1000 - (sent_at + received_at) / 2 if server_time else 0.0
        epoch = str(payload.get("epoch") or "")
        enrolled_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        values = {
            sync_local.META_DEVICE_KEYS: base64.b64encode(keys.to_bytes()).decode("ascii"),
            sync_local.META_SERVER_KEYS: json.dumps(server.to_json()),
            sync_local.META_SERVER_URL: url,
            sync_local.META_ENROLLED_AT: enrolled_at,
            sync_local.META_REVOKED: None,
            sync_local.META_SESSION: None,
            sync_local.META_CURSOR: "",
            _META_PENDING_KEYS: None,
        }

        def save(conn: Any, ctx: Any) -> None:
            sync_local.set_many(conn, values)
            from desktop.store import replica

            replica.update_sync_state(
                conn, server_epoch=epoch or None, clock_offset=offset, last_error=None, cursor=0
            )

        self.store.write(save)
        try:
            self.store.update_config(server_url=url)
        except Exception:  # config.json is a convenience; the store holds the truth
            log.warning("could not record the server URL in config.json")
        if self._transport is not None:
            self._transport.close()
        self._transport = transport
        self._keys, self._server_keys, self._session = keys, server, None
        self._live = None
        self._publish()
        return EnrolResult(device_id, commune, url, server.key_id, epoch, offset)

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

    def status(self) -> SyncStatus:
        """Return the current sync status (reads the store; cheap)."""

        def read(conn: Any) -> tuple[Any, ...]:
            from desktop.store import outbox, replica

            return (
                outbox.outbox_summary(conn),
                replica.get_sync_state(conn),
                sync_local.get_meta(conn, sync_local.META_REVOKED),
                sync_local.get_meta(conn, sync_local.META_CONFLICTS_OPEN),
                sync_local.open_conflicts(conn),
                sync_local.get_meta(conn, sync_local.META_ERROR_CODE),
            )

        summary, state, revoked, conflicts_open, local_conflicts, error_code = self.store.read(read)
        if not self.enrolled:
            current = SyncState.NOT_ENROLLED
        elif revoked:
            current = SyncState.REVOKED
        elif self._live is not None:
            current = self._live
        elif state.last_error:
            offline = error_code in ("offline", "timeout")
            current = SyncState.OFFLINE if offline else SyncState.ERROR
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
        conflicts = int(conflicts_open) if conflicts_open is not None else local_conflicts
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
        changes = self.store.all_changes()
        flagged = [c for c in changes if c.server_status in ("conflict", "rejected")]
        return sorted(flagged, key=lambda c: c.device_seq, reverse=True)

    def known_conflicts(self) -> list[tuple[str, str, str]]:
        """Return ``(conflict id, change id, open|resolved)`` of every conflict this PC saw."""
        return self.store.read(sync_local.conflict_ids)

    # -- sync --------------------------------------------------------------------------------

    def sync_once(self) -> SyncReport:
        """Push pending changes, pull the commune's, then upload scans; return what moved.

        Never raises for network or server trouble: the report and the published status say
        what went wrong (and the outbox keeps everything for next time).
        """
        with self._lock:
            started = time.monotonic()
            report = SyncReport()
            if not self.enrolled:
                report.state = SyncState.NOT_ENROLLED
                report.error, report.error_code = "this device is not enrolled", "not_enrolled"
                self._publish()
                return report
            transport = self.transport
            before = (transport.requests_sent, transport.bytes_sent, transport.bytes_received)
            self._live, self._progress = SyncState.SYNCING, 0.0
            self._publish()
            try:
                self._sign_audit()
                self._sync_records(report)
                report.ok = True
                self._live = SyncState.SYNCED
                try:
                    self._sync_attachments(report)
                except (TransportError, SyncError, errors.EnvelopeError) as exc:
                    report.attachment_error = str(exc)
            except SyncError as exc:
                self._fail(report, exc)
            except Exception as exc:  # a bug or a broken store: report it, keep the outbox
                log.exception("sync failed unexpectedly")
                self._fail(
                    report,
                    SyncError(
                        f"unexpected error: {exc!r}",
                        code="error",
                        clerk_message=MSG_UNEXPECTED,
                    ),
                )
            finally:
                report.requests = transport.requests_sent - before[0]
                report.bytes_up = transport.bytes_sent - before[1]
                report.bytes_down = transport.bytes_received - before[2]
                report.duration_s = time.monotonic() - started
                if self._live is SyncState.SYNCING:  # an unexpected exception escaped
                    self._live = SyncState.ERROR
                report.state = self._live or SyncState.ERROR
                self._progress = None
                self._publish()
            return report

    def _sign_audit(self) -> None:
        """Sign the audit chain's new entries with the device key (one signature per sync).

        Whoever holds the device's public key (the server pinned it at enrolment) can then
        tell whether the local audit log was rewritten after the fact.
        """
        keys = self._keys
        if keys is None:
            return
        key_id = keys.public().key_id
        device_id = self.store.device_id

        def sign(conn: Any, ctx: Any) -> None:
            todo = sync_local.audit_range_to_sign(conn)
            if todo is None:
                return
            first, last, head = todo
            message = sync_local.audit_message(device_id, first, last, head)
            sync_local.record_audit_signature(
                conn,
                first=first,
                last=last,
                key_id=key_id,
                signature=b64e(keys.sign(message)),
                signed_at=ctx.timestamp(),
            )

        self.store.write(sign)

    def _fail(self, report: SyncReport, exc: SyncError) -> None:
        report.error, report.error_code = str(exc), exc.code
        self._live = SyncState.OFFLINE if exc.code in ("offline", "timeout") else SyncState.ERROR
        values: dict[str, Any] = {sync_local.META_ERROR_CODE: exc.code}
        if exc.code == "revoked":
            self._live = SyncState.REVOKED
            values[sync_local.META_REVOKED] = "1"
        message = exc.clerk_message

        def save(conn: Any, ctx: Any) -> None:
            from desktop.store import replica

            replica.update_sync_state(conn, last_error=message)
            sync_local.set_many(conn, values)

        self.store.write(save)

    def _sync_records(self, report: SyncReport) -> None:
        want_blocks = self._blocks_wanted()
        total = max(1, self.store.outbox_summary().pending)
        for _round in range(MAX_ROUNDS):
            pending = self.store.pending_changes(limit=OUTBOX_WINDOW)
            response, pushed = self._round_trip(pending, want_blocks)
            want_blocks = []
            report.rounds += 1
            outcome = self._apply(response, report)
            self._progress = min(0.99, (report.pushed + report.deferred) / total)
            self._publish()
            more_to_push = len(pending) > len(pushed) or bool(outcome.requeued)
            if outcome.deferred and not outcome.requeued and not response.get("more"):
                # The server lacks an earlier change it has not told us about: stop for now.
                more_to_push = False
            if not (response.get("more") or more_to_push or response.get("reset")):
                return
        log.info("sync stopped after %d rounds; the next sync continues", MAX_ROUNDS)

    def _blocks_wanted(self) -> list[dict[str, Any]]:
        try:
            from desktop.forms.procedures import all_procedures

            book_types = sorted({p.book_type for p in all_procedures() if p.book_type})
        except Exception:  # forms not importable: no blocks, numbering stays local
            return []
        year = dt.date.fromtimestamp(self.clock()).year
        held = self.store.book_blocks()
        wanted = []
        for book_type in book_types:
            mine = [b for b in held if b.book_type == book_type and b.year == year]
            left = sum(b.remaining for b in mine if b.source == "server")
            if left < BOOK_LOW_WATER:
                after = max((b.end for b in mine), default=0)
                wanted.append({"book_type": book_type, "year": year, "after": after})
        return wanted

    def _choose_batch(self, pending: Sequence[Change]) -> tuple[list[Change], list[dict[str, Any]]]:
        """Cut a batch from the front of the outbox that fits the current budget."""
        budget = self.sizer.budget
        batch: list[Change] = []
        wire_changes: list[dict[str, Any]] = []
        estimate = 0.0
        for change in pending:
            item = change.to_wire()
            size = len(wire.canonical_json(item)) * self._compression
            if batch and estimate + size > budget:
                break
            batch.append(change)
            wire_changes.append(item)
            estimate += size
            if len(batch) >= limits.MAX_CHANGES_PER_REQUEST:
                break
        return batch, wire_changes

    def _round_trip(
        self, pending: Sequence[Change], want_blocks: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[Change]]:
        """Send one ``/sync`` (with retries, re-sealed each time); return answer and batch."""
        chosen: list[Change] = []

        def attempt(n: int) -> dict[str, Any]:
            nonlocal chosen
            chosen, wire_changes = self._choose_batch(pending)
            message: dict[str, Any] = {
                "cursor": self._cursor(),
                "changes": wire_changes,
                "limit": max(
                    50, min(limits.MAX_PULL_LIMIT, self.sizer.budget // PULLED_CHANGE_BYTES)
                ),
                "want_blocks": want_blocks,
                "epoch": self.store.sync_state().server_epoch,
            }
            seqs = [c.device_seq for c in chosen]
            seq_range = (min(seqs), max(seqs)) if seqs else None
            raw = len(wire.canonical_json(wire_changes)) if wire_changes else 0
            response, sealed_size = self._call(
                wire.PATH_SYNC, message, seq_range=seq_range, expect=self.sizer.budget
            )
            if raw > 2000:
                self._compression = max(0.05, min(1.0, sealed_size / raw))
            return response

        def failed(n: int, exc: TransportError) -> None:
            if isinstance(exc, TransportTimeout):
                self.sizer.timeout()
            log.info("sync attempt %d failed: %s", n + 1, exc)

        try:
            response = retry_call(
                attempt,
                backoff=self.backoff,
                max_attempts=self.policy.max_attempts,
                sleep=self.sleep,
                on_failure=failed,
            )
        except TransportError as exc:
            raise _as_sync_error(exc) from exc
        self.sizer.success()
        return response, chosen

    def _cursor(self) -> str:
        return self._meta(sync_local.META_CURSOR) or ""

    def _call(
        self,
        path: str,
        message: dict[str, Any] | bytes,
        *,
        seq_range: tuple[int, int] | None = None,
        expect: int = 0,
        extra: dict[str, Any] | None = None,
        method: str = "POST",
    ) -> tuple[dict[str, Any], int]:
        """Seal ``message``, send it, verify and open the answer; return it and the sent size.

        Uses the session when one is open; an expired session is dropped and the request
        sealed again with HPKE at once.

        Raises:
            TransportError: the request failed (the caller retries).
            SyncError: the answer could not be verified (not retried).
        """
        assert self._keys is not None and self._server_keys is not None
        raw = message if isinstance(message, bytes) else None
        for _ in range(2):
            session = self._session
            if session is not None and session.expires_at <= self.clock() + 60:
                session = None
            offer = self.use_sessions and session is None and raw is None and path == wire.PATH_SYNC
            if isinstance(message, bytes):
                payload = message
            else:
                payload = wire.canonical_json({**message, "session": offer})
            sealed = sealing.seal_request(
                payload,
                device_id=self.store.device_id,
                device_keys=self._keys,
                server_keys=self._server_keys if session is None else None,
                session=(session.session_id, session.key) if session is not None else None,
                seq_range=seq_range,
                compress=raw is None,
                extra=extra,
                created_at_ms=int(self.clock() * 1000),
            )
            sent_at = self.clock()
            try:
                reply = self.transport.request(
                    method, path, sealed.data, expected_response_bytes=expect
                )
            except HttpError as exc:
                if exc.status == 401 and exc.code == errors.ERR_SESSION and session is not None:
                    self._set_session(None)
                    continue
                raise
            received_at = self.clock()
            try:
                header, body = sealing.open_response(
                    reply.body, request=sealed, server_keys=self._server_keys
                )
                answer = wire.loads(body)
            except (errors.EnvelopeError, errors.WireError) as exc:
                raise SyncError(
                    f"the server's answer failed verification: {exc}",
                    code="bad_answer",
                    clerk_message=MSG_BAD_ANSWER,
                ) from exc
            if not isinstance(answer, dict):
                raise SyncError(
                    "the server's answer is not an object",
                    code="bad_answer",
                    clerk_message=MSG_BAD_ANSWER,
                )
            answer["_rtt_midpoint"] = (sent_at + received_at) / 2
            offered = answer.get("session")
            if offer and isinstance(offered, dict) and offered.get("id"):
                key = sealing.derive_session_key(sealed.response_key, str(offered["id"]))
                ttl = float(offered.get("ttl_s") or 3600)
                self._set_session(_Session(str(offered["id"]), key, self.clock() + ttl))
            return answer, len(sealed.data)
        raise TransportError("the server refused the session twice")  # pragma: no cover

    def _set_session(self, session: _Session | None) -> None:
        self._session = session
        text = session.to_json() if session is not None else None
        self.store.write(lambda conn, ctx: sync_local.set_meta(conn, sync_local.META_SESSION, text))

    def _apply(self, response: Mapping[str, Any], report: SyncReport) -> sync_local.PageOutcome:
        server_time = response.get("server_time")
        offset = None
        if isinstance(server_time, int | float) and server_time > 0:
            offset = server_time / 1000 - float(response.get("_rtt_midpoint") or self.clock())
            report.clock_offset_s = offset
        changes = [c for c in response.get("changes") or () if isinstance(c, dict)]
        self._check_resolutions(changes)
        page = sync_local.SyncPage(
            results=[r for r in response.get("results") or () if isinstance(r, dict)],
            changes=changes,
            cursor=str(response.get("cursor") or ""),
            epoch=str(response["epoch"]) if response.get("epoch") else None,
            max_device_seq=int(response.get("max_device_seq") or 0),
            reset=bool(response.get("reset")),
            blocks=[b for b in response.get("blocks") or () if isinstance(b, dict)],
            clock_offset_s=offset,
            skew_flagged=bool(response.get("skew_flagged")),
            conflicts_open=response.get("conflicts_open"),
            synced_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        )
        outcome: sync_local.PageOutcome = self.store.write(
            lambda conn, ctx: sync_local.apply_sync_page(conn, ctx, page)
        )
        names = {"applied": "applied", "merged": "merged", "conflict": "conflicts"}
        names["rejected"] = "rejected"
        for status, count in outcome.statuses.items():
            name = names[status]
            setattr(report, name, getattr(report, name) + count)
            report.pushed += count
        report.deferred += outcome.deferred
        report.pulled += outcome.pulled
        report.requeued += outcome.requeued
        report.epoch_changed = report.epoch_changed or outcome.epoch_changed or page.reset
        report.restored_fields += outcome.restored_fields
        report.new_conflicts.extend(outcome.new_conflicts)
        report.resolved += outcome.resolved
        report.blocks += outcome.blocks_added
        return outcome

    def _check_resolutions(self, changes: Sequence[Mapping[str, Any]]) -> None:
        """Refuse a page whose resolutions are not signed by the pinned server key.

        The answer as a whole is signed already; the per-change signature is what lets a
        resolution be checked later, wherever it is kept, so a bad one is not let in.

        Raises:
            SyncError: a resolution without a valid server signature.
        """
        assert self._server_keys is not None
        for change in changes:
            if change.get("kind") != "resolution":
                continue
            signature = change.get("signature")
            try:
                valid = isinstance(signature, str) and self._server_keys.verify(
                    b64d(signature), wire.resolution_message(dict(change))
                )
            except KeyError_:
                valid = False
            if not valid:
                raise SyncError(
                    f"resolution {change.get('change_id')} is not signed by the server",
                    code="bad_answer",
                    clerk_message=MSG_BAD_ANSWER,
                )

    # -- attachments -------------------------------------------------------------------------

    def _sync_attachments(self, report: SyncReport) -> None:
        """Upload scans the server lacks, resuming from its acknowledged offset."""
        todo = self.store.read(sync_local.attachments_to_upload)
        if not todo:
            return
        sizes = dict(todo)
        answer = self._retrying(
            lambda n: self._call(wire.PATH_ATTACHMENTS_MISSING, {"hashes": list(sizes)})[0]
        )
        missing = {
            str(m["sha256"]): int(m.get("offset") or 0)
            for m in answer.get("missing") or ()
            if isinstance(m, dict) and m.get("sha256") in sizes
        }
        done = [sha for sha in sizes if sha not in missing]
        stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        if done:
            self._mark_uploaded(done, stamp)
            report.attachments_uploaded += len(done)
        for sha, offset in missing.items():
            if not self.store.has_attachment_content(sha):
                continue  # metadata pulled from another device; the content is not here
            self._upload(sha, offset, report)
            self._mark_uploaded([sha], stamp)
            report.attachments_uploaded += 1

    def _mark_uploaded(self, hashes: list[str], stamp: str) -> None:
        self.store.write(lambda conn, ctx: sync_local.mark_uploaded(conn, hashes, stamp))

    def _upload(self, sha: str, offset: int, report: SyncReport) -> None:
        content = self.store.attachment_content(sha)
        size = len(content)
        path = wire.PATH_ATTACHMENTS + sha
        while offset < size:
            chunk = content[offset : offset + limits.CHUNK_BYTES]
            extra = {"a": sha, "o": offset, "n": size, "c": hashlib.sha256(chunk).hexdigest()}

            def send(n: int, c: bytes = chunk, x: dict[str, Any] = extra) -> dict[str, Any]:
                report.attachment_bytes += len(c)  # counted per attempt: re-sends show
                return self._call(path, c, extra=x, method="PATCH", expect=256)[0]

            try:
                answer = self._retrying(send)
            except HttpError as exc:
                if exc.code == errors.ERR_OFFSET and isinstance(exc.body.get("offset"), int):
                    # The chunk's answer was lost on the way back, or the server holds less
                    # than we thought: go on from the offset the server acknowledged.
                    offset = int(exc.body["offset"])
                    continue
                raise
            new_offset = int(answer.get("offset") or 0)
            if answer.get("complete"):
                return
            if new_offset <= offset:
                raise SyncError(f"the server did not accept the chunk at {offset}", code="upload")
            offset = new_offset

    def head_offset(self, sha: str) -> int:
        """Ask the server how many bytes of a scan it holds (``HEAD``, signed headers)."""
        assert self._keys is not None
        path = wire.PATH_ATTACHMENTS + sha
        time_ms = int(self.clock() * 1000)
        device_id = self.store.device_id
        signature = self._keys.sign(
            wire.signed_request_message("HEAD", path, b"", time_ms, device_id)
        )
        reply = self.transport.request(
            "HEAD",
            path,
            headers={
                wire.HEADER_DEVICE: device_id,
                wire.HEADER_TIME: str(time_ms),
                wire.HEADER_SIGNATURE: b64e(signature),
            },
        )
        return int(reply.headers.get(wire.HEADER_UPLOAD_OFFSET) or 0)

    def _retrying(self, attempt: Callable[[int], Any]) -> Any:
        """Run ``attempt`` with backoff; HTTP refusals pass through, the rest become SyncError."""
        try:
            return retry_call(
                attempt,
                backoff=self.backoff,
                max_attempts=self.policy.max_attempts,
                sleep=self.sleep,
            )
        except HttpError:
            raise
        except TransportError as exc:
            raise _as_sync_error(exc) from exc

    def close(self) -> None:
        """Close the HTTP connections (the store stays open: it is the caller's)."""
        if self._transport is not None:
            self._transport.close()


def _as_sync_error(exc: TransportError) -> SyncError:
    """Translate a transport failure into a SyncError with a message for the clerk."""
    if isinstance(exc, TransportTimeout):
        return SyncError(str(exc), code="timeout", clerk_message=MSG_TIMEOUT)
    if isinstance(exc, ConnectionFailed):
        return SyncError(str(exc), code="offline", clerk_message=MSG_OFFLINE)
    if isinstance(exc, HttpError):
        if exc.code == errors.ERR_REVOKED:
            return SyncError(exc.message, code="revoked", clerk_message=MSG_REVOKED)
        if exc.code == errors.ERR_CLONED:
            return SyncError(exc.message, code="cloned", clerk_message=MSG_CLONED)
        if exc.code == errors.ERR_UNKNOWN_DEVICE:
            return SyncError(exc.message, code="revoked", clerk_message=MSG_REVOKED)
        if exc.status >= 500 or exc.status == 429:
            return SyncError(
                str(exc), code="server", clerk_message=MSG_SERVER.format(status=exc.status)
            )
        return SyncError(
            str(exc),
            code=exc.code or "refused",
            clerk_message=MSG_REFUSED.format(message=exc.message),
        )
    return SyncError(str(exc), code="error", clerk_message=MSG_OFFLINE)


def _vi_enrol_reason(message: str) -> str:
    if "expired" in message:
        return "mã đăng ký đã hết hạn."
    if "already used" in message:
        return "mã đăng ký đã được dùng."
    if "wrong" in message:
        return "mã đăng ký không đúng với xã này."
    return message


def _open_enrol_answer(
    data: bytes, keys: PrivateKeys, code: str
) -> tuple[dict[str, Any], PublicKeys]:
    """Open the server's enrolment answer, check it proves the code, and return its keys."""
    bad = {"code": "bad_answer", "clerk_message": MSG_BAD_ANSWER}
    try:
        sealed = envelope.parse(data)
        payload = wire.loads(sealed.open_hpke(keys))
    except (errors.EnvelopeError, errors.WireError) as exc:
        raise EnrolmentError(f"the enrolment answer cannot be opened: {exc}", **bad) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("mac"), str):
        raise EnrolmentError("the enrolment answer is malformed", **bad)
    expected = enrolment.enrol_response_mac(enrolment.enrol_key(code), payload)
    if not hmac.compare_digest(expected, payload["mac"]):
        raise EnrolmentError("the enrolment answer does not prove knowledge of the code", **bad)
    try:
        server = PublicKeys.from_json(payload.get("server"))
        sealed.verify(server)
    except (KeyError_, errors.EnvelopeError) as exc:
        raise EnrolmentError(f"the server's keys do not check out: {exc}", **bad) from exc
    return payload, server
