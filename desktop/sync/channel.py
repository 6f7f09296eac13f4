"""The sealed channel to the provincial server: keys, session, transport, retries.

Every request the engine makes after enrolment goes through :meth:`Channel.call`: the message
is sealed to the pinned server keys (hybrid HPKE) or, once the server offered one, with a
symmetric session key (which saves the 1.1 KB hybrid KEM per request); the answer is checked
against the server's signature and opened. :meth:`Channel.retry` runs an attempt with
exponential backoff and jitter, re-sealing every attempt (a sealed request has a fresh batch
id and the server refuses replays).
"""

from __future__ import annotations

import base64
import json
import logging
import random
from collections.abc import Callable
from typing import Any, TypeVar

from desktop.store.sync_store import SyncStore
from desktop.sync.client import (
    Backoff,
    HttpError,
    HttpReply,
    HttpTransport,
    TransportError,
    TransportPolicy,
    retry_call,
)
from desktop.sync.errors import MSG_NOT_ENROLLED, NotEnrolled, as_sync_error, bad_answer
from protocol import errors, sealing, wire
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys, PublicKeys, b64e

log = logging.getLogger(__name__)
T = TypeVar("T")

#: A session is not used in its last minute: the request could arrive after it expired.
SESSION_MARGIN_S = 60


class Session:
    """A symmetric session the server offered (saves the 1.1 KB hybrid KEM per request).

    Attributes:
        session_id: the server's id of the session.
        key: the 32-byte session key derived from the request that asked for it.
        expires_at: Unix time after which the server forgets it.
    """

    def __init__(self, session_id: str, key: bytes, expires_at: float) -> None:
        """Hold a session's id, key and expiry."""
        self.session_id = session_id
        self.key = key
        self.expires_at = expires_at

    def to_json(self) -> str:
        """Return the session as the store keeps it."""
        return json.dumps(
            {"id": self.session_id, "key": b64e(self.key), "expires_at": self.expires_at}
        )

    @classmethod
    def from_json(cls, text: str | None) -> Session | None:
        """Return a stored session, or None when there is none or it is unreadable."""
        if not text:
            return None
        try:
            obj = json.loads(text)
            key = base64.urlsafe_b64decode(obj["key"] + "=" * (-len(obj["key"]) % 4))
            return cls(str(obj["id"]), key, float(obj["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None


class Channel:
    """The device's keys, the pinned server, the session and the HTTP transport.

    Args:
        store: the store as sync sees it.
        transport: the HTTP transport (default: one to the server address in the config).
        clock: this PC's clock in Unix seconds.
        policy: timeouts, retries and batch limits.
        sleep: how to wait between retries.
        rng: random source for backoff jitter.
        use_sessions: accept the server's offer of a session key.
    """

    def __init__(
        self,
        store: SyncStore,
        *,
        transport: HttpTransport | None,
        clock: Callable[[], float],
        policy: TransportPolicy,
        sleep: Callable[[float], None],
        rng: random.Random | None,
        use_sessions: bool,
    ) -> None:
        """Load the stored identity (keys, pinned server, session)."""
        self.store = store
        self.policy = policy
        self.clock = clock
        self.sleep = sleep
        self.backoff = Backoff(policy.backoff_base_s, policy.backoff_max_s, rng)
        self.use_sessions = use_sessions
        self._transport = transport
        self.keys: PrivateKeys | None = None
        self.server_keys: PublicKeys | None = None
        self.session: Session | None = None
        self.load_identity()

    def load_identity(self) -> None:
        """Read the device keys, the pinned server keys and the session from the store."""
        try:
            identity = self.store.identity()
            if identity.device_keys and identity.server_keys:
                self.keys = PrivateKeys.from_bytes(identity.device_keys)
                self.server_keys = PublicKeys.from_json(identity.server_keys)
        except (KeyError_, ValueError):
            log.error("stored sync keys are unreadable; the device must enrol again")
            self.keys = self.server_keys = None
            return
        self.session = Session.from_json(identity.session)

    @property
    def enrolled(self) -> bool:
        """Whether the device has keys and a pinned server."""
        return self.keys is not None and self.server_keys is not None

    @property
    def transport(self) -> HttpTransport:
        """The HTTP transport to the server in the profile config.

        Raises:
            NotEnrolled: no server is known yet.
        """
        if self._transport is None:
            url = self.store.server_url
            if not url:
                raise NotEnrolled(
                    "this device is not enrolled",
                    code="not_enrolled",
                    clerk_message=MSG_NOT_ENROLLED,
                )
            self._transport = HttpTransport(url, policy=self.policy)
        return self._transport

    @transport.setter
    def transport(self, transport: HttpTransport) -> None:
        """Use another transport from now on (the old one is the caller's to close)."""
        self._transport = transport

    def pin(self, keys: PrivateKeys, server_keys: PublicKeys, transport: HttpTransport) -> None:
        """Use newly enrolled keys and server from now on (no session yet)."""
        if self._transport is not None:
            self._transport.close()
        self._transport = transport
        self.keys, self.server_keys, self.session = keys, server_keys, None

    def set_session(self, session: Session | None) -> None:
        """Use (and keep) a session, or with None drop it."""
        self.session = session
        self.store.save_session(session.to_json() if session is not None else None)

    # -- requests --------------------------------------------------------------------------------

    def retry(
        self,
        attempt: Callable[[int], T],
        on_failure: Callable[[int, TransportError], None] | None = None,
    ) -> T:
        """Run ``attempt(n)`` until it succeeds or the policy's attempts are used up.

        Raises:
            TransportError: the last attempt's failure.
        """
        return retry_call(
            attempt,
            backoff=self.backoff,
            max_attempts=self.policy.max_attempts,
            sleep=self.sleep,
            on_failure=on_failure,
        )

    def retrying(self, attempt: Callable[[int], T]) -> T:
        """Like :meth:`retry`, but a failure other than an HTTP refusal becomes a SyncError.

        Raises:
            HttpError: the server refused (the caller may know what to do).
            SyncError: the server could not be reached or did not answer in time.
        """
        try:
            return self.retry(attempt)
        except HttpError:
            raise
        except TransportError as exc:
            raise as_sync_error(exc) from exc

    def _live_session(self) -> Session | None:
        session = self.session
        if session is not None and session.expires_at <= self.clock() + SESSION_MARGIN_S:
            return None
        return session

    def call(
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

        A dict is sent as compressed canonical JSON (``/sync`` offers to open a session);
        bytes (a scan chunk) are sealed as they are. Uses the session when one is open; an
        expired session is dropped and the request sealed again with HPKE at once. The answer
        gets ``_rtt_midpoint``: the local time halfway through the round trip.

        Raises:
            TransportError: the request failed (the caller retries).
            SyncError: the answer could not be verified (not retried).
        """
        for _ in range(2):
            session = self._live_session()
            offer = (
                self.use_sessions
                and session is None
                and not isinstance(message, bytes)
                and path == wire.PATH_SYNC
            )
            sealed = self._seal(message, session, offer, seq_range, extra)
            sent_at = self.clock()
            try:
                reply = self.transport.request(
                    method, path, sealed.data, expected_response_bytes=expect
                )
            except HttpError as exc:
                if exc.status == 401 and exc.code == errors.ERR_SESSION and session is not None:
                    self.set_session(None)
                    continue
                raise
            received_at = self.clock()
            answer = self._open(reply, sealed)
            answer["_rtt_midpoint"] = (sent_at + received_at) / 2
            if offer:
                self._take_session(answer.get("session"), sealed)
            return answer, len(sealed.data)
        raise TransportError("the server refused the session twice")  # pragma: no cover

    def _seal(
        self,
        message: dict[str, Any] | bytes,
        session: Session | None,
        offer: bool,
        seq_range: tuple[int, int] | None,
        extra: dict[str, Any] | None,
    ) -> sealing.SealedRequest:
        assert self.keys is not None and self.server_keys is not None
        raw = isinstance(message, bytes)
        payload = (
            message
            if isinstance(message, bytes)
            else (wire.canonical_json({**message, "session": offer}))
        )
        return sealing.seal_request(
            payload,
            device_id=self.store.device_id,
            device_keys=self.keys,
            server_keys=self.server_keys if session is None else None,
            session=(session.session_id, session.key) if session is not None else None,
            seq_range=seq_range,
            compress=not raw,
            extra=extra,
            created_at_ms=int(self.clock() * 1000),
        )

    def _open(self, reply: HttpReply, sealed: sealing.SealedRequest) -> dict[str, Any]:
        """Verify and open the server's answer (see :func:`open_answer`)."""
        assert self.server_keys is not None
        return open_answer(reply.body, sealed, self.server_keys)

    def _take_session(self, offered: Any, sealed: sealing.SealedRequest) -> None:
        """Open the session the server offered in answer to a request that asked for one."""
        if isinstance(offered, dict) and offered.get("id"):
            key = sealing.derive_session_key(sealed.response_key, str(offered["id"]))
            ttl = float(offered.get("ttl_s") or 3600)
            self.set_session(Session(str(offered["id"]), key, self.clock() + ttl))

    def signed_head(self, path: str) -> HttpReply:
        """Send ``HEAD path`` with the device's signed headers (no envelope)."""
        assert self.keys is not None
        time_ms = int(self.clock() * 1000)
        device_id = self.store.device_id
        signature = self.keys.sign(
            wire.signed_request_message("HEAD", path, b"", time_ms, device_id)
        )
        return self.transport.request(
            "HEAD",
            path,
            headers={
                wire.HEADER_DEVICE: device_id,
                wire.HEADER_TIME: str(time_ms),
                wire.HEADER_SIGNATURE: b64e(signature),
            },
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        if self._transport is not None:
            self._transport.close()


def open_answer(
    body: bytes, sealed: sealing.SealedRequest, server_keys: PublicKeys
) -> dict[str, Any]:
    """Verify the server's answer to ``sealed`` against its pinned keys and open it.

    The sync engine and provincial IT's console both read answers this way.

    Raises:
        SyncError: it fails verification (``bad_answer``) or is not a JSON object.
    """
    try:
        _header, payload = sealing.open_response(body, request=sealed, server_keys=server_keys)
        answer = wire.loads(payload)
    except (errors.EnvelopeError, errors.WireError) as exc:
        raise bad_answer(f"the server's answer failed verification: {exc}") from exc
    if not isinstance(answer, dict):
        raise bad_answer("the server's answer is not an object")
    return answer
