"""Time-ordered identifiers: UUIDv7 as in RFC 9562."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_last_rand_a = 0


def uuid7() -> str:
    """Return a new UUIDv7 as a lowercase hyphenated string.

    The first 48 bits are Unix milliseconds, so ids sort by creation time. Within one
    millisecond the 12-bit ``rand_a`` field is used as a counter (RFC 9562, method 1), so ids
    made by this process are strictly increasing even when the clock does not move.
    """
    global _last_ms, _last_rand_a
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            # Same millisecond (or the clock stepped back): keep order by counting up.
            ms = _last_ms
            rand_a = _last_rand_a + 1
            if rand_a > 0xFFF:
                ms += 1
                rand_a = int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:
            rand_a = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last_ms, _last_rand_a = ms, rand_a
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return str(uuid.UUID(int=value))


def uuid7_time_ms(value: str) -> int:
    """Return the Unix millisecond timestamp embedded in a UUIDv7 string."""
    return uuid.UUID(value).int >> 80
