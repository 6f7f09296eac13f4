"""What every screen is handed: the store, the task runner, settings, sync and navigation.

Screens never write SQL and never touch the network; they call the store (writes through
``tasks``) and the ``sync`` object, and move between screens with ``navigate``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from desktop.sync.status import SyncStatus

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    # Types only: the store and the printing key are loaded after sign-in, not at start-up.
    from desktop.console.service import ConsoleService
    from desktop.printing.qr import Signer
    from desktop.store.store import Store
    from desktop.sync.report import SyncAttempt
    from desktop.ui.settings import Settings
    from desktop.ui.tasks import TaskRunner


class SyncService(Protocol):
    """The sync object screens talk to: the engine and its scheduler (``desktop.app``)."""

    def status(self) -> SyncStatus:
        """Return the current sync status."""
        ...

    def sync_now(self) -> None:
        """Start a sync soon, without waiting for it.

        Raises:
            RuntimeError: the device is not enrolled yet (the message says what to do).
        """
        ...

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None] | None:
        """Call ``callback(status)`` on every status change (from any thread).

        Returns:
            A function that unsubscribes, or None when there is nothing to undo.
        """
        ...

    def enrol(self, server_url: str, code: str) -> object:
        """Enrol this device with the provincial server (slow: call it from a worker)."""
        ...

    def printout_signer(self) -> Signer:
        """Return the device key's signing function for the QR code on printouts."""
        ...

    def apply_settings(self, settings: Settings) -> None:
        """Follow changed settings (the sync interval)."""
        ...

    def history(self, limit: int) -> list[SyncAttempt]:
        """Return up to ``limit`` recorded sync attempts, newest first ([] when none are kept)."""
        ...

    def stop(self) -> None:
        """Stop syncing and release the network (the clerk signed out or the window closed)."""
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


def _ignore_console(console: ConsoleService) -> None:
    """Drop a console link (used when no console shell is there to take it)."""


def _nothing() -> None:
    """Do nothing."""


@dataclasses.dataclass
class Services:
    """Everything a screen needs, handed to its factory.

    Attributes:
        store: the open store of the signed-in clerk.
        tasks: the task façade; run store writes and other slow work through it.
        settings: the profile's settings (call ``settings.save()`` after changing them).
        sync: the sync object, or None until it is built (it is built after sign-in).
        navigate: ``navigate(screen_name, **kwargs)`` shows another screen.
        toast: ``toast(message, kind="success")`` shows a short notice; kind is one of
            "success", "info", "warning", "danger".
        clerk: the signed-in clerk.
        lock: locks the window (back to sign-in; open forms keep their drafts).
        profile_dir: the profile directory (settings, database, scans).
        console: provincial IT's link to the provincial server (``ConsoleService``), in a
            provincial profile once it is enrolled as an operator; None for clerks.
        attach_console: ``attach_console(console)`` hands a newly enrolled link to the
            console's shell (which rebuilds the screens that need it and opens the inbox).
    """

    store: Store
    tasks: TaskRunner
    settings: Settings
    sync: SyncService | None = None
    navigate: Callable[..., None] = _ignore_navigate
    toast: Callable[..., None] = _ignore_toast
    clerk: Clerk = Clerk("", "")
    lock: Callable[[], None] = _nothing
    profile_dir: Path | None = None
    console: ConsoleService | None = None
    attach_console: Callable[[ConsoleService], None] = _ignore_console

    def sync_status(self) -> SyncStatus:
        """Return the sync status, or a "not enrolled" status when there is no sync object."""
        if self.sync is None:
            return SyncStatus()
        return self.sync.status()

    def start_sync(self) -> bool:
        """Ask the sync object to sync now; when it cannot, say why in a toast.

        Returns:
            True when a sync was started.
        """
        if self.sync is None:
            self.toast(
                "Máy chưa được cài đặt đồng bộ. Vào Cài đặt để nhập địa chỉ máy chủ.", "info"
            )
            return False
        try:
            self.sync.sync_now()
        except Exception as exc:  # not enrolled, or the scheduler refused: tell the clerk
            log.exception("sync_now failed")
            self.toast(f"Không bắt đầu đồng bộ được: {exc}", "danger")
            return False
        return True
