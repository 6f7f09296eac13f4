"""Run the sync engine every few minutes and on demand, on APScheduler's background thread.

The scheduler only calls :meth:`SyncEngine.sync_once`; everything the UI shows comes from
the engine's status (``engine.subscribe``). One job does both the periodic and the "Đồng bộ
ngay" syncs, so ``max_instances=1`` guarantees two syncs never overlap and ``coalesce=True``
turns runs missed while the PC slept into one.

APScheduler is imported when the scheduler starts, not when this module is imported.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

JOB_ID = "motcua-sync"
DEFAULT_INTERVAL_MINUTES = 5.0


class _Engine(Protocol):
    def sync_once(self) -> Any: ...


class SyncScheduler:
    """Sync periodically and when asked.

    Args:
        engine: anything with ``sync_once()`` (the :class:`~desktop.sync.engine.SyncEngine`).
        interval_minutes: minutes between periodic syncs.
        first_run_delay_s: seconds after :meth:`start` before the first sync (lets the app's
            window appear first).
    """

    def __init__(
        self,
        engine: _Engine,
        *,
        interval_minutes: float = DEFAULT_INTERVAL_MINUTES,
        first_run_delay_s: float = 5.0,
    ) -> None:
        if interval_minutes <= 0:
            raise ValueError("the sync interval must be positive")
        self.engine = engine
        self.interval_minutes = float(interval_minutes)
        self.first_run_delay_s = first_run_delay_s
        self._scheduler: BackgroundScheduler | None = None
        self._running_lock = threading.Lock()
        #: How many times the job ran (tests and the sync panel read it).
        self.runs = 0

    @property
    def running(self) -> bool:
        """Whether the scheduler has been started and not shut down."""
        return self._scheduler is not None and self._scheduler.running

    @property
    def syncing(self) -> bool:
        """Whether a sync is running right now."""
        return self._running_lock.locked()

    def start(self) -> None:
        """Start the background thread and the periodic job."""
        if self.running:
            return
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BackgroundScheduler(daemon=True, timezone=dt.timezone.utc)
        scheduler.add_job(
            self._run,
            trigger=IntervalTrigger(minutes=self.interval_minutes, timezone=dt.timezone.utc),
            id=JOB_ID,
            name="sync",
            max_instances=1,
            coalesce=True,
            # A PC that slept through runs syncs once on waking, however late.
            misfire_grace_time=None,
            next_run_time=_utcnow() + dt.timedelta(seconds=self.first_run_delay_s),
        )
        scheduler.start()
        self._scheduler = scheduler

    def sync_now(self) -> bool:
        """Ask for a sync as soon as possible (the "Đồng bộ ngay" button).

        Returns:
            False when a sync is already running (its result will show shortly), else True.

        Raises:
            RuntimeError: when the scheduler is not started.
        """
        if self._scheduler is None:
            raise RuntimeError("the sync scheduler is not started")
        if self.syncing:
            return False
        # Moving the one job's next run to now keeps max_instances=1 meaningful: a manual and
        # a periodic sync can never run side by side.
        self._scheduler.modify_job(JOB_ID, next_run_time=_utcnow())
        self._scheduler.wakeup()
        return True

    def set_interval(self, minutes: float) -> None:
        """Change the interval between periodic syncs (from the settings screen)."""
        if minutes <= 0:
            raise ValueError("the sync interval must be positive")
        self.interval_minutes = float(minutes)
        if self._scheduler is not None:
            from apscheduler.triggers.interval import IntervalTrigger

            self._scheduler.reschedule_job(
                JOB_ID, trigger=IntervalTrigger(minutes=minutes, timezone=dt.timezone.utc)
            )

    def next_run(self) -> dt.datetime | None:
        """Return when the next sync is due (UTC), if scheduled."""
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job(JOB_ID)
        return job.next_run_time if job is not None else None

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler; with ``wait`` let a running sync finish first."""
        if self._scheduler is not None:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=wait)
            self._scheduler = None

    def _run(self) -> None:
        with self._running_lock:
            self.runs += 1
            try:
                self.engine.sync_once()
            except Exception:  # the engine publishes the error in its status; keep the job
                log.exception("scheduled sync failed")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
