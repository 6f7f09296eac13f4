"""The sync status value the engine publishes and the UI renders (state as data)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum


class SyncState(str, Enum):
    """What the sync engine is doing, as one word the indicator can render."""

    NOT_ENROLLED = "not_enrolled"
    OFFLINE = "offline"
    SYNCING = "syncing"
    SYNCED = "synced"
    ERROR = "error"
    REVOKED = "revoked"


@dataclasses.dataclass(frozen=True)
class SyncStatus:
    """A snapshot of sync health: small, immutable, safe to pass between threads.

    Attributes:
        state: what the engine is doing now.
        pending: local changes not yet acknowledged by the server.
        conflicts: changes the server holds as conflicts for provincial IT.
        rejected: changes the server refused; they stay visible until handled.
        last_sync: when the last successful sync finished (local time), if ever.
        clock_offset_s: server time minus local time at the last sync, if known.
        last_error: the last error in plain Vietnamese, if the last attempt failed.
        progress: 0..1 while syncing, else None.
    """

    state: SyncState = SyncState.NOT_ENROLLED
    pending: int = 0
    conflicts: int = 0
    rejected: int = 0
    last_sync: dt.datetime | None = None
    clock_offset_s: float | None = None
    last_error: str | None = None
    progress: float | None = None

    #: A clock more than this far from the server's is flagged to the clerk and to IT.
    SKEW_LIMIT_S = 300.0

    @property
    def clock_wrong(self) -> bool:
        """Return True when the PC clock is more than five minutes off the server's."""
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > self.SKEW_LIMIT_S

    def replace(self, **changes: object) -> SyncStatus:
        """Return a copy with some attributes changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
