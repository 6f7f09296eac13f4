"""Hybrid logical clock stamps for ordering changes across devices.

A stamp is ``<physical ms, 13 digits>-<counter, 4 digits>-<device id>`` and sorts as a string.
It orders changes for display and history; it never decides the value of a legal field.

Decision on remote stamps: old PCs have dead CMOS batteries, so a remote stamp far in the
future must not drag this device's clock with it for good. :meth:`HybridClock.update` accepts
a remote physical time at most :data:`MAX_FORWARD_MS` (24 hours) ahead of the local wall
clock; a stamp further ahead is ignored for the physical part (the counter still moves so the
next local stamp is after everything seen locally) and reported by returning ``False``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: A remote stamp may pull the local clock forward by at most this much.
MAX_FORWARD_MS = 24 * 3600 * 1000
_COUNTER_MAX = 9999


def format_hlc(physical_ms: int, counter: int, device_id: str) -> str:
    """Return the string form of a stamp."""
    return f"{physical_ms:013d}-{counter:04d}-{device_id}"


def parse_hlc(stamp: str) -> tuple[int, int, str]:
    """Split a stamp into (physical ms, counter, device id).

    Raises:
        ValueError: the text is not a stamp.
    """
    parts = stamp.split("-", 2)
    if len(parts) != 3 or len(parts[0]) != 13 or len(parts[1]) != 4:
        raise ValueError(f"not an HLC stamp: {stamp!r}")
    return int(parts[0]), int(parts[1]), parts[2]


class HybridClock:
    """A thread-safe hybrid logical clock for one device.

    Args:
        device_id: this device's id, appended to every stamp.
        last: the last stamp this device issued (from the store), so stamps stay increasing
            across restarts even if the wall clock went back.
        wall_ms: the physical clock; injectable for tests.
    """

    def __init__(
        self,
        device_id: str,
        last: str | None = None,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self.device_id = device_id
        self._wall = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._pt = 0
        self._c = 0
        if last:
            self._pt, self._c, _ = parse_hlc(last)

    def _advance(self, pt: int, c: int) -> None:
        if c > _COUNTER_MAX:
            # The counter has 4 digits; borrow a millisecond rather than overflow the format.
            pt, c = pt + 1, 0
        self._pt, self._c = pt, c

    def now(self) -> str:
        """Return a new stamp, greater than every stamp issued or seen before."""
        with self._lock:
            wall = self._wall()
            if wall > self._pt:
                self._advance(wall, 0)
            else:
                self._advance(self._pt, self._c + 1)
            return format_hlc(self._pt, self._c, self.device_id)

    def update(self, remote: str) -> bool:
        """Merge a stamp received from elsewhere.

        Returns:
            True when the stamp was accepted, False when its physical time was more than
            :data:`MAX_FORWARD_MS` ahead of the local wall clock and so was not followed.

        Raises:
            ValueError: ``remote`` is not a stamp.
        """
        r_pt, r_c, _ = parse_hlc(remote)
        with self._lock:
            wall = self._wall()
            if r_pt > wall + MAX_FORWARD_MS:
                self._advance(self._pt, self._c + 1)
                return False
            pt = max(wall, self._pt, r_pt)
            if pt == self._pt and pt == r_pt:
                c = max(self._c, r_c) + 1
            elif pt == self._pt:
                c = self._c + 1
            elif pt == r_pt:
                c = r_c + 1
            else:
                c = 0
            self._advance(pt, c)
            return True

    def last(self) -> str:
        """Return the most recent stamp state (for persisting)."""
        with self._lock:
            return format_hlc(self._pt, self._c, self.device_id)
