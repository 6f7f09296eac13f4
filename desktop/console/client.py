"""The console's client of the provincial server: :class:`AdminClient`, a ``ConsoleService``.

Every call checks its arguments with ``protocol.admin.validate_admin_request`` (a bad one is
named before anything is sent), seals ``{"action", "args"}`` with HPKE to the pinned server keys
(``protocol.sealing.seal_request``: conflict records carry names and ID numbers), posts it to
``POST /admin`` over the sync engine's transport (:class:`desktop.sync.client.HttpTransport`:
keep-alive, size-scaled timeouts), verifies the answer against the server's signature, and
returns its ``result``. Any failure is a :class:`ConsoleError` with a Vietnamese message.

Retries (backoff with jitter, :func:`desktop.sync.client.retry_call`) differ by what a call does:

* a **read** (lists, details, history, statistics) is re-sealed and sent again: asking twice
  changes nothing;
* a **write** (resolve, decide a duplicate, revoke, issue a code) is sealed ONCE and only those
  very bytes are sent again. When the answer to the first copy was lost, the server's replay
  guard refuses the second (``409 replayed``): the first was received, so the client asks the
  server what became of it (the conflict now resolved with this reason, the device revoked)
  instead of doing it twice. A lost enrolment code cannot be read back: that is said plainly.

The client is safe to call from several of the task runner's worker threads at once: its keys
never change and each thread has its own keep-alive connection.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from desktop.console.errors import (
    MSG_STALE,
    bad_answer,
    from_transport,
    from_wire,
    not_enrolled,
)
from desktop.console.link import ServerLink
from desktop.console.service import ConsoleError, ConsoleService
from desktop.store.console_store import ConsoleStore
from desktop.sync.channel import open_answer
from desktop.sync.client import HttpError, TransportError, TransportPolicy
from desktop.sync.errors import SyncError
from protocol import admin, errors, sealing, wire
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys, PublicKeys

if TYPE_CHECKING:
    from desktop.store.store import Store

__all__ = ["CONSOLE_POLICY", "AdminClient"]

#: Someone waits at the screen: fewer and shorter retries than a background sync.
CONSOLE_POLICY = dataclasses.replace(
    TransportPolicy(), connect_timeout_s=5.0, max_attempts=3, backoff_base_s=0.5, backoff_max_s=4.0
)
#: Answers of list actions may be large (a page of 500 conflicts, a province's statistics).
LIST_ANSWER_BYTES = 512 * 1024
#: Vietnamese names of what an action asks for ("not found" says which).
_WHAT = {
    "conflicts.get": "xung đột",
    "conflicts.resolve": "xung đột",
    "duplicates.get": "cặp hồ sơ nghi trùng",
    "duplicates.decide": "cặp hồ sơ nghi trùng",
    "devices.revoke": "thiết bị",
    "devices.issue_code": "xã",
    "records.history": "hồ sơ",
}
MSG_CODE_LOST = (
    "Mã đăng ký có thể đã được cấp nhưng câu trả lời bị mất trên đường truyền. Hãy cấp mã mới "
    "(mã kia sẽ tự hết hạn nếu không dùng)."
)
MSG_NOT_DONE = "Máy chủ tỉnh chưa ghi nhận thao tác này. Hãy tải lại rồi thử lại."


class AdminClient(ConsoleService):
    """Provincial IT's calls to the server's ``/admin``, sealed and verified.

    Args:
        server_url: the provincial server.
        operator_id: this console's operator id (the header's device id).
        keys: the operator's private keys (sign requests, enrolled with the server).
        server_keys: the server's pinned public keys (seal requests, verify answers).
        name: the operator's name as the server holds it.
        policy: timeouts and retries (default :data:`CONSOLE_POLICY`).
        sleep: how to wait between retries (tests pass a fake).
        rng: random source for backoff jitter.
    """

    def __init__(
        self,
        server_url: str,
        *,
        operator_id: str,
        keys: PrivateKeys,
        server_keys: PublicKeys,
        name: str = "",
        policy: TransportPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Hold the operator's identity; nothing is sent yet."""
        self.operator_id = operator_id
        self.name = name
        self._keys = keys
        self._server_keys = server_keys
        self.link = ServerLink(server_url, policy=policy or CONSOLE_POLICY, sleep=sleep, rng=rng)

    @property
    def server_url(self) -> str:
        """The provincial server this client talks to."""
        return self.link.base_url

    @classmethod
    def from_store(
        cls,
        store: Store,
        *,
        policy: TransportPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> AdminClient:
        """Return a client with the operator identity an enrolled provincial profile holds.

        Raises:
            ConsoleError: the profile is not enrolled (``not_enrolled``), or its keys are
                unreadable.
        """
        console = ConsoleStore(store)
        try:
            identity = console.identity()
            if not identity.enrolled or not console.server_url:
                raise not_enrolled()
            assert identity.keys is not None and identity.server_keys is not None
            keys = PrivateKeys.from_bytes(identity.keys)
            server_keys = PublicKeys.from_json(identity.server_keys)
        except (ValueError, KeyError_) as exc:
            raise not_enrolled(f"the stored operator keys are unreadable: {exc}") from exc
        return cls(
            console.server_url,
            operator_id=console.operator_id,
            keys=keys,
            server_keys=server_keys,
            name=identity.name,
            policy=policy,
            sleep=sleep,
        )

    # -- the actions (ConsoleService) -----------------------------------------------------------

    def conflicts(self, **filters: Any) -> admin.Page:
        """Return a page of conflicts (items are ``ConflictSummary``), newest first.

        ``filters`` are :meth:`ConsoleService.conflicts`'s (commune, procedure, kind, status,
        ages, offset, limit); what is left out takes ``protocol.admin``'s default.
        """
        return cast(admin.Page, self._read("conflicts.list", filters, dict, LIST_ANSWER_BYTES))

    def conflict(self, conflict_id: int) -> admin.ConflictDetail:
        """Return one conflict with base, current and incoming side by side."""
        return cast(admin.ConflictDetail, self._read("conflicts.get", {"id": conflict_id}, dict))

    def resolve(
        self, conflict_id: int, choices: dict[str, dict[str, Any]], reason: str
    ) -> admin.Resolved:
        """Resolve a conflict field by field (see ``protocol.admin.validate_choices``)."""
        args = {"id": conflict_id, "choices": choices, "reason": reason}
        return cast(
            admin.Resolved,
            self._write("conflicts.resolve", args, dict, lambda: self._settled(conflict_id, args)),
        )

    def duplicate(self, conflict_id: int) -> admin.DuplicateDetail:
        """Return a suspected duplicate: both records and the evidence."""
        return cast(admin.DuplicateDetail, self._read("duplicates.get", {"id": conflict_id}, dict))

    def decide_duplicate(self, conflict_id: int, decision: str, reason: str) -> admin.Resolved:
        """Keep both, or mark one record the duplicate of the other (nothing is deleted)."""
        args = {"id": conflict_id, "decision": decision, "reason": reason}
        return cast(
            admin.Resolved,
            self._write("duplicates.decide", args, dict, lambda: self._settled(conflict_id, args)),
        )

    def devices(self, commune: str | None = None) -> list[admin.DeviceInfo]:
        """Return every enrolled device (of one commune when given)."""
        args = {"commune": commune}
        return cast(
            list[admin.DeviceInfo], self._read("devices.list", args, list, LIST_ANSWER_BYTES)
        )

    def issue_code(self, commune: str, ttl_hours: float = 72.0) -> admin.IssuedCode:
        """Issue a one-time enrolment code for a commune."""
        args = {"commune": commune, "ttl_hours": ttl_hours}
        return cast(admin.IssuedCode, self._write("devices.issue_code", args, dict, _code_lost))

    def revoke(self, device_id: str, reason: str) -> None:
        """Revoke a device; its next sync is refused with the reason."""
        args = {"device_id": device_id, "reason": reason}
        self._write("devices.revoke", args, object, lambda: self._revoked(device_id))

    def health(self) -> list[admin.CommuneHealth]:
        """Return the sync health of every commune of the province."""
        return cast(list[admin.CommuneHealth], self._read("health.communes", {}, list))

    def statistics(
        self, period: str, since: str | None = None, until: str | None = None
    ) -> list[admin.StatsRow]:
        """Return the dossier count cube, grouped by ``week`` or ``month``."""
        args = {"period": period, "since": since, "until": until}
        return cast(
            list[admin.StatsRow], self._read("stats.dossiers", args, list, LIST_ANSWER_BYTES)
        )

    def history(self, entity_id: str) -> list[admin.RecordVersion]:
        """Return every version of a record, oldest first (losing values included)."""
        args = {"entity_id": entity_id}
        return cast(list[admin.RecordVersion], self._read("records.history", args, list))

    def close(self) -> None:
        """Close every thread's connections (a later call opens new ones)."""
        self.link.close()

    # -- what a lost answer did ---------------------------------------------------------------

    def _settled(self, conflict_id: int, args: dict[str, Any]) -> admin.Resolved:
        """Return the resolution a lost answer carried: the conflict is resolved with our reason.

        Raises:
            ConsoleError: it is still open (``not_done``), or someone else resolved it.
        """
        detail = self.conflict(conflict_id)
        if detail["conflict"]["status"] == "open":
            raise ConsoleError(
                f"conflict {conflict_id} is still open", clerk_message=MSG_NOT_DONE, code="not_done"
            )
        if (detail.get("resolution_reason") or "").strip() != str(args["reason"]).strip():
            raise ConsoleError(
                f"conflict {conflict_id} was resolved by someone else",
                clerk_message=MSG_STALE,
                code="stale",
            )
        resolution = detail.get("resolution")
        return resolution or admin.Resolved(
            conflict_id=conflict_id, change_id=None, server_seq=None, version=None
        )

    def _revoked(self, device_id: str) -> None:
        """Check that the device a lost answer was about is revoked now.

        Raises:
            ConsoleError: it is not (``not_done``).
        """
        for device in self.devices():
            if device["device_id"] == device_id and device["status"] == "revoked":
                return
        raise ConsoleError(
            f"device {device_id} is not revoked", clerk_message=MSG_NOT_DONE, code="not_done"
        )

    # -- one request --------------------------------------------------------------------------

    def _payload(self, action: str, args: dict[str, Any]) -> bytes:
        """Return the checked request payload (canonical JSON).

        Raises:
            ConsoleError: an argument is malformed (``bad_request``, naming it).
        """
        try:
            action, clean = admin.validate_admin_request({"action": action, "args": args})
        except errors.WireError as exc:
            raise from_wire(exc) from exc
        return wire.canonical_json({"action": action, "args": clean})

    def _seal(self, payload: bytes) -> sealing.SealedRequest:
        return sealing.seal_request(
            payload,
            device_id=self.operator_id,
            device_keys=self._keys,
            server_keys=self._server_keys,
        )

    def _exchange(self, sealed: sealing.SealedRequest, expect: int) -> object:
        """Send one sealed request and return the verified answer's ``result``.

        Raises:
            TransportError: no usable answer (the caller may retry).
            ConsoleError: the answer failed verification or has no result (``bad_answer``).
        """
        body = self.link.post(admin.PATH_ADMIN, sealed.data, expect=expect)
        try:
            answer = open_answer(body, sealed, self._server_keys)
        except SyncError as exc:
            raise bad_answer(str(exc)) from exc
        if "result" not in answer:
            raise bad_answer("the server's answer has no result")
        return answer["result"]

    def _read(self, action: str, args: dict[str, Any], shape: type, expect: int = 64 * 1024) -> Any:
        """Ask something; a failed attempt is sealed afresh and sent again."""
        payload = self._payload(action, args)
        try:
            result = self.link.retry(lambda n: self._exchange(self._seal(payload), expect))
        except TransportError as exc:
            raise from_transport(exc, what=_WHAT.get(action, "dữ liệu")) from exc
        return _shaped(result, shape, action)

    def _write(
        self, action: str, args: dict[str, Any], shape: type, settled: Callable[[], Any]
    ) -> Any:
        """Change something; only the very same sealed request is ever sent again.

        Args:
            action: the admin action.
            args: its arguments.
            shape: the JSON type of the result.
            settled: what to answer when a resent copy is refused as a replay (the first was
                received but its answer lost): reads what the first copy did.
        """
        payload = self._payload(action, args)
        sealed = self._seal(payload)  # once: a fresh seal would be done a second time
        attempts = 0

        def attempt(n: int) -> object:
            nonlocal attempts
            attempts = n + 1
            return self._exchange(sealed, 64 * 1024)

        try:
            result = self.link.retry(attempt)
        except HttpError as exc:
            if exc.code == errors.ERR_REPLAYED and attempts > 1:
                return settled()
            raise from_transport(exc, what=_WHAT.get(action, "dữ liệu")) from exc
        except TransportError as exc:
            raise from_transport(exc, what=_WHAT.get(action, "dữ liệu"), unsure=True) from exc
        return _shaped(result, shape, action)


def _shaped(result: object, shape: type, action: str) -> object:
    """Return ``result`` if it has the JSON type the action answers with.

    Raises:
        ConsoleError: it has not (``bad_answer``).
    """
    if not isinstance(result, shape):
        raise bad_answer(f"the server's answer to {action} is not a {shape.__name__}")
    return result


def _code_lost() -> admin.IssuedCode:
    """A lost enrolment code cannot be read back: say so (a fresh one is cheap)."""
    raise ConsoleError(
        "the enrolment code was issued but its answer was lost",
        clerk_message=MSG_CODE_LOST,
        code="code_lost",
    )
