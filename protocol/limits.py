"""The sizes and limits both sides of the protocol agree on.

A device keeps its requests within them and the server refuses what exceeds them, so they are
declared once, here.
"""

from __future__ import annotations

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_PULL_LIMIT",
    "MAX_ATTACHMENT_BYTES",
    "MAX_CHANGES_PER_REQUEST",
    "MAX_CHUNK_BYTES",
    "MAX_ENVELOPE_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_PLAINTEXT_BYTES",
    "MAX_PULL_LIMIT",
    "SKEW_LIMIT_MS",
]

#: Most changes one ``POST /sync`` may push.
MAX_CHANGES_PER_REQUEST = 10_000
#: Changes per pull page when the device does not ask for another number, and the most it may.
DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 10_000
#: A device clock further than this from the server's is flagged (and still syncs).
SKEW_LIMIT_MS = 5 * 60 * 1000
#: Attachment chunk size the client should use (the server accepts up to MAX_CHUNK_BYTES).
CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 1024 * 1024
MAX_ATTACHMENT_BYTES = 256 * 1024 * 1024
#: Largest envelope either side accepts (the server also caps the HTTP body at this size).
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
#: Largest decompressed payload: guards against a zstd "bomb" inside a valid envelope.
MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024
#: Largest header: headers route envelopes and must stay small.
MAX_HEADER_BYTES = 4096
