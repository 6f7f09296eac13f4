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

How requests and responses use envelopes (response keys, sessions) is in
:mod:`protocol.sealing`.

Every way an envelope can be bad (truncated, malformed, oversized, tampered, wrong key, wrong
signer) raises :class:`EnvelopeError` with a message that says which.
"""

from __future__ import annotations

import dataclasses
import io
import json
import secrets
import struct
from typing import Any

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from protocol.errors import EnvelopeError, KeyError_
from protocol.keys import PrivateKeys, PublicKeys
from protocol.limits import MAX_ENVELOPE_BYTES, MAX_HEADER_BYTES, MAX_PLAINTEXT_BYTES

__all__ = [
    "MODE_HPKE",
    "MODE_SYMMETRIC",
    "PROTOCOL_VERSION",
    "RESPONSE_KEY_ID",
    "SESSION_KEY_PREFIX",
    "SUITE",
    "Envelope",
    "Header",
    "compress",
    "decompress",
    "parse",
    "seal",
    "seal_frame",
]

#: Version of the envelope format and of the protocol messages inside it.
PROTOCOL_VERSION = 1
#: The one HPKE suite we use (docs/protocol.md says why).
SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
#: ``mode`` of a body sealed with HPKE to a public key.
MODE_HPKE = "h"
#: ``mode`` of a body sealed with ChaCha20-Poly1305 under a shared symmetric key.
MODE_SYMMETRIC = "s"
#: ``key_id`` of a response sealed under the response key of its request.
RESPONSE_KEY_ID = "r"
#: Prefix of ``key_id`` for a request sealed under a session key: ``"s:" + session id``.
SESSION_KEY_PREFIX = "s:"

SIGNATURE_BYTES = 64
_NONCE_BYTES = 12
_LEN = struct.Struct(">H")
_ZSTD_LEVEL = 9


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
        return decompress(self.unseal_hpke(recipient), self.header.compressed)

    def open_symmetric(self, key: bytes) -> bytes:
        """Open a body sealed under a shared symmetric key; return the payload.

        Raises:
            EnvelopeError: wrong mode, wrong key, tampered body or a bad compressed payload.
        """
        return decompress(self.unseal_symmetric(key), self.header.compressed)

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


def decompress(data: bytes, compressed: bool) -> bytes:
    """Return ``data`` zstd-decompressed when ``compressed``, refusing a decompression bomb.

    Raises:
        EnvelopeError: for invalid zstd or a payload over ``MAX_PLAINTEXT_BYTES``.
    """
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


def compress(data: bytes, compressed: bool) -> bytes:
    """Return ``data`` zstd-compressed when ``compressed`` (scans are sent as they are)."""
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


def seal_frame(
    inner: bytes,
    header: Header,
    signer: PrivateKeys,
    recipient: PublicKeys | None,
    symmetric_key: bytes | None,
) -> bytes:
    """Seal already-prepared plaintext under ``header`` and sign the frame; return its bytes.

    Raises:
        EnvelopeError: when the header and the key disagree or the result is oversized.
    """
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
    inner = compress(payload, header.compressed)
    return seal_frame(inner, header, signer, recipient, symmetric_key)
