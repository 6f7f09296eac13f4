"""Small stand-ins for the shell tests that do not need a real encrypted store or server."""

from __future__ import annotations

import threading
from collections.abc import Callable

from desktop.sync.status import SyncState, SyncStatus


class FakeSync:
    """A sync object that records ``sync_now`` calls and publishes statuses on demand."""

    def __init__(self, status: SyncStatus | None = None) -> None:
        """Start with ``status`` (default: synced, nothing pending)."""
        self._status = status or SyncStatus(state=SyncState.SYNCED)
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self.sync_now_calls = 0

    def status(self) -> SyncStatus:
        """Return the current status."""
        return self._status

    def sync_now(self) -> None:
        """Count the request."""
        self.sync_now_calls += 1

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Register ``callback``; return an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def publish(self, status: SyncStatus, *, from_thread: bool = True) -> None:
        """Publish ``status`` to subscribers, from a worker thread like the real engine."""
        self._status = status

        def send() -> None:
            for callback in list(self._subscribers):
                callback(status)

        if from_thread:
            thread = threading.Thread(target=send)
            thread.start()
            thread.join()
        else:
            send()
