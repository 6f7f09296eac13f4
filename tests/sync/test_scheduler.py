"""The sync scheduler runs the engine periodically and on demand, never two syncs at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from desktop.sync.scheduler import SyncScheduler


class FakeEngine:
    """Counts syncs and how many ran at the same time."""

    def __init__(self, duration: float = 0.0, fail: bool = False) -> None:
        self.duration = duration
        self.fail = fail
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.synced = threading.Event()

    def sync_once(self) -> str:
        with self.lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            time.sleep(self.duration)
            if self.fail:
                raise RuntimeError("server exploded")
            return "ok"
        finally:
            with self.lock:
                self.active -= 1
            self.synced.set()


@pytest.fixture
def schedulers() -> Iterator[list[SyncScheduler]]:
    made: list[SyncScheduler] = []
    yield made
    for scheduler in made:
        scheduler.shutdown(wait=True)


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_periodic_job_runs_repeatedly(schedulers) -> None:
    engine = FakeEngine()
    scheduler = SyncScheduler(engine, interval_minutes=0.2 / 60, first_run_delay_s=0)
    schedulers.append(scheduler)
    scheduler.start()
    assert scheduler.running
    assert _wait_for(lambda: engine.calls >= 3)


def test_slow_syncs_never_overlap(schedulers) -> None:
    engine = FakeEngine(duration=0.5)
    scheduler = SyncScheduler(engine, interval_minutes=0.05 / 60, first_run_delay_s=0)
    schedulers.append(scheduler)
    scheduler.start()
    assert _wait_for(lambda: engine.calls >= 3, timeout=5)
    for _ in range(5):
        scheduler.sync_now()
    time.sleep(0.3)
    assert engine.max_active == 1


def test_sync_now_runs_at_once_and_is_refused_while_syncing(schedulers) -> None:
    engine = FakeEngine(duration=0.6)
    scheduler = SyncScheduler(engine, interval_minutes=60, first_run_delay_s=3600)
    schedulers.append(scheduler)
    scheduler.start()
    time.sleep(0.2)
    assert engine.calls == 0
    started = time.monotonic()
    assert scheduler.sync_now() is True
    assert _wait_for(lambda: scheduler.syncing, timeout=2)
    assert time.monotonic() - started < 1.5
    assert scheduler.sync_now() is False  # the running sync's result will show
    assert _wait_for(lambda: not scheduler.syncing and engine.calls == 1)
    # The periodic schedule continues after a manual sync.
    next_run = scheduler.next_run()
    assert next_run is not None


def test_a_failing_sync_keeps_the_schedule(schedulers) -> None:
    engine = FakeEngine(fail=True)
    scheduler = SyncScheduler(engine, interval_minutes=0.2 / 60, first_run_delay_s=0)
    schedulers.append(scheduler)
    scheduler.start()
    assert _wait_for(lambda: engine.calls >= 2)
    assert scheduler.running


def test_interval_changes_and_bad_values_are_refused(schedulers) -> None:
    engine = FakeEngine()
    scheduler = SyncScheduler(engine, interval_minutes=60, first_run_delay_s=3600)
    schedulers.append(scheduler)
    with pytest.raises(RuntimeError):
        scheduler.sync_now()
    scheduler.start()
    scheduler.set_interval(0.2 / 60)
    assert _wait_for(lambda: engine.calls >= 1)
    with pytest.raises(ValueError):
        scheduler.set_interval(0)
    with pytest.raises(ValueError):
        SyncScheduler(engine, interval_minutes=-1)


def test_shutdown_waits_for_the_running_sync(schedulers) -> None:
    engine = FakeEngine(duration=0.4)
    scheduler = SyncScheduler(engine, interval_minutes=60, first_run_delay_s=0)
    scheduler.start()
    assert _wait_for(lambda: scheduler.syncing, timeout=2)
    scheduler.shutdown(wait=True)
    assert engine.active == 0 and engine.calls == 1
    assert not scheduler.running


def test_the_real_engine_syncs_on_schedule_and_on_demand(sqlite_server, make_device) -> None:
    from tests.forms.samples import RECEIVED
    from tests.store.factory import birth

    device = make_device(sqlite_server, "a")
    scheduler = SyncScheduler(device.engine, interval_minutes=60, first_run_delay_s=0)
    try:
        scheduler.start()
        assert _wait_for(lambda: scheduler.runs >= 1 and not scheduler.syncing, timeout=10)
        device.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
        assert device.engine.status().pending == 1
        assert _wait_for(lambda: scheduler.sync_now(), timeout=5)  # "Đồng bộ ngay"
        assert _wait_for(lambda: device.engine.status().pending == 0, timeout=10)
        assert device.engine.status().last_sync is not None
    finally:
        scheduler.shutdown(wait=True)
