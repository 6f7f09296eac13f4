"""Who is asking: open and authenticate a device's request, seal the answer to it.

Every device request but enrolment is an envelope signed by the device and sealed to the
server (HPKE, or a session key the server handed out). :func:`open_request` parses it, finds
the device, verifies its signature and status and opens the payload; :func:`seal_response`
seals the answer to the same request. An operator's request (:mod:`server.operators`) is
opened by the same steps (:func:`parse_envelope`, :func:`verify_sender`, :func:`open_sealed`). ``HEAD`` requests carry no body: their headers are
signed instead (:func:`verify_signed_request`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol import envelope as env
from protocol import errors, sealing, wire
from protocol.errors import KeyError_
from protocol.keys import PublicKeys, b64d
from server.context import ServerContext
from server.errors import ApiError, BadEnvelope, BadRequest, DeviceCloned
from server.rows import DeviceRow

__all__ = [
    "check_status",
    "open_request",
    "open_sealed",
    "parse_envelope",
    "seal_response",
    "verify_sender",
    "verify_signed_request",
]


def _unknown_device() -> ApiError:
    return ApiError(403, errors.ERR_UNKNOWN_DEVICE, "device is not enrolled")


def open_request(ctx: ServerContext, body: bytes) -> tuple[DeviceRow, sealing.OpenedRequest]:
    """Parse, authenticate and open a device's request envelope.

    Returns:
        The device and the opened request.

    Raises:
        ApiError: 400 for a bad envelope, 401 for an unknown or expired session, 403 for an
            unknown or revoked device, 409 for a cloned one.
    """
    envelope = parse_envelope(body)
    device, session_key = _device_and_session(ctx, envelope.header)
    if device is None:
        raise _unknown_device()
    device_keys = verify_sender(envelope, device.keys)
    check_status(device)
    return device, open_sealed(ctx, envelope, device_keys, session_key)


def parse_envelope(body: bytes) -> env.Envelope:
    """Parse a request envelope.

    Raises:
        BadEnvelope: when it cannot be parsed.
    """
    try:
        return env.parse(body)
    except errors.EnvelopeError as exc:
        raise BadEnvelope(str(exc)) from exc


def verify_sender(envelope: env.Envelope, keys: dict[str, str]) -> PublicKeys:
    """Check the envelope's signature with the sender's enrolled keys; return those keys.

    Raises:
        BadEnvelope: for a bad signature or unusable keys.
    """
    try:
        sender = PublicKeys.from_json(keys)
        envelope.verify(sender)
    except (errors.EnvelopeError, KeyError_) as exc:
        raise BadEnvelope(str(exc)) from exc
    return sender


def open_sealed(
    ctx: ServerContext,
    envelope: env.Envelope,
    sender_keys: PublicKeys,
    session_key: bytes | None,
) -> sealing.OpenedRequest:
    """Open a verified request sealed to the server's key (or to a live session's key).

    Raises:
        ApiError: 400 for an envelope sealed to another key or that does not open, 401 for a
            session-sealed one without a live session.
    """
    header = envelope.header
    if header.mode == env.MODE_HPKE:
        if header.key_id != ctx.public_keys().key_id:
            raise BadEnvelope("envelope is sealed to an unknown key")
    elif session_key is None:
        raise ApiError(401, errors.ERR_SESSION, "session unknown or expired: seal with HPKE")
    try:
        return sealing.open_request(
            envelope, device_keys=sender_keys, server_keys=ctx.keys, session_key=session_key
        )
    except errors.EnvelopeError as exc:
        raise BadEnvelope(str(exc)) from exc


def _device_and_session(
    ctx: ServerContext, header: env.Header
) -> tuple[DeviceRow | None, bytes | None]:
    """Return the header's device and, for a session-sealed envelope, its live session key."""
    with ctx.storage.read() as tx:
        device = tx.get_device(header.device_id)
        if device is None or not header.key_id.startswith(env.SESSION_KEY_PREFIX):
            return device, None
        session = tx.get_session(header.key_id[len(env.SESSION_KEY_PREFIX) :])
    if (
        session is not None
        and session["device_id"] == device.device_id
        and session["expires_at"] > ctx.clock()
    ):
        return device, bytes(session["key"])
    return device, None


def check_status(device: DeviceRow) -> None:
    """Refuse a revoked or cloned device.

    Raises:
        ApiError: 403 for a revoked device (with IT's reason), 409 for a cloned one.
    """
    if device.status == "revoked":
        reason = device.status_reason or "revoked by provincial IT"
        raise ApiError(403, errors.ERR_REVOKED, f"device revoked: {reason}")
    if device.status == "cloned":
        raise DeviceCloned()


def seal_response(
    ctx: ServerContext, opened: sealing.OpenedRequest, payload: dict[str, Any]
) -> bytes:
    """Seal ``payload`` as the signed answer to ``opened``."""
    return sealing.seal_response(
        wire.canonical_json(payload),
        request=opened.header,
        response_key=opened.response_key,
        server_keys=ctx.keys,
    )


def verify_signed_request(
    ctx: ServerContext, method: str, path: str, headers: Mapping[str, str]
) -> DeviceRow:
    """Authenticate a body-less request by its signed headers (lower-case names).

    Returns:
        The device that signed it.

    Raises:
        ApiError: 400 for missing or invalid signature headers, 403/409 for an unusable device.
    """
    try:
        device_id = wire.check_id(headers.get(wire.HEADER_DEVICE.lower()), "device header")
        at = int(headers.get(wire.HEADER_TIME.lower(), ""))
        signature = b64d(headers.get(wire.HEADER_SIGNATURE.lower(), ""))
    except (errors.WireError, ValueError) as exc:
        raise BadRequest(f"bad signed request: {exc}") from exc
    with ctx.storage.read() as tx:
        device = tx.get_device(device_id)
    if device is None:
        raise _unknown_device()
    message = wire.signed_request_message(method, path, b"", at, device_id)
    if not PublicKeys.from_json(device.keys).verify(signature, message):
        raise BadRequest("request signature is invalid")
    check_status(device)
    return device
