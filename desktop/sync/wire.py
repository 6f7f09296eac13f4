"""Protocol messages between a device and the provincial server, and their checks.

Everything here is plain data: canonical JSON, the shape of each message, the enrolment code
and its proof, and the constants both sides agree on. The envelope that carries these
messages is in :mod:`desktop.sync.envelope`; docs/protocol.md is the prose version.

This module imports nothing from ``desktop.store`` or ``desktop.ui``: the server uses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from desktop.sync.keys import PublicKeys, b64e

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_PULL_LIMIT",
    "ENTITIES",
    "MAX_CHANGES_PER_REQUEST",
    "MAX_PULL_LIMIT",
    "OPS",
    "PATH_ATTACHMENTS",
    "PATH_ATTACHMENTS_MISSING",
    "PATH_ENROL",
    "PATH_HEALTH",
    "PATH_SYNC",
    "SCHEMA_VERSION",
    "SKEW_LIMIT_MS",
    "STATUSES",
    "WireError",
    "canonical_json",
    "enrol_proof",
    "enrol_response_mac",
    "format_code",
    "generate_code",
    "loads",
    "normalize_code",
    "resolution_message",
    "signed_request_message",
    "validate_block_request",
    "validate_change",
    "validate_enrol_request",
    "validate_missing_request",
    "validate_sync_request",
]

#: Version of the record schema (flat dossiers with ``data.<field>`` keys).
SCHEMA_VERSION = 1

PATH_HEALTH = "/health"
PATH_ENROL = "/enrol"
PATH_SYNC = "/sync"
PATH_ATTACHMENTS_MISSING = "/attachments/missing"
#: ``HEAD`` (offset) and ``PATCH`` (chunk) on ``/attachments/<sha256>``.
PATH_ATTACHMENTS = "/attachments/"

#: HTTP headers of a signed request without a body envelope (``HEAD /attachments/<sha>``).
HEADER_DEVICE = "X-Motcua-Device"
HEADER_TIME = "X-Motcua-Time"
HEADER_SIGNATURE = "X-Motcua-Signature"
#: Response header carrying the acknowledged byte offset of an attachment upload.
HEADER_UPLOAD_OFFSET = "Upload-Offset"

#: Entities that sync. ``dossier`` is the flat record of docs/architecture.md.
ENTITIES = ("dossier", "attachment")
OPS = ("upsert", "delete")
#: Per-change outcomes: final ones, and ``deferred`` (not processed: an earlier device_seq is
#: missing; send it again after the missing ones).
STATUS_APPLIED = "applied"
STATUS_MERGED = "merged"
STATUS_CONFLICT = "conflict"
STATUS_REJECTED = "rejected"
STATUS_DEFERRED = "deferred"
STATUSES = (STATUS_APPLIED, STATUS_MERGED, STATUS_CONFLICT, STATUS_REJECTED, STATUS_DEFERRED)
#: Kinds of entries in the server's change log.
KIND_CHANGE = "change"
KIND_RESOLUTION = "resolution"

MAX_CHANGES_PER_REQUEST = 10_000
DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 10_000
#: A device clock further than this from the server's is flagged (and still syncs).
SKEW_LIMIT_MS = 5 * 60 * 1000
#: Attachment chunk size the client should use (the server accepts up to MAX_CHUNK_BYTES).
CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 1024 * 1024
MAX_ATTACHMENT_BYTES = 256 * 1024 * 1024

#: Error codes in ``{"error": "...", "code": "..."}`` bodies, for clients to act on.
ERR_BAD_REQUEST = "bad_request"
ERR_BAD_ENVELOPE = "bad_envelope"
ERR_TOO_LARGE = "too_large"
ERR_UNKNOWN_DEVICE = "unknown_device"
ERR_REVOKED = "revoked"
ERR_CLONED = "cloned"
ERR_REPLAYED = "replayed"
ERR_SESSION = "session_expired"
ERR_ENROL = "enrol_refused"
ERR_OFFSET = "offset_mismatch"
ERR_NOT_FOUND = "not_found"
ERR_BUSY = "busy"


class WireError(ValueError):
    """Raised when a message does not have the shape the protocol requires."""


def canonical_json(obj: Any) -> bytes:
    """Return the canonical JSON encoding: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def loads(data: bytes) -> Any:
    """Parse JSON bytes from the wire.

    Raises:
        WireError: when ``data`` is not UTF-8 JSON.
    """
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError("payload is not valid UTF-8 JSON") from exc


def _no_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; the protocol (and canonical JSON) does not.
    raise ValueError(f"{name} is not JSON")


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """Return the JSON object of an API error: ``{"error": message, "code": code, ...}``."""
    return {"error": message, "code": code, **extra}


# --- field checks ---------------------------------------------------------------------------

_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}$")
_COMMUNE_RE = re.compile(r"^[0-9]{5}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_KEY_RE = re.compile(r"^[a-z_][a-z0-9_]{0,40}(\.[a-z_][a-z0-9_]{0,60})?$")
_MAX_TEXT = 20_000


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _need(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise WireError(f"{where}.{key} is missing")
    return obj[key]


def check_id(value: object, where: str) -> str:
    """Return ``value`` if it is an id (1-64 of ``[0-9A-Za-z_.:-]``), else raise WireError."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise WireError(f"{where} must be an id of 1-64 letters, digits, '-', '_', '.', ':'")
    return value


def check_commune(value: object, where: str) -> str:
    """Return ``value`` if it is a 5-digit commune code, else raise WireError."""
    if not isinstance(value, str) or not _COMMUNE_RE.match(value):
        raise WireError(f"{where} must be a 5-digit commune code")
    return value


def check_sha256(value: object, where: str) -> str:
    """Return ``value`` if it is a lowercase hex SHA-256, else raise WireError."""
    if not isinstance(value, str) or not _SHA256_RE.match(value):
        raise WireError(f"{where} must be a lowercase hex SHA-256")
    return value


def _check_int(value: object, where: str, *, minimum: int = 0, maximum: int = 2**62) -> int:
    if not _is_int(value) or not minimum <= value <= maximum:  # type: ignore[operator]
        raise WireError(f"{where} must be an integer in [{minimum}, {maximum}]")
    return value  # type: ignore[return-value]


def _check_text(value: object, where: str, *, maximum: int = 200) -> str:
    if not isinstance(value, str) or len(value) > maximum:
        raise WireError(f"{where} must be text of at most {maximum} characters")
    return value


def _check_value(value: object, where: str) -> None:
    if value is None or isinstance(value, bool) or _is_int(value):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise WireError(f"{where} must be a finite number")
        return
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            raise WireError(f"{where} is longer than {_MAX_TEXT} characters")
        return
    raise WireError(f"{where} must be text, a number, true/false or null")


# --- changes --------------------------------------------------------------------------------


def validate_change(obj: object, where: str = "change") -> dict[str, Any]:
    """Check one pushed change (docs/architecture.md) and return it as a clean dict.

    Unknown keys are dropped; the known ones must have the right type and range.

    Raises:
        WireError: naming the first thing that is wrong.
    """
    if not isinstance(obj, dict):
        raise WireError(f"{where} must be an object")
    entity = _need(obj, "entity", where)
    if entity not in ENTITIES:
        raise WireError(f"{where}.entity must be one of {', '.join(ENTITIES)}")
    op = _need(obj, "op", where)
    if op not in OPS:
        raise WireError(f"{where}.op must be one of {', '.join(OPS)}")
    fields = _need(obj, "fields", where)
    if not isinstance(fields, dict) or len(fields) > 500:
        raise WireError(f"{where}.fields must be an object of at most 500 keys")
    clean_fields: dict[str, list[Any]] = {}
    for key, pair in fields.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise WireError(f"{where}.fields has a malformed key")
        if not isinstance(pair, list) or len(pair) != 2:
            raise WireError(f"{where}.fields[{key!r}] must be [old, new]")
        _check_value(pair[0], f"{where}.fields[{key!r}][0]")
        _check_value(pair[1], f"{where}.fields[{key!r}][1]")
        clean_fields[key] = [pair[0], pair[1]]
    hlc = _check_text(_need(obj, "hlc", where), f"{where}.hlc", maximum=120)
    clerk = _check_text(obj.get("clerk") or "", f"{where}.clerk", maximum=64)
    return {
        "change_id": check_id(_need(obj, "change_id", where), f"{where}.change_id"),
        "device_id": check_id(_need(obj, "device_id", where), f"{where}.device_id"),
        "device_seq": _check_int(_need(obj, "device_seq", where), f"{where}.device_seq", minimum=1),
        "entity": entity,
        "entity_id": check_id(_need(obj, "entity_id", where), f"{where}.entity_id"),
        "op": op,
        "base_version": _check_int(_need(obj, "base_version", where), f"{where}.base_version"),
        "fields": clean_fields,
        "hlc": hlc,
        "clerk": clerk,
        "commune": check_commune(_need(obj, "commune", where), f"{where}.commune"),
    }


def validate_block_request(obj: object, where: str = "want_blocks") -> dict[str, Any]:
    """Check a request for a block of register book numbers.

    ``{"book_type": "KS", "year": 2026, "after": 100}`` asks for a block starting after number
    ``after`` (the end of the last block the device holds, 0 for none); asking twice returns the
    same block, so a lost response wastes no numbers.

    Raises:
        WireError: when the request is malformed.
    """
    if not isinstance(obj, dict):
        raise WireError(f"{where} must be an object")
    return {
        "book_type": check_id(_need(obj, "book_type", where), f"{where}.book_type"),
        "year": _check_int(_need(obj, "year", where), f"{where}.year", minimum=1900, maximum=9999),
        "after": _check_int(obj.get("after", 0), f"{where}.after"),
    }


def validate_sync_request(obj: object) -> dict[str, Any]:
    """Check the payload of ``POST /sync`` and return it with defaults filled in.

    Shape::

        {"cursor": "", "epoch": null, "changes": [change, ...], "limit": 1000,
         "want_blocks": [{"book_type", "year", "after"}], "session": true}

    Raises:
        WireError: naming the first thing that is wrong.
    """
    if not isinstance(obj, dict):
        raise WireError("sync request must be a JSON object")
    cursor = obj.get("cursor", "")
    if not isinstance(cursor, str) or len(cursor) > 100:
        raise WireError("sync.cursor must be the opaque text the server gave")
    changes = obj.get("changes", [])
    if not isinstance(changes, list) or len(changes) > MAX_CHANGES_PER_REQUEST:
        raise WireError(f"sync.changes must be a list of at most {MAX_CHANGES_PER_REQUEST}")
    blocks = obj.get("want_blocks", [])
    if not isinstance(blocks, list) or len(blocks) > 20:
        raise WireError("sync.want_blocks must be a list of at most 20")
    session = obj.get("session", False)
    if not isinstance(session, bool):
        raise WireError("sync.session must be true or false")
    epoch = obj.get("epoch")
    if epoch is not None and (not isinstance(epoch, str) or len(epoch) > 64):
        raise WireError("sync.epoch must be the epoch text the server gave, or null")
    return {
        "cursor": cursor,
        "changes": [validate_change(c, f"changes[{i}]") for i, c in enumerate(changes)],
        "limit": _check_int(
            obj.get("limit", DEFAULT_PULL_LIMIT), "sync.limit", minimum=1, maximum=MAX_PULL_LIMIT
        ),
        "want_blocks": [
            validate_block_request(b, f"want_blocks[{i}]") for i, b in enumerate(blocks)
        ],
        "session": session,
        "epoch": epoch,
    }


def validate_missing_request(obj: object) -> list[str]:
    """Check the payload of ``POST /attachments/missing`` (``{"hashes": [sha256, ...]}``).

    Raises:
        WireError: when it is malformed.
    """
    if not isinstance(obj, dict):
        raise WireError("attachments request must be a JSON object")
    hashes = obj.get("hashes")
    if not isinstance(hashes, list) or len(hashes) > 10_000:
        raise WireError("attachments.hashes must be a list of at most 10000 SHA-256")
    return [check_sha256(h, f"hashes[{i}]") for i, h in enumerate(hashes)]


def validate_chunk_header(extra: object) -> dict[str, Any]:
    """Check the header ``x`` of an attachment chunk envelope.

    ``{"a": sha256 of the whole file, "o": byte offset, "n": total size, "c": sha256 of chunk}``.

    Raises:
        WireError: when it is malformed.
    """
    if not isinstance(extra, dict):
        raise WireError("chunk envelope lacks its attachment header")
    return {
        "sha256": check_sha256(extra.get("a"), "chunk.a"),
        "offset": _check_int(extra.get("o"), "chunk.o", maximum=MAX_ATTACHMENT_BYTES),
        "size": _check_int(extra.get("n"), "chunk.n", minimum=1, maximum=MAX_ATTACHMENT_BYTES),
        "chunk_sha256": check_sha256(extra.get("c"), "chunk.c"),
    }


#: Keys of a resolution change covered by the server's signature.
RESOLUTION_SIGNED_KEYS = (
    "change_id",
    "device_id",
    "entity",
    "entity_id",
    "commune",
    "op",
    "base_version",
    "fields",
    "parents",
    "hlc",
    "clerk",
)


def resolution_message(change: dict[str, Any]) -> bytes:
    """Return the bytes the server signs for a resolution change (from a pulled entry too).

    Verify with ``PublicKeys.verify(b64d(entry["signature"]), resolution_message(entry))``.
    """
    return canonical_json({k: change.get(k) for k in RESOLUTION_SIGNED_KEYS})


def signed_request_message(
    method: str, path: str, body: bytes, time_ms: int, device_id: str
) -> bytes:
    """Return the bytes a device signs for a request without an envelope body (``HEAD``)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"motcua-req-v1\n{method.upper()}\n{path}\n{digest}\n{time_ms}\n{device_id}".encode()


# --- enrolment ------------------------------------------------------------------------------

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


def validate_enrol_request(obj: object) -> dict[str, Any]:
    """Check the JSON body of ``POST /enrol``.

    Shape: ``{"device_id", "commune", "keys": PublicKeys.to_json(), "proof", "label"}``.

    Raises:
        WireError: naming the first thing that is wrong.
    """
    from desktop.sync.keys import KeyError_

    if not isinstance(obj, dict):
        raise WireError("enrol request must be a JSON object")
    try:
        keys = PublicKeys.from_json(obj.get("keys"))
    except KeyError_ as exc:
        raise WireError(f"enrol.keys: {exc}") from exc
    proof = obj.get("proof")
    if not isinstance(proof, str) or not 20 <= len(proof) <= 100:
        raise WireError("enrol.proof must be the base64url HMAC of the request")
    return {
        "device_id": check_id(obj.get("device_id"), "enrol.device_id"),
        "commune": check_commune(obj.get("commune"), "enrol.commune"),
        "keys": keys,
        "proof": proof,
        "label": _check_text(obj.get("label") or "", "enrol.label", maximum=100),
    }
