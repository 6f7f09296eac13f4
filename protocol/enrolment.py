"""Enrolment: the one-time code provincial IT issues, the device's proof and the server's MAC.

The code itself never travels: the device proves it holds the code with an HMAC bound to its id,
commune and public keys, and checks the server's answer with a MAC under the same key before it
pins the server's keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from protocol.errors import KeyError_, WireError
from protocol.keys import PublicKeys, b64e
from protocol.wire import canonical_json, check_commune, check_id, check_text

__all__ = [
    "enrol_key",
    "enrol_proof",
    "enrol_response_mac",
    "format_code",
    "generate_code",
    "normalize_code",
    "proof_with_key",
    "validate_enrol_request",
    "validate_operator_enrol_request",
]

#: Crockford base32: no I, L, O, U, so a code read aloud or typed from paper survives.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LEN = 10
_CODE_FIXUPS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def generate_code() -> str:
    """Return a fresh one-time enrolment code, 10 characters (50 bits) as ``XXXXX-XXXXX``."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LEN))
    return format_code(raw)


def format_code(code: str) -> str:
    """Return a normalised code grouped for reading: ``ABCDE-FGHJK``."""
    norm = normalize_code(code)
    return f"{norm[:5]}-{norm[5:]}"


def normalize_code(code: str) -> str:
    """Return the code as typed, cleaned: upper case, no spaces or dashes, O→0, I/L→1.

    Raises:
        WireError: when it is not 10 Crockford base32 characters.
    """
    if not isinstance(code, str):
        raise WireError("enrolment code must be text")
    norm = re.sub(r"[\s-]", "", code).upper().translate(_CODE_FIXUPS)
    if len(norm) != _CODE_LEN or any(c not in _CODE_ALPHABET for c in norm):
        raise WireError("enrolment code must be 10 letters and digits, like ABCDE-FGHJK")
    return norm


def enrol_key(code: str) -> bytes:
    """Return the MAC key derived from an enrolment code (the code itself never travels)."""
    norm = normalize_code(code)
    return hashlib.sha256(b"motcua-enrol-v1\0" + norm.encode("ascii")).digest()


def _enrol_proof_message(device_id: str, commune: str, keys: PublicKeys) -> bytes:
    return canonical_json(
        {"device_id": device_id, "commune": commune, "keys": keys.to_json(), "v": 1}
    )


def enrol_proof(code: str, device_id: str, commune: str, keys: PublicKeys) -> str:
    """Return the device's proof that it holds ``code``, bound to its id, commune and keys."""
    return proof_with_key(enrol_key(code), device_id, commune, keys)


def proof_with_key(key: bytes, device_id: str, commune: str, keys: PublicKeys) -> str:
    """Return :func:`enrol_proof` computed from an already-derived code key (server side)."""
    mac = hmac.new(key, _enrol_proof_message(device_id, commune, keys), hashlib.sha256)
    return b64e(mac.digest())


def enrol_response_mac(key: bytes, payload: dict[str, Any]) -> str:
    """Return the MAC the server puts on its enrolment answer (all keys but ``mac``).

    The device checks it with the key from its code before pinning the server keys, so a
    man in the middle without the code cannot make it pin his keys.
    """
    body = {k: v for k, v in payload.items() if k != "mac"}
    return b64e(hmac.new(key, b"motcua-enrol-resp\0" + canonical_json(body), "sha256").digest())


def _keys_proof_label(obj: object, what: str) -> dict[str, Any]:
    """Check the parts every enrolment request has: keys, proof and label."""
    if not isinstance(obj, dict):
        raise WireError(f"{what} must be a JSON object")
    try:
        keys = PublicKeys.from_json(obj.get("keys"))
    except KeyError_ as exc:
        raise WireError(f"enrol.keys: {exc}") from exc
    proof = obj.get("proof")
    if not isinstance(proof, str) or not 20 <= len(proof) <= 100:
        raise WireError("enrol.proof must be the base64url HMAC of the request")
    label = check_text(obj.get("label") or "", "enrol.label", maximum=100)
    return {"keys": keys, "proof": proof, "label": label}


def validate_enrol_request(obj: object) -> dict[str, Any]:
    """Check the JSON body of ``POST /enrol``.

    Shape: ``{"device_id", "commune", "keys": PublicKeys.to_json(), "proof", "label"}``.

    Raises:
        WireError: naming the first thing that is wrong.
    """
    common = _keys_proof_label(obj, "enrol request")
    assert isinstance(obj, dict)
    return {
        "device_id": check_id(obj.get("device_id"), "enrol.device_id"),
        "commune": check_commune(obj.get("commune"), "enrol.commune"),
        **common,
    }


def validate_operator_enrol_request(obj: object) -> dict[str, Any]:
    """Check the JSON body of ``POST /admin/enrol`` (a provincial IT console enrolling).

    Shape: ``{"operator_id", "keys": PublicKeys.to_json(), "proof", "label"}``; the proof is
    :func:`enrol_proof` with ``protocol.admin.OPERATOR_SCOPE`` in place of a commune code.

    Raises:
        WireError: naming the first thing that is wrong.
    """
    common = _keys_proof_label(obj, "operator enrol request")
    assert isinstance(obj, dict)
    return {"operator_id": check_id(obj.get("operator_id"), "enrol.operator_id"), **common}
