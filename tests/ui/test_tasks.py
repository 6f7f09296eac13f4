"""The task façade: work off the Tk thread, callbacks on it, errors and progress delivered."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.ui.tasks import TaskRunner
from tests.ui.conftest import pump, wait_until

pytestmark = pytest.mark.gui


def test_result_arrives_on_the_tk_thread(root, tasks: TaskRunner) -> None:
    seen: dict[str, object] = {}

    def work(a: int, b: int) -> int:
        seen["worker"] = threading.current_thread()
        return a + b

    def done(result: int) -> None:
        seen["result"] = result
        seen["callback"] = threading.current_thread()

    handle = tasks.run(work, 2, 3, on_done=done, description="cộng")
    wait_until(root, lambda: "result" in seen)
    assert seen["result"] == 5
    assert seen["callback"] is threading.main_thread()
    assert seen["worker"] is not threading.main_thread()
    assert handle.done and handle.result == 5
    assert tasks.running() == []


def test_error_goes_to_on_error_and_unhandled_errors_to_the_runner(root, tasks) -> None:
    errors: list[BaseException] = []
    unhandled: list[tuple[object, BaseException]] = []
    tasks.on_unhandled_error = lambda handle, exc: unhandled.append((handle, exc))

    def fail() -> None:
        raise ValueError("hỏng")

    tasks.run(fail, on_error=errors.append)
    other = tasks.run(fail, description="in giấy")
    wait_until(root, lambda: errors and unhandled)
    assert str(errors[0]) == "hỏng"
    assert unhandled[0][0] is other and isinstance(unhandled[0][1], ValueError)


def test_progress_is_reported_in_order(root, tasks) -> None:
    reports: list[tuple[float | None, str]] = []
    finished: list[str] = []

    def work(progress) -> str:
        for i in range(1, 5):
            progress(i / 4, f"bước {i}")
        return "xong"

    tasks.run(work, on_progress=lambda f, t: reports.append((f, t)), on_done=finished.append)
    wait_until(root, lambda: finished)
    assert reports == [(0.25, "bước 1"), (0.5, "bước 2"), (0.75, "bước 3"), (1.0, "bước 4")]
    assert finished == ["xong"]


def test_cancelled_task_never_calls_back(root, tasks) -> None:
    gate = threading.Event()
    called: list[object] = []
    handle = tasks.run(gate.wait, 5, on_done=called.append, on_error=called.append)
    handle.cancel()
    gate.set()
    wait_until(root, lambda: handle.done)
    pump(root, 0.1)
    assert called == []


def test_a_flood_of_messages_is_drained_in_bounded_batches(root) -> None:
    runner = TaskRunner(root, poll_ms=10_000, batch=50)  # drain by hand only
    try:
        got: list[int] = []
        for i in range(120):
            runner.call_soon(got.append, i)
        assert runner.drain() == 50
        assert runner.drain() == 50
        assert runner.drain() == 20
        assert got == list(range(120))
    finally:
        runner.close()


def test_a_failing_callback_does_not_stop_other_callbacks(root, tasks) -> None:
    got: list[str] = []

    def broken(_result: object) -> None:
        raise RuntimeError("callback hỏng")

    tasks.run(lambda: 1, on_done=broken)
    tasks.run(lambda: "ok", on_done=got.append)
    wait_until(root, lambda: got == ["ok"])


def test_long_task_is_reported_busy_after_the_threshold(root) -> None:
    runner = TaskRunner(root, poll_ms=10, busy_after_s=0.2)
    try:
        states: list[list[str]] = []
        runner.subscribe_busy(lambda busy: states.append([h.description for h in busy]))
        gate = threading.Event()
        runner.run(gate.wait, 5, description="Đang in")
        pump(root, 0.1)
        assert states == []  # short tasks never flash a busy indicator
        wait_until(root, lambda: states and states[-1] == ["Đang in"])
        gate.set()
        wait_until(root, lambda: states[-1] == [])
    finally:
        runner.close()


def test_ui_stays_responsive_while_a_task_runs(root, tasks) -> None:
    gate = threading.Event()
    tasks.run(gate.wait, 5)
    ticks: list[float] = []
    root.after(20, lambda: ticks.append(time.monotonic()))
    pump(root, 0.15)
    gate.set()
    assert ticks, "the Tk loop was blocked by a background task"


def test_closed_runner_refuses_work(root) -> None:
    runner = TaskRunner(root)
    runner.close()
    with pytest.raises(RuntimeError):
        runner.run(lambda: None)
