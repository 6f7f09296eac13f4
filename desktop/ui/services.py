"""What every screen is handed: the store, the task runner, settings, sync and navigation.

Screens never write SQL and never touch the network; they call the store (writes through
``tasks``) and the ``sync`` object, and move between screens with ``navigate``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.sync.status import SyncStatus

if TYPE_CHECKING:
    from desktop.ui.settings import Settings
    from desktop.ui.tasks import TaskRunner


class SyncService(Protocol):
    """The sync object screens talk to (the engine, or a stand-in before enrolment)."""

    def status(self) -> SyncStatus:
        """Return the current sync status."""
        ...

    def sync_now(self) -> None:
        """Start a sync soon, without waiting for it."""
        ...

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None] | None:
        """Call ``callback(status)`` on every status change (from any thread)."""
        ...


@dataclasses.dataclass(frozen=True)
class Clerk:
    """The signed-in clerk.

    Attributes:
        username: the login name.
        full_name: the name printed on slips and shown in the status bar.
    """

    username: str
    full_name: str


def _ignore_toast(message: str, kind: str = "success") -> None:
    """Drop a toast (used when no shell is there to show it)."""


def _ignore_navigate(screen_name: str, **kwargs: Any) -> None:
    """Drop a navigation request (used when no shell is there)."""


def _nothing() -> None:
    """Do nothing."""


@dataclasses.dataclass
class Services:
    """Everything a screen needs, handed to its factory.

    Attributes:
        store: the open ``desktop.store.store.Store`` of the signed-in clerk.
        tasks: the task façade; run store writes and other slow work through it.
        settings: the profile's settings (call ``settings.save()`` after changing them).
        sync: the sync object, or None when sync is not available in this build.
        navigate: ``navigate(screen_name, **kwargs)`` shows another screen.
        toast: ``toast(message, kind="success")`` shows a short notice; kind is one of
            "success", "info", "warning", "danger".
        clerk: the signed-in clerk.
        lock: locks the window (back to sign-in; open forms keep their drafts).
        profile_dir: the profile directory (settings, database, scans).
    """

    store: Any
    tasks: TaskRunner
    settings: Settings
    sync: SyncService | None = None
    navigate: Callable[..., None] = _ignore_navigate
    toast: Callable[..., None] = _ignore_toast
    clerk: Clerk = Clerk("", "")
    lock: Callable[[], None] = _nothing
    profile_dir: Path | None = None

    def sync_status(self) -> SyncStatus:
        """Return the sync status, or a "not enrolled" status when there is no sync object."""
        if self.sync is None:
            return SyncStatus()
        return self.sync.status()
