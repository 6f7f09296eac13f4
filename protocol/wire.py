"""Protocol messages between a device and the provincial server, and their checks.

Everything here is plain data: canonical JSON, the endpoints and headers, the shape of each
message and the statuses a change can get. The envelope that carries these messages is in
:mod:`protocol.envelope` and :mod:`protocol.sealing`; the sizes both sides keep to are in
:mod:`protocol.limits`; errors and their codes in :mod:`protocol.errors`; enrolment codes and
proofs in :mod:`protocol.enrolment`. docs/protocol.md is the prose version.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from protocol.errors import WireError
from protocol.limits import (
    DEFAULT_PULL_LIMIT,
    MAX_ATTACHMENT_BYTES,
    MAX_CHANGES_PER_REQUEST,
    MAX_PULL_LIMIT,
)

__all__ = [
    "ENTITIES",
    "OPS",
    "PATH_ATTACHMENTS",
    "PATH_ATTACHMENTS_MISSING",
    "PATH_ENROL",
    "PATH_HEALTH",
    "PATH_SYNC",
    "SCHEMA_VERSION",
    "STATUSES",
    "canonical_json",
    "check_commune",
    "check_id",
    "check_sha256",
    "check_text",
    "loads",
    "resolution_message",
    "signed_request_message",
    "validate_block_request",
    "validate_change",
    "validate_device_report",
    "validate_chunk_header",
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


def check_text(value: object, where: str, *, maximum: int = 200) -> str:
    """Return ``value`` if it is text of at most ``maximum`` characters, else raise WireError."""
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
    hlc = check_text(_need(obj, "hlc", where), f"{where}.hlc", maximum=120)
    clerk = check_text(obj.get("clerk") or "", f"{where}.clerk", maximum=64)
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
         "want_blocks": [{"book_type", "year", "after"}], "session": true,
         "report": {"pending", "app_version", "last_error"} (optional, see protocol.admin)}

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
        "report": validate_device_report(obj.get("report")),
    }


def validate_device_report(obj: object) -> dict[str, Any] | None:
    """Check the optional ``report`` a device adds to its sync request.

    Shape: ``{"pending": 3, "app_version": "0.2.0", "last_error": "offline" | null}`` — what
    provincial IT sees on the devices screen (:mod:`protocol.admin`).

    Raises:
        WireError: when it is malformed.
    """
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise WireError("sync.report must be an object")
    last_error = obj.get("last_error")
    if last_error is not None:
        last_error = check_text(last_error, "sync.report.last_error", maximum=64)
    return {
        "pending": _check_int(obj.get("pending", 0), "sync.report.pending", maximum=10_000_000),
        "app_version": check_text(
            obj.get("app_version", ""), "sync.report.app_version", maximum=32
        ),
        "last_error": last_error,
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
