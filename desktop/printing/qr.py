"""The signed QR payload printed on every paper, and its QR matrix.

Payload: ``MCX1.<dossier_no>.<kind>.<digest>.<signature>`` where

- ``kind`` names the paper (``PTN`` receipt slip, ``GKS`` birth certificate, ``TLKT`` death
  extract, ``XNHN`` marital-status confirmation, ``GCNKH`` marriage certificate);
- ``digest`` is the first 12 bytes of SHA-256 over the canonical JSON of the facts printed on
  the paper, base64url without padding (16 characters): enough to tell the printed record from
  any edited one, short enough to keep the QR small;
- ``signature`` is the device's Ed25519 signature (64 bytes, base64url, 86 characters) over the
  UTF-8 bytes of everything before the last dot. It is empty when the device has no key yet.

The dossier number may itself contain dots; the payload is parsed from the right.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping

PREFIX = "MCX1"
DIGEST_BYTES = 12
SIGNATURE_BYTES = 64

Signer = Callable[[bytes], bytes]


class PayloadError(ValueError):
    """A QR payload string is not in the ``MCX1`` format."""


@dataclasses.dataclass(frozen=True)
class QrPayload:
    """The parts of a printed QR payload.

    Attributes:
        dossier_no: The dossier (receipt) number.
        kind: The paper's kind code (``PTN``, ``GKS``, ...).
        digest: base64url digest of the printed facts.
        signature: The raw Ed25519 signature, or b"" for an unsigned printout.
    """

    dossier_no: str
    kind: str
    digest: str
    signature: bytes

    @property
    def signed_part(self) -> str:
        """Return the text the signature covers."""
        return f"{PREFIX}.{self.dossier_no}.{self.kind}.{self.digest}"

    def encode(self) -> str:
        """Return the payload string to put in the QR code."""
        return f"{self.signed_part}.{b64url(self.signature)}"


def b64url(data: bytes) -> str:
    """Encode bytes as base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url text with or without padding.

    Raises:
        PayloadError: When the text is not base64url.
    """
    if any(ch not in _B64URL_ALPHABET for ch in text):
        raise PayloadError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise PayloadError("not base64url") from exc
    if b64url(data) != text:
        # Non-canonical trailing bits would let two payload strings carry one signature.
        raise PayloadError("not canonical base64url")
    return data


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def facts_digest(facts: Mapping[str, object]) -> str:
    """Return the short digest of the facts printed on a paper.

    Values are compared as NFC text so that a record re-read from the store (or typed in a
    different Unicode form) gives the same digest; None and "" are the same empty value.

    Args:
        facts: Printed facts keyed by record key (``dossier_no``, ``data.tre_ten`` ...).

    Returns:
        16 base64url characters.
    """
    canonical = {
        key: unicodedata.normalize("NFC", str(value)).strip()
        for key, value in facts.items()
        if value is not None and str(value).strip() != ""
    }
    blob = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(blob.encode("utf-8")).digest()[:DIGEST_BYTES])


def make_payload(dossier_no: str, kind: str, digest: str, signer: Signer | None) -> QrPayload:
    """Build and sign a payload.

    Args:
        dossier_no: The dossier number (any text without line breaks).
        kind: The paper's kind code.
        digest: From :func:`facts_digest`.
        signer: ``private_key.sign`` of the device's Ed25519 key, or None for an unsigned
            printout (the QR still carries the number and the digest).

    Returns:
        The payload; ``.encode()`` gives the QR text.

    Raises:
        ValueError: When the signer does not return a 64-byte signature, or the number or
            kind cannot be carried.
    """
    if not dossier_no or any(ch in dossier_no for ch in "\r\n"):
        raise ValueError(f"dossier number cannot be printed in a QR code: {dossier_no!r}")
    if not kind.isalnum():
        raise ValueError(f"bad paper kind: {kind!r}")
    unsigned = QrPayload(dossier_no, kind, digest, b"")
    if signer is None:
        return unsigned
    signature = signer(unsigned.signed_part.encode("utf-8"))
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise ValueError("signer must return a 64-byte Ed25519 signature")
    return dataclasses.replace(unsigned, signature=signature)


def parse_payload(text: str) -> QrPayload:
    """Split a payload string into its parts.

    Args:
        text: What a QR reader returned (surrounding whitespace is ignored).

    Returns:
        The parsed payload.

    Raises:
        PayloadError: When it is not an ``MCX1`` payload.
    """
    if not isinstance(text, str):
        raise PayloadError("payload must be text")
    text = text.strip()
    if len(text) > 1000 or not text.startswith(PREFIX + "."):
        raise PayloadError("not an MCX1 payload")
    parts = text[len(PREFIX) + 1 :].rsplit(".", 3)
    if len(parts) != 4:
        raise PayloadError("an MCX1 payload has five dot-separated parts")
    dossier_no, kind, digest, signature = parts
    if not dossier_no or not kind.isalnum() or len(digest) != 16:
        raise PayloadError("malformed MCX1 payload")
    b64url_decode(digest)
    raw_signature = b64url_decode(signature)
    if raw_signature and len(raw_signature) != SIGNATURE_BYTES:
        raise PayloadError("signature must be 64 bytes")
    return QrPayload(dossier_no, kind, digest, raw_signature)


def qr_matrix(text: str) -> list[list[bool]]:
    """Return the QR code modules for a text (True = dark), without the quiet zone.

    Error correction level M: a stamp or a fold over a corner still scans.
    """
    import segno  # lazily: only printing needs it

    code = segno.make(text, error="m", micro=False, boost_error=False)
    return [[bool(module) for module in row] for row in code.matrix]
