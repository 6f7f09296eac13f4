"""Small stand-ins for the shell tests that do not need a real encrypted store or server."""

from __future__ import annotations

import threading
from collections.abc import Callable

from desktop.sync.report import SyncAttempt
from desktop.sync.status import SyncState, SyncStatus
from desktop.ui.settings import Settings


class FakeSync:
    """A sync object (``SyncService``) that records calls and publishes statuses on demand."""

    def __init__(self, status: SyncStatus | None = None) -> None:
        """Start with ``status`` (default: synced, nothing pending)."""
        self._status = status or SyncStatus(state=SyncState.SYNCED)
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self.sync_now_calls = 0
        self.enrolments: list[tuple[str, str]] = []
        self.applied: list[Settings] = []
        self.stopped = False

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

    def enrol(self, server_url: str, code: str) -> object:
        """Record the enrolment and report the device as synced from now on."""
        self.enrolments.append((server_url, code))
        self._status = SyncStatus(state=SyncState.SYNCED)
        return None

    def printout_signer(self) -> Callable[[bytes], bytes]:
        """Refuse like an engine without a device key (printouts then carry an unsigned QR)."""
        raise RuntimeError("the fake sync has no device key")

    def apply_settings(self, settings: Settings) -> None:
        """Record the settings."""
        self.applied.append(settings)

    def history(self, limit: int) -> list[SyncAttempt]:
        """Keep no history (the sync panel lists the status changes it saw)."""
        return []

    def stop(self) -> None:
        """Record that sync was stopped."""
        self.stopped = True

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
