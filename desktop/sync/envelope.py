"""Sealed, signed envelopes: the only thing that travels between a device and the server.

Frame (all integers big-endian)::

    [2-byte header length][header: canonical JSON][body][64-byte Ed25519 signature]

* The **header** is readable by anyone (it routes the envelope) and authenticated twice: it
  is the HPKE ``info`` (or the AEAD associated data) of the body, and it is covered by the
  signature. It names the protocol version, the key the body is sealed to, the device, a
  batch id, the range of device sequence numbers inside, the schema version and the sender's
  clock. It never holds personal data.
* The **body** is the payload compressed with zstd, then sealed either with HPKE (RFC 9180,
  suite ML-KEM-768+X25519 / HKDF-SHA256 / ChaCha20-Poly1305) to a public key, or with
  ChaCha20-Poly1305 under a symmetric key (``12-byte nonce || ciphertext``) that both sides
  derived from an earlier HPKE exchange (a response key or a session key).
* The **signature** is the sender's Ed25519 signature over everything before it.

A request's sealed plaintext starts with a fresh 32-byte *response key*: the server seals its
answer under a key derived from it, so a response costs 28 bytes of crypto overhead instead of
another 1,136-byte hybrid KEM, with the same post-quantum protection as the request.

Every way an envelope can be bad (truncated, malformed, oversized, tampered, wrong key, wrong
signer) raises :class:`EnvelopeError` with a message that says which.
"""

from __future__ import annotations

import dataclasses
import io
import json
import secrets
import struct
import time
from typing import Any

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.sync.keys import KeyError_, PrivateKeys, PublicKeys

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "MAX_PLAINTEXT_BYTES",
    "MODE_HPKE",
    "MODE_SYMMETRIC",
    "PROTOCOL_VERSION",
    "RESPONSE_KEY_ID",
    "SESSION_KEY_PREFIX",
    "SUITE",
    "Envelope",
    "EnvelopeError",
    "Header",
    "OpenedRequest",
    "SealedRequest",
    "derive_session_key",
    "new_batch_id",
    "now_ms",
    "open_request",
    "open_response",
    "parse",
    "response_symmetric_key",
    "seal",
    "seal_request",
    "seal_response",
]

#: Version of the envelope format and of the protocol messages inside it.
PROTOCOL_VERSION = 1
#: The one HPKE suite we use (docs/protocol.md says why).
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
#: Largest envelope either side accepts (the server also caps the HTTP body at this size).
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
#: Largest decompressed payload: guards against a zstd "bomb" inside a valid envelope.
MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024
#: Largest header: headers route envelopes and must stay small.
MAX_HEADER_BYTES = 4096
#: ``mode`` of a body sealed with HPKE to a public key.
MODE_HPKE = "h"
#: ``mode`` of a body sealed with ChaCha20-Poly1305 under a shared symmetric key.
MODE_SYMMETRIC = "s"
#: ``key_id`` of a response sealed under the response key of its request.
RESPONSE_KEY_ID = "r"
#: Prefix of ``key_id`` for a request sealed under a session key: ``"s:" + session id``.
SESSION_KEY_PREFIX = "s:"

SIGNATURE_BYTES = 64
RESPONSE_KEY_BYTES = 32
_NONCE_BYTES = 12
_LEN = struct.Struct(">H")
_ZSTD_LEVEL = 9


class EnvelopeError(ValueError):
    """Raised for an envelope that cannot be read, verified or opened; the message says why."""


@dataclasses.dataclass(frozen=True)
class Header:
    """The clear, authenticated header of an envelope.

    On the wire the keys are short to keep a quiet sync small: ``v`` version, ``k`` key id,
    ``m`` mode, ``d`` device id, ``b`` batch id, ``t`` created-at (sender's clock, Unix ms),
    ``sv`` schema version, ``q`` device-seq range, ``z`` compressed, ``x`` extra fields.

    Attributes:
        key_id: which key the body is sealed to: the recipient's key id (HPKE),
            ``"s:<session id>"`` (session key) or ``"r"`` (the request's response key).
        mode: :data:`MODE_HPKE` or :data:`MODE_SYMMETRIC`.
        device_id: the device the envelope comes from or is addressed to.
        batch_id: unique per request; a response repeats its request's batch id.
        created_at_ms: the sender's clock when sealing (never trusted to order anything).
        schema_version: version of the record schema in the payload.
        seq_range: lowest and highest ``device_seq`` of the changes inside, if any.
        compressed: whether the payload was zstd-compressed before sealing.
        extra: small, non-personal routing data (e.g. an attachment chunk's offset).
        version: envelope/protocol version.
    """

    key_id: str
    mode: str
    device_id: str
    batch_id: str
    created_at_ms: int
    schema_version: int = 1
    seq_range: tuple[int, int] | None = None
    compressed: bool = True
    extra: dict[str, Any] | None = None
    version: int = PROTOCOL_VERSION

    def to_json(self) -> dict[str, Any]:
        """Return the header as its short-keyed JSON object."""
        obj: dict[str, Any] = {
            "v": self.version,
            "k": self.key_id,
            "m": self.mode,
            "d": self.device_id,
            "b": self.batch_id,
            "t": self.created_at_ms,
            "sv": self.schema_version,
            "z": 1 if self.compressed else 0,
        }
        if self.seq_range is not None:
            obj["q"] = [self.seq_range[0], self.seq_range[1]]
        if self.extra:
            obj["x"] = self.extra
        return obj

    def to_bytes(self) -> bytes:
        """Return the canonical JSON bytes that go on the wire."""
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Header:
        """Parse and check a header.

        Raises:
            EnvelopeError: when the header is not a well-formed header of a known version.
        """
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise EnvelopeError("envelope header is not valid JSON") from exc
        if not isinstance(obj, dict):
            raise EnvelopeError("envelope header is not a JSON object")
        if obj.get("v") != PROTOCOL_VERSION:
            raise EnvelopeError(f"unsupported envelope version {obj.get('v')!r}")
        try:
            key_id, mode, device_id, batch_id = obj["k"], obj["m"], obj["d"], obj["b"]
            created, schema, comp = obj["t"], obj["sv"], obj["z"]
        except KeyError as exc:
            raise EnvelopeError(f"envelope header lacks {exc.args[0]!r}") from exc
        strings = (key_id, mode, device_id, batch_id)
        if not all(isinstance(s, str) and 0 < len(s) <= 200 for s in strings):
            raise EnvelopeError("envelope header has a malformed id")
        if mode not in (MODE_HPKE, MODE_SYMMETRIC):
            raise EnvelopeError(f"unknown envelope mode {mode!r}")
        if not _is_int(created) or not _is_int(schema) or comp not in (0, 1):
            raise EnvelopeError("envelope header has a malformed number")
        seq = obj.get("q")
        seq_range: tuple[int, int] | None = None
        if seq is not None:
            if not (isinstance(seq, list) and len(seq) == 2 and all(_is_int(n) for n in seq)):
                raise EnvelopeError("envelope header has a malformed sequence range")
            seq_range = (seq[0], seq[1])
        extra = obj.get("x")
        if extra is not None and not isinstance(extra, dict):
            raise EnvelopeError("envelope header extra must be an object")
        return cls(
            key_id=key_id,
            mode=mode,
            device_id=device_id,
            batch_id=batch_id,
            created_at_ms=created,
            schema_version=schema,
            seq_range=seq_range,
            compressed=bool(comp),
            extra=extra,
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A parsed (not yet verified, not yet opened) envelope.

    Attributes:
        header: the parsed header.
        header_bytes: the header exactly as received (it is the HPKE info / AEAD data).
        body: the sealed body.
        signature: the sender's Ed25519 signature.
        signed_part: the bytes the signature covers (everything before it).
    """

    header: Header
    header_bytes: bytes
    body: bytes
    signature: bytes
    signed_part: bytes

    def verify(self, sender: PublicKeys) -> None:
        """Check the signature against the sender's keys.

        Raises:
            EnvelopeError: when the signature does not match (tampered or wrong signer).
        """
        if not sender.verify(self.signature, self.signed_part):
            raise EnvelopeError("envelope signature is invalid (tampered or wrong signer)")

    def open_hpke(self, recipient: PrivateKeys) -> bytes:
        """Open an HPKE-sealed body with the recipient's private keys; return the payload.

        Raises:
            EnvelopeError: wrong mode, wrong key, tampered body or a bad compressed payload.
        """
        return _inflate(self.unseal_hpke(recipient), self.header.compressed)

    def open_symmetric(self, key: bytes) -> bytes:
        """Open a body sealed under a shared symmetric key; return the payload.

        Raises:
            EnvelopeError: wrong mode, wrong key, tampered body or a bad compressed payload.
        """
        return _inflate(self.unseal_symmetric(key), self.header.compressed)

    def unseal_hpke(self, recipient: PrivateKeys) -> bytes:
        """Return the sealed plaintext (still compressed) of an HPKE body.

        Raises:
            EnvelopeError: wrong mode, wrong key or tampered body.
        """
        if self.header.mode != MODE_HPKE:
            raise EnvelopeError("envelope is not sealed with HPKE")
        try:
            return SUITE.decrypt(self.body, recipient.hpke_private_key(), self.header_bytes)
        except (InvalidTag, ValueError, KeyError_) as exc:
            raise EnvelopeError("envelope cannot be opened: wrong key or tampered body") from exc

    def unseal_symmetric(self, key: bytes) -> bytes:
        """Return the sealed plaintext (still compressed) of a symmetric body.

        Raises:
            EnvelopeError: wrong mode, wrong key or tampered body.
        """
        if self.header.mode != MODE_SYMMETRIC:
            raise EnvelopeError("envelope is not sealed with a symmetric key")
        if len(self.body) < _NONCE_BYTES + 16:
            raise EnvelopeError("envelope body is truncated")
        nonce, ct = self.body[:_NONCE_BYTES], self.body[_NONCE_BYTES:]
        try:
            return ChaCha20Poly1305(key).decrypt(nonce, ct, self.header_bytes)
        except (InvalidTag, ValueError) as exc:
            raise EnvelopeError("envelope cannot be opened: wrong key or tampered body") from exc


def _inflate(data: bytes, compressed: bool) -> bytes:
    if not compressed:
        return data
    try:
        declared = zstandard.frame_content_size(data)
        if declared > MAX_PLAINTEXT_BYTES:
            raise EnvelopeError("envelope payload is too large once decompressed")
        # Read at most one byte past the limit: a frame that lies about its size is caught too.
        parts: list[bytes] = []
        size = 0
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            while size <= MAX_PLAINTEXT_BYTES:
                part = reader.read(1024 * 1024)
                if not part:
                    break
                parts.append(part)
                size += len(part)
        out = b"".join(parts)
    except zstandard.ZstdError as exc:
        raise EnvelopeError("envelope payload is not valid zstd") from exc
    if len(out) > MAX_PLAINTEXT_BYTES:
        raise EnvelopeError("envelope payload is too large once decompressed")
    return out


def _deflate(data: bytes, compressed: bool) -> bytes:
    if not compressed:
        return data
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(data)


def parse(data: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Split raw bytes into an :class:`Envelope` without verifying or opening it.

    Args:
        data: the bytes received.
        max_bytes: refuse anything larger (default 8 MiB).

    Raises:
        EnvelopeError: when ``data`` is oversized, truncated or its header is malformed.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EnvelopeError("envelope must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise EnvelopeError(f"envelope too large: {len(data)} bytes > {max_bytes}")
    if len(data) < _LEN.size + SIGNATURE_BYTES + 2:
        raise EnvelopeError("envelope truncated: shorter than its frame")
    (hlen,) = _LEN.unpack_from(data)
    if hlen == 0 or hlen > MAX_HEADER_BYTES:
        raise EnvelopeError(f"envelope header length {hlen} is out of range")
    body_start = _LEN.size + hlen
    if len(data) < body_start + SIGNATURE_BYTES + 1:
        raise EnvelopeError("envelope truncated: header, body or signature missing")
    header_bytes = data[_LEN.size : body_start]
    header = Header.from_bytes(header_bytes)
    return Envelope(
        header=header,
        header_bytes=header_bytes,
        body=data[body_start:-SIGNATURE_BYTES],
        signature=data[-SIGNATURE_BYTES:],
        signed_part=data[:-SIGNATURE_BYTES],
    )


def _seal_inner(
    inner: bytes,
    header: Header,
    signer: PrivateKeys,
    recipient: PublicKeys | None,
    symmetric_key: bytes | None,
) -> bytes:
    """Seal already-prepared plaintext under ``header`` and sign the frame."""
    header_bytes = header.to_bytes()
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise EnvelopeError("envelope header too large")
    if header.mode == MODE_HPKE:
        if recipient is None:
            raise EnvelopeError("an HPKE envelope needs the recipient's public keys")
        body = SUITE.encrypt(inner, recipient.hpke_public_key(), header_bytes)
    elif header.mode == MODE_SYMMETRIC:
        if symmetric_key is None or len(symmetric_key) != 32:
            raise EnvelopeError("a symmetric envelope needs a 32-byte key")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        body = nonce + ChaCha20Poly1305(symmetric_key).encrypt(nonce, inner, header_bytes)
    else:
        raise EnvelopeError(f"unknown envelope mode {header.mode!r}")
    signed = _LEN.pack(len(header_bytes)) + header_bytes + body
    data = signed + signer.sign(signed)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"envelope too large: {len(data)} bytes > {MAX_ENVELOPE_BYTES}")
    return data


def seal(
    payload: bytes,
    header: Header,
    *,
    signer: PrivateKeys,
    recipient: PublicKeys | None = None,
    symmetric_key: bytes | None = None,
) -> bytes:
    """Compress (when ``header.compressed``), seal and sign ``payload`` into envelope bytes.

    Args:
        payload: the plaintext (canonical JSON, or raw bytes for attachment chunks).
        header: the header; its ``mode`` must match the key given.
        signer: the sender's private keys (Ed25519 signs the frame).
        recipient: public keys to HPKE-seal to (mode :data:`MODE_HPKE`).
        symmetric_key: 32-byte shared key (mode :data:`MODE_SYMMETRIC`).

    Returns:
        The envelope bytes.

    Raises:
        EnvelopeError: when the header and the key disagree or the result is oversized.
    """
    inner = _deflate(payload, header.compressed)
    return _seal_inner(inner, header, signer, recipient, symmetric_key)


# --- requests and responses ----------------------------------------------------------------


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
    inner = response_key + _deflate(payload, compress)
    data = _seal_inner(
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
        payload=_inflate(rest, envelope.header.compressed),
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
