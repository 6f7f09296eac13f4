"""Requests and responses: how a device seals a request and the server seals its answer.

A request's sealed plaintext starts with a fresh 32-byte *response key*: the server seals its
answer under a key derived from it, so a response costs 28 bytes of crypto overhead instead of
another 1,136-byte hybrid KEM, with the same post-quantum protection as the request. A session
key derived from that secret lets later requests skip the HPKE seal too.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.envelope import (
    MODE_HPKE,
    MODE_SYMMETRIC,
    RESPONSE_KEY_ID,
    SESSION_KEY_PREFIX,
    Envelope,
    Header,
    decompress,
    parse,
    seal,
    seal_frame,
)
from protocol.envelope import (
    compress as compress_payload,
)
from protocol.errors import EnvelopeError
from protocol.keys import PrivateKeys, PublicKeys

__all__ = [
    "RESPONSE_KEY_BYTES",
    "OpenedRequest",
    "SealedRequest",
    "derive_session_key",
    "new_batch_id",
    "now_ms",
    "open_request",
    "open_response",
    "response_symmetric_key",
    "seal_request",
    "seal_response",
]

#: Length of the secret each request carries for its response.
RESPONSE_KEY_BYTES = 32


def _hkdf(key: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def response_symmetric_key(response_key: bytes) -> bytes:
    """Return the ChaCha20-Poly1305 key a response is sealed under, from its request's secret."""
    return _hkdf(response_key, None, b"motcua response v1")


def derive_session_key(response_key: bytes, session_id: str) -> bytes:
    """Return the session key both sides derive from a request's response key.

    The server offers a session in the response to an HPKE-sealed request; later requests may
    be sealed under this key (``key_id = "s:" + session_id``) until it expires, saving the
    1,136-byte hybrid KEM on every quiet sync and every attachment chunk.
    """
    return _hkdf(response_key, session_id.encode("utf-8"), b"motcua session v1")


def new_batch_id() -> str:
    """Return a fresh random batch id (96 bits, 16 base64url characters)."""
    return secrets.token_urlsafe(12)


def now_ms() -> int:
    """Return this machine's clock as Unix milliseconds."""
    return int(time.time() * 1000)


@dataclasses.dataclass(frozen=True)
class SealedRequest:
    """A request ready to send, and what is needed to read its response.

    Attributes:
        data: the envelope bytes (the HTTP body).
        header: its header (the response must repeat its batch id).
        response_key: the 32-byte secret sealed inside; keep it until the response arrives.
    """

    data: bytes
    header: Header
    response_key: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class OpenedRequest:
    """A request the server has verified and opened.

    Attributes:
        header: its header.
        payload: the decompressed payload.
        response_key: the secret to seal the response with (:func:`seal_response`).
    """

    header: Header
    payload: bytes
    response_key: bytes = dataclasses.field(repr=False)


def seal_request(
    payload: bytes,
    *,
    device_id: str,
    device_keys: PrivateKeys,
    server_keys: PublicKeys | None = None,
    session: tuple[str, bytes] | None = None,
    seq_range: tuple[int, int] | None = None,
    schema_version: int = 1,
    compress: bool = True,
    extra: dict[str, Any] | None = None,
    batch_id: str | None = None,
    created_at_ms: int | None = None,
) -> SealedRequest:
    """Seal a device's request to the server: make a fresh one for every attempt.

    Give either ``server_keys`` (HPKE to the pinned server keys) or ``session``
    (``(session_id, session_key)``, the key from :func:`derive_session_key`).

    Args:
        payload: canonical JSON of the request message (or raw chunk bytes).
        device_id: this device's id.
        device_keys: this device's private keys (signs the envelope).
        server_keys: the server's pinned public keys.
        session: an open session, used instead of HPKE when given.
        seq_range: lowest and highest ``device_seq`` pushed, if any.
        schema_version: record schema version of the payload.
        compress: zstd-compress the payload (off for already-compressed scans).
        extra: non-personal routing data for the header.
        batch_id: a fresh id is made when omitted (never reuse one: the server refuses replays).
        created_at_ms: the device clock in Unix ms (default: now).

    Returns:
        The sealed request and its response key.

    Raises:
        EnvelopeError: when neither keys nor a session are given, or the result is oversized.
    """
    if session is not None:
        key_id, mode = SESSION_KEY_PREFIX + session[0], MODE_SYMMETRIC
    elif server_keys is not None:
        key_id, mode = server_keys.key_id, MODE_HPKE
    else:
        raise EnvelopeError("seal_request needs the server's keys or a session")
    header = Header(
        key_id=key_id,
        mode=mode,
        device_id=device_id,
        batch_id=batch_id or new_batch_id(),
        created_at_ms=now_ms() if created_at_ms is None else created_at_ms,
        schema_version=schema_version,
        seq_range=seq_range,
        compressed=compress,
        extra=extra,
    )
    response_key = secrets.token_bytes(RESPONSE_KEY_BYTES)
    # The response key rides in front of the payload; it is random, so only the rest is
    # compressed (``header.compressed`` describes the part after the key).
    inner = response_key + compress_payload(payload, compress)
    data = seal_frame(
        inner,
        header,
        device_keys,
        server_keys if session is None else None,
        session[1] if session is not None else None,
    )
    return SealedRequest(data=data, header=header, response_key=response_key)


def open_request(
    envelope: Envelope,
    *,
    device_keys: PublicKeys,
    server_keys: PrivateKeys | None = None,
    session_key: bytes | None = None,
) -> OpenedRequest:
    """Verify a device's request and open it (server side).

    The signature is checked first, so nothing is decrypted for a stranger.

    Args:
        envelope: the parsed envelope.
        device_keys: the sending device's enrolled public keys.
        server_keys: the server's private keys (for an HPKE-sealed request).
        session_key: the session key named by the header (for a session request).

    Raises:
        EnvelopeError: bad signature, wrong key, tampering or a malformed body.
    """
    envelope.verify(device_keys)
    if envelope.header.mode == MODE_HPKE:
        if server_keys is None:
            raise EnvelopeError("no server key to open this envelope")
        inner = envelope.unseal_hpke(server_keys)
    else:
        if session_key is None:
            raise EnvelopeError("unknown or expired session")
        inner = envelope.unseal_symmetric(session_key)
    if len(inner) < RESPONSE_KEY_BYTES:
        raise EnvelopeError("request body is truncated (no response key)")
    response_key, rest = inner[:RESPONSE_KEY_BYTES], inner[RESPONSE_KEY_BYTES:]
    return OpenedRequest(
        header=envelope.header,
        payload=decompress(rest, envelope.header.compressed),
        response_key=response_key,
    )


def seal_response(
    payload: bytes,
    *,
    request: Header,
    response_key: bytes,
    server_keys: PrivateKeys,
    extra: dict[str, Any] | None = None,
    created_at_ms: int | None = None,
) -> bytes:
    """Seal and sign the server's answer to ``request`` under the request's response key.

    Args:
        payload: canonical JSON of the response message.
        request: the request's header (its device and batch id are repeated).
        response_key: the secret from :class:`OpenedRequest`.
        server_keys: the server's private keys (signs the response).
        extra: non-personal routing data for the header.
        created_at_ms: the server clock (default: now).
    """
    header = Header(
        key_id=RESPONSE_KEY_ID,
        mode=MODE_SYMMETRIC,
        device_id=request.device_id,
        batch_id=request.batch_id,
        created_at_ms=now_ms() if created_at_ms is None else created_at_ms,
        schema_version=request.schema_version,
        extra=extra,
    )
    return seal(
        payload,
        header,
        signer=server_keys,
        symmetric_key=response_symmetric_key(response_key),
    )


def open_response(
    data: bytes, *, request: SealedRequest, server_keys: PublicKeys
) -> tuple[Header, bytes]:
    """Verify and open the server's response to ``request`` (device side).

    Args:
        data: the HTTP response body.
        request: the request it answers (its batch id and response key).
        server_keys: the server's pinned public keys.

    Returns:
        The response header and its payload.

    Raises:
        EnvelopeError: when it is malformed, not signed by the pinned server key, not an answer
            to this request, or cannot be opened.
    """
    envelope = parse(data)
    envelope.verify(server_keys)
    header = envelope.header
    if header.batch_id != request.header.batch_id or header.device_id != request.header.device_id:
        raise EnvelopeError("response does not answer this request")
    if header.key_id != RESPONSE_KEY_ID:
        raise EnvelopeError("response is not sealed to the request's response key")
    payload = envelope.open_symmetric(response_symmetric_key(request.response_key))
    return header, payload
