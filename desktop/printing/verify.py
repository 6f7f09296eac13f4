"""Check a printout's QR code: is it ours, unaltered, and does it match the record?"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from desktop.printing.documents import KIND_TO_PROCEDURE, RECEIPT_SLIP, certificate_layout
from desktop.printing.qr import PayloadError, QrPayload, facts_digest, parse_payload
from desktop.printing.values import (
    DossierInput,
    certificate_facts,
    flat_record,
    receipt_facts_from_record,
)


def verify_printout(
    qr_payload: str, public_key_bytes: bytes, record: DossierInput | None = None
) -> bool:
    """Return True when a printed QR payload is genuine (and matches the record, if given).

    Args:
        qr_payload: the text a QR reader returned from the paper.
        public_key_bytes: the raw 32-byte Ed25519 public key of the device that printed it
            (the province knows every enrolled device's key).
        record: the dossier record as stored now (the flat dict, or a store
            ``DossierRecord``); when given, the payload must name this dossier and the facts
            printed on the paper must equal the record's.

    Returns:
        False for anything that does not verify: a malformed or unsigned payload, a wrong
        key, a bad signature, another dossier, or printed facts that differ from the record.
        Never raises for bad input.
    """
    try:
        payload = parse_payload(qr_payload)
    except PayloadError:
        return False
    if not payload.signature or not _signature_ok(payload, public_key_bytes):
        return False
    if record is None:
        return True
    flat = flat_record(record)
    if not isinstance(flat, Mapping):  # a stored dossier without its record: bad input
        return False
    try:
        expected = _expected_digest(payload, flat)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return expected is not None and hmac.compare_digest(expected, payload.digest)


def _signature_ok(payload: QrPayload, public_key_bytes: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes(public_key_bytes))
        key.verify(payload.signature, payload.signed_part.encode("utf-8"))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _expected_digest(payload: QrPayload, record: Mapping[str, Any]) -> str | None:
    if str(record.get("dossier_no") or "") != payload.dossier_no:
        return None
    if payload.kind == RECEIPT_SLIP.kind:
        return facts_digest(receipt_facts_from_record(record))
    code = KIND_TO_PROCEDURE.get(payload.kind)
    if code is None or (record.get("procedure") or code) != code:
        return None
    from desktop.forms.procedures import get_procedure

    return facts_digest(certificate_facts(get_procedure(code), certificate_layout(code), record))
