"""Enrol this device with the provincial server using a one-time code from provincial IT.

The device generates its Ed25519 and hybrid HPKE keys, proves it holds the code without
sending it, checks the server's answer with the code, and pins the server's keys. The keys
are kept inside the encrypted store before the request goes out, so a lost answer can be
retried with the same keys (and a paper printed before enrolment verifies afterwards).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
from typing import Any, Protocol

from desktop.store.sync_store import Enrolment, SyncStore
from desktop.sync.channel import Channel
from desktop.sync.client import HttpError, HttpReply, HttpTransport, TransportError
from desktop.sync.errors import (
    MSG_BAD_ANSWER,
    MSG_BAD_CODE,
    MSG_BAD_URL,
    MSG_ENROL_REFUSED,
    MSG_OFFLINE,
    EnrolmentError,
    SyncError,
    vi_enrol_reason,
)
from protocol import enrolment, envelope, errors, wire
from protocol.errors import KeyError_
from protocol.keys import PrivateKeys, PublicKeys

__all__ = ["EnrolResult", "KeyKeeper", "checked_url", "enrol", "open_enrol_answer", "pending_keys"]


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


class KeyKeeper(Protocol):
    """Where keys made for an enrolment wait until it succeeds (a device's or an operator's)."""

    def pending_keys(self) -> bytes | None:
        """Return the keys made for an enrolment not finished yet, if any."""
        ...

    def save_pending_keys(self, keys: bytes) -> None:
        """Keep keys made for an enrolment before the request goes out."""
        ...


def pending_keys(store: KeyKeeper, current: PrivateKeys | None) -> PrivateKeys:
    """Return the keys enrolment will register: pending ones, the enrolled ones, or new.

    New keys are saved (inside the encrypted store) before anything is sent, so a retry
    after a lost answer, or a printout signed before enrolment, uses the same keys.
    """
    pending = store.pending_keys()
    if pending:
        return PrivateKeys.from_bytes(pending)
    if current is not None:
        return current
    keys = PrivateKeys.generate()
    store.save_pending_keys(keys.to_bytes())
    return keys


def enrol(channel: Channel, server_url: str, code: str, *, label: str = "") -> EnrolResult:
    """Enrol with ``server_url`` using ``code``; pin the server in the store and the channel.

    Args:
        channel: the engine's channel (its store, clock, policy and backoff).
        server_url: e.g. ``http://10.15.0.2:8080``.
        code: the code provincial IT gave (``ABCDE-FGHJK``; case and dashes do not matter).
        label: a name for this PC shown to provincial IT (no personal data).

    Returns:
        What was pinned.

    Raises:
        EnrolmentError: a malformed, wrong, expired or used code; an unreachable server;
            an answer that does not prove knowledge of the code.
    """
    url = checked_url(server_url, code)
    store = channel.store
    # Reuse keys when the server may already know them: a retry after a lost answer (keys
    # saved before sending), or enrolling again with the same keys (e.g. a new address).
    keys = pending_keys(store, channel.keys)
    transport = HttpTransport(url, policy=channel.policy)
    try:
        sent_at = channel.clock()
        reply = _post(channel, transport, url, _request_body(store, keys, code, label))
        received_at = channel.clock()
        payload, server = open_enrol_answer(reply.body, keys, code)
        if payload.get("device_id") != store.device_id or payload.get("commune") != store.commune:
            raise EnrolmentError(
                "the server answered for another device",
                code="bad_answer",
                clerk_message=MSG_BAD_ANSWER,
            )
    except SyncError:
        transport.close()
        raise
    server_time = int(payload.get("server_time") or 0)
    offset = server_time / 1000 - (sent_at + received_at) / 2 if server_time else 0.0
    epoch = str(payload.get("epoch") or "")
    enrolled_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    store.save_enrolment(
        Enrolment(keys.to_bytes(), server.to_json(), enrolled_at, epoch, clock_offset=offset)
    )
    store.set_server_url(url)
    channel.pin(keys, server, transport)
    return EnrolResult(store.device_id, store.commune, url, server.key_id, epoch, offset)


def checked_url(server_url: str, code: str) -> str:
    """Return the server URL without a trailing slash, after checking it and the code.

    Raises:
        EnrolmentError: a malformed code or a URL that is not http(s).
    """
    try:
        enrolment.normalize_code(code)
    except errors.WireError as exc:
        raise EnrolmentError(str(exc), code="bad_code", clerk_message=MSG_BAD_CODE) from exc
    url = server_url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise EnrolmentError(
            "the server URL must start with http:// or https://",
            code="bad_url",
            clerk_message=MSG_BAD_URL,
        )
    return url


def _request_body(store: SyncStore, keys: PrivateKeys, code: str, label: str) -> dict[str, Any]:
    """Return the enrolment request: who, which keys, and the proof of the code."""
    public = keys.public()
    return {
        "device_id": store.device_id,
        "commune": store.commune,
        "keys": public.to_json(),
        "label": label[:100],
        "proof": enrolment.enrol_proof(code, store.device_id, store.commune, public),
    }


def _post(channel: Channel, transport: HttpTransport, url: str, body: dict[str, Any]) -> HttpReply:
    """Send the enrolment request, retried with backoff.

    Raises:
        EnrolmentError: the server refused the code, or could not be reached.
    """
    try:
        return channel.retry(
            lambda n: transport.post(
                wire.PATH_ENROL, wire.canonical_json(body), content_type="application/json"
            )
        )
    except HttpError as exc:
        raise EnrolmentError(
            f"enrolment refused: {exc.message}",
            code=exc.code or "refused",
            clerk_message=MSG_ENROL_REFUSED.format(reason=vi_enrol_reason(exc.message)),
        ) from exc
    except TransportError as exc:
        raise EnrolmentError(
            f"cannot reach {url}: {exc}", code="offline", clerk_message=MSG_OFFLINE
        ) from exc


def open_enrol_answer(
    data: bytes, keys: PrivateKeys, code: str
) -> tuple[dict[str, Any], PublicKeys]:
    """Open the server's enrolment answer, check it proves the code, and return its keys.

    Raises:
        EnrolmentError: it cannot be opened, does not prove the code, or its keys are bad.
    """
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
