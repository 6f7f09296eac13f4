"""Entry point of the commune desktop app: builds the window and wires store + sync + ui.

``python -m desktop.app --profile DIR``: with no profile in DIR the installer's first-run
wizard opens; otherwise the sign-in screen. Importing this module is cheap (no Tk, no
store, no crypto): everything heavy is imported inside ``main``.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: importing this module must stay cheap (see the module docstring).
    from desktop.printing.qr import Signer
    from desktop.store.store import Store
    from desktop.sync.engine import EnrolResult, SyncEngine
    from desktop.sync.report import SyncAttempt
    from desktop.sync.scheduler import SyncScheduler
    from desktop.sync.status import SyncStatus
    from desktop.ui.settings import Settings
    from desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

APP_TITLE = "Một Cửa Xã"
WINDOW_SIZE = (1200, 680)  # fits a 1366x768 screen with a taskbar and the menu bar


def default_profile_dir() -> Path:
    """Return the per-user profile directory, the same one the ``motcua`` CLI uses.

    An installer who enrols with ``motcua enrol`` and a clerk who opens the app from the menu
    must land in the same profile, so both ask ``desktop.store.profile``.
    """
    from desktop.store.profile import default_profile_dir as store_default

    return store_default()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="motcua-app", description="Một Cửa Xã: civil-status registration at the commune."
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="profile directory (default: %(default)s → per-user directory)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the seconds from process start to an interactive window here (benchmarks)",
    )
    parser.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="close the window as soon as it is interactive (benchmarks)",
    )
    parser.add_argument("--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


class EngineSync:
    """The sync object the UI talks to: the headless engine plus its APScheduler scheduler.

    The engine publishes statuses (``status``/``subscribe``); the scheduler runs
    ``sync_once`` periodically and on demand, on its own thread, never two at a time.
    Implements ``desktop.ui.services.SyncService``.

    Args:
        engine: the sync engine on the open store.
        scheduler: the scheduler around it (not started).
    """

    def __init__(self, engine: SyncEngine, scheduler: SyncScheduler) -> None:
        """Start the scheduler when the device is enrolled."""
        self.engine = engine
        self.scheduler = scheduler
        if engine.enrolled:
            scheduler.start()

    def status(self) -> SyncStatus:
        """Return the engine's current status."""
        return self.engine.status()

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``callback(status)`` on each status change (from the sync thread)."""
        return self.engine.subscribe(callback)

    def sync_now(self) -> None:
        """Sync as soon as possible (no-op while a sync runs).

        Raises:
            RuntimeError: when the device is not enrolled yet (the UI says what to do).
        """
        if not self.engine.enrolled:
            raise RuntimeError("máy chưa đăng ký với máy chủ tỉnh (Cài đặt → mã đăng ký)")
        if not self.scheduler.running:
            self.scheduler.start()
        self.scheduler.sync_now()

    def enrol(self, server_url: str, code: str) -> EnrolResult:
        """Enrol with the provincial server (worker thread), then start periodic syncs."""
        result = self.engine.enrol(server_url, code)
        if not self.scheduler.running:
            self.scheduler.start()
        return result

    def printout_signer(self) -> Signer:
        """Return the device key's signing function for the QR code on printouts."""
        return self.engine.printout_signer()

    def apply_settings(self, settings: Settings) -> None:
        """Follow a changed sync interval from the settings screen."""
        self.scheduler.set_interval(settings.sync_interval_min)

    def history(self, limit: int) -> list[SyncAttempt]:
        """Return the engine's last sync attempts, newest first."""
        return self.engine.history(limit)

    def stop(self) -> None:
        """Stop periodic syncs and close the HTTP connections."""
        self.scheduler.shutdown(wait=False)
        self.engine.close()


def build_sync(store: Store, settings: Settings, tasks: TaskRunner) -> EngineSync:
    """Build the sync engine and its scheduler for an open store (on a worker thread).

    The engine pulls in crypto and HTTP, so it is imported here, after sign-in, not at start-up.
    """
    from desktop.sync.engine import SyncEngine
    from desktop.sync.scheduler import SyncScheduler

    engine = SyncEngine(store)
    scheduler = SyncScheduler(engine, interval_minutes=float(settings.sync_interval_min))
    return EngineSync(engine, scheduler)


def resident_kib() -> int:
    """Return this process's resident memory in KiB (0 where /proc is not available)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the desktop app until its window closes.

    Returns:
        The process exit status.
    """
    started = time.perf_counter()
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    profile_dir = (args.profile or default_profile_dir()).absolute()

    from desktop.ui.session import run_window

    def ready(close: Callable[[], None]) -> None:
        elapsed = time.perf_counter() - started
        log.debug("interactive after %.3f s", elapsed)
        if args.ready_file is not None:
            # seconds since main() started, wall-clock time now, resident memory in KiB
            args.ready_file.write_text(
                f"{elapsed:.4f} {time.time():.4f} {resident_kib()}\n", encoding="utf-8"
            )
        if args.exit_when_ready:
            close()

    run_window(profile_dir, title=APP_TITLE, size=WINDOW_SIZE, make_sync=build_sync, on_ready=ready)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
