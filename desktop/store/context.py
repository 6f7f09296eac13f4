"""What every write needs to know: this device, its commune, the acting clerk, the clocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.store.hlc import HybridClock


def _local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass
class WriteContext:
    """Identity and clocks shared by the write functions of one open store.

    Attributes:
        device_id: this device's UUIDv7.
        commune: the 5-digit commune code of this profile.
        clerk: the username of the clerk who signed in (recorded on every change).
        clock: the device's hybrid logical clock.
        now: the local wall clock, timezone-aware (injectable in tests).
    """

    device_id: str
    commune: str
    clerk: str
    clock: HybridClock
    now: Callable[[], dt.datetime] = field(default=_local_now)

    def timestamp(self) -> str:
        """Return the current local time as ISO 8601 with its UTC offset."""
        return self.now().isoformat(timespec="seconds")

    @property
    def device_tag(self) -> str:
        """Return the 4 hex digits of the device id printed in dossier numbers.

        The last four: the first digits of a UUIDv7 are its timestamp, alike on every PC
        installed the same month, while the last ones are random.
        """
        return self.device_id.replace("-", "")[-4:].upper()
