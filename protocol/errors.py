"""Every error the protocol can raise or answer with: exception types and API error codes.

Both programs import these: the server raises and answers with them, the device's sync engine
reads the ``code`` of an error body to tell the clerk what happened.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERR_BAD_ENVELOPE",
    "ERR_BAD_REQUEST",
    "ERR_BUSY",
    "ERR_CLONED",
    "ERR_ENROL",
    "ERR_NOT_FOUND",
    "ERR_OFFSET",
    "ERR_REPLAYED",
    "ERR_REVOKED",
    "ERR_SESSION",
    "ERR_TOO_LARGE",
    "ERR_UNKNOWN_DEVICE",
    "EnvelopeError",
    "KeyError_",
    "WireError",
    "error_body",
]

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


class EnvelopeError(ValueError):
    """Raised for an envelope that cannot be read, verified or opened; the message says why."""


class KeyError_(ValueError):  # noqa: N801 - trailing underscore: ``KeyError`` is a builtin
    """Raised when key material is malformed (wrong length, bad base64, unknown format)."""


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """Return the JSON object of an API error: ``{"error": message, "code": code, ...}``."""
    return {"error": message, "code": code, **extra}
