"""The one task façade: run work off the Tk thread and deliver results back on it.

Workers never touch widgets. A worker posts plain data (result, error, progress) to a
``queue.Queue``; one ``after`` loop on the Tk thread drains it a bounded batch at a time and
calls the screen's callbacks there (Thonny's ``_poll_backend_messages``; ttkbootstrap's
threads how-to). Store writes go through the store's own writer thread anyway; this façade
only keeps the window responsive while they wait. The drain also finalizes the Tk variables,
fonts and images that Python's collector happened to free on another thread
(:mod:`desktop.ui.tk_finalizers`): a Tcl call from a worker would stall it.

Typical use from a screen::

    services.tasks.run(
        store.register_dossier, "khai_sinh", data,
        on_done=self._saved, on_error=self._save_failed, description="Lưu hồ sơ",
    )

A task that wants to report progress passes ``on_progress``; the function then receives a
keyword argument ``progress`` — a callable ``progress(fraction, text="")`` that is safe to
call from the worker thread (``fraction`` in 0..1, or None for "busy, amount unknown").
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import tkinter
from collections.abc import Callable
from typing import Any

from desktop.ui import tk_finalizers

log = logging.getLogger(__name__)

#: Called on the Tk thread with the tasks that have run longer than the busy threshold.
BusyListener = Callable[[list["TaskHandle"]], None]


class TaskHandle:
    """One background task: what it is, whether it finished, and a way to ignore its result.

    Attributes:
        task_id: a number unique within the runner.
        description: what the task does, in Vietnamese, for the status bar.
        started_at: ``time.monotonic()`` when the task was started.
        done: True once its result or error has been delivered on the Tk thread.
        result: the function's return value, once done.
        error: the exception it raised, once done, if any.
        progress: the last progress fraction reported (0..1), or None.
        progress_text: the last progress text reported.
    """

    def __init__(self, task_id: int, description: str) -> None:
        """Create a handle; only TaskRunner makes these."""
        self.task_id = task_id
        self.description = description
        self.started_at = time.monotonic()
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.progress: float | None = None
        self.progress_text = ""
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        """Return True once ``cancel()`` was called (workers may poll this to stop early)."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Drop this task's callbacks; the worker keeps running unless it checks ``cancelled``.

        A screen that is closed calls this so its callbacks never run against destroyed widgets.
        """
        self._cancelled.set()

    @property
    def elapsed(self) -> float:
        """Return seconds since the task started."""
        return time.monotonic() - self.started_at

    def __repr__(self) -> str:
        """Show id, description and state for logs."""
        state = "done" if self.done else "running"
        return f"<TaskHandle {self.task_id} {self.description!r} {state}>"


class _Task:
    """Callbacks for one task; they live only on the Tk thread."""

    __slots__ = ("handle", "keepalive", "on_done", "on_error", "on_progress")

    def __init__(
        self,
        handle: TaskHandle,
        on_done: Callable[[Any], object] | None,
        on_error: Callable[[BaseException], object] | None,
        on_progress: Callable[[float | None, str], object] | None,
    ) -> None:
        self.handle = handle
        self.on_done = on_done
        self.on_error = on_error
        self.on_progress = on_progress
        self.keepalive: object = None


class TaskRunner:
    """Run functions on worker threads; deliver results, errors and progress on the Tk thread.

    Args:
        root: the Tk root (or any widget) whose ``after`` loop drains the queue.
        poll_ms: how often the queue is drained while no task runs.
        active_poll_ms: how often while tasks run: a result reaches the screen within this
            (at 40 ms every console answer waited ~20 ms on average for the drain).
        batch: how many messages one drain handles at most, so a flood never freezes the UI.
        busy_after_s: tasks running longer than this are reported to busy listeners
            (the status bar shows a busy indicator for them).
    """

    def __init__(
        self,
        root: tkinter.Misc,
        *,
        poll_ms: int = 40,
        active_poll_ms: int = 10,
        batch: int = 200,
        busy_after_s: float = 1.0,
    ) -> None:
        """Start the drain loop on ``root``."""
        tk_finalizers.install()
        self._root = root
        self._poll_ms = poll_ms
        self._active_poll_ms = active_poll_ms
        self._fast = False
        self._batch = batch
        self.busy_after_s = busy_after_s
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._ids = itertools.count(1)
        self._running: dict[int, _Task] = {}
        self._busy_listeners: list[BusyListener] = []
        self._busy_ids: tuple[int, ...] = ()
        self._after_id: str | None = None
        self._closed = False
        #: Called with (handle, error) on the Tk thread for errors no ``on_error`` handled.
        self.on_unhandled_error: Callable[[TaskHandle, BaseException], object] | None = None
        self._schedule()

    # -- public API ------------------------------------------------------------------------

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], object] | None = None,
        on_error: Callable[[BaseException], object] | None = None,
        on_progress: Callable[[float | None, str], object] | None = None,
        description: str = "",
    ) -> TaskHandle:
        """Run ``fn(*args)`` on a worker thread and call back on the Tk thread.

        Args:
            fn: the work; must not touch widgets.
            *args: positional arguments for ``fn``.
            on_done: called with the return value.
            on_error: called with the exception; without it the runner's
                ``on_unhandled_error`` (the shell shows a message) or the log gets it.
            on_progress: called with ``(fraction, text)``; when given, ``fn`` also receives the
                keyword ``progress`` to report with.
            description: what the task does, shown in the status bar while it is busy.

        Returns:
            The task's handle.

        Raises:
            RuntimeError: when the runner was closed.
        """
        if self._closed:
            raise RuntimeError("TaskRunner is closed")
        handle = TaskHandle(next(self._ids), description)
        self._running[handle.task_id] = _Task(handle, on_done, on_error, on_progress)
        self._poll_faster()
        kwargs: dict[str, Any] = {}
        if on_progress is not None:

            def progress(fraction: float | None = None, text: str = "") -> None:
                self._queue.put(("progress", handle.task_id, fraction, text))

            kwargs["progress"] = progress

        # The worker must never drop the last reference to ``fn`` or its arguments: if they
        # hold Tk variables (a bound method of a screen, say), their __del__ would run on the
        # worker thread and Tcl refuses that. The Tk-side task keeps them alive until its
        # result is dispatched, and the worker lets go of its own references first.
        self._running[handle.task_id].keepalive = (fn, args, kwargs)
        holder: list[Any] = [fn, args, kwargs]

        def work() -> None:
            call, call_args, call_kwargs = holder
            holder.clear()
            try:
                result = call(*call_args, **call_kwargs)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the UI
                del call, call_args, call_kwargs
                self._queue.put(("error", handle.task_id, exc))
            else:
                del call, call_args, call_kwargs
                self._queue.put(("done", handle.task_id, result))

        name = f"task-{handle.task_id}"
        threading.Thread(target=work, name=name, daemon=True).start()
        return handle

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Call ``fn(*args)`` on the Tk thread soon; safe to call from any thread.

        This is the one "run on main" door for other threads (e.g. sync status callbacks).
        """
        self._queue.put(("call", fn, args))

    def running(self) -> list[TaskHandle]:
        """Return the handles of tasks whose results were not delivered yet."""
        return [t.handle for t in self._running.values()]

    def busy(self) -> list[TaskHandle]:
        """Return running tasks older than the busy threshold."""
        return [h for h in self.running() if h.elapsed >= self.busy_after_s and not h.cancelled]

    def subscribe_busy(self, listener: BusyListener) -> Callable[[], None]:
        """Call ``listener(busy_tasks)`` on the Tk thread whenever the busy set changes.

        Returns:
            A function that unsubscribes.
        """
        self._busy_listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._busy_listeners:
                self._busy_listeners.remove(listener)

        return unsubscribe

    def drain(self) -> int:
        """Handle up to one batch of queued messages now, on the Tk thread.

        Returns:
            How many messages were handled.
        """
        tk_finalizers.run_pending()
        handled = 0
        while handled < self._batch:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                break
            handled += 1
            self._dispatch(message)
        self._update_busy()
        return handled

    def close(self) -> None:
        """Stop the drain loop and drop pending callbacks (the window is going away)."""
        self._closed = True
        if self._after_id is not None:
            try:
                self._root.after_cancel(self._after_id)
            except tkinter.TclError:
                pass
            self._after_id = None
        for task in self._running.values():
            task.handle.cancel()
        self._running.clear()
        self._busy_listeners.clear()

    # -- internals -------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._closed:
            return
        self._fast = bool(self._running)
        delay = self._active_poll_ms if self._fast else self._poll_ms
        try:
            self._after_id = self._root.after(delay, self._poll)
        except tkinter.TclError:
            # The root was destroyed under us: nothing left to deliver to.
            self._closed = True

    def _poll_faster(self) -> None:
        """Bring the next drain forward to the active period (a task was just started)."""
        if self._fast or self._after_id is None or self._closed:
            return
        try:
            self._root.after_cancel(self._after_id)
        except tkinter.TclError:
            return
        self._after_id = None
        self._schedule()

    def _poll(self) -> None:
        self._after_id = None
        try:
            self.drain()
        finally:
            self._schedule()

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "call":
            _, fn, args = message
            self._safe_call(fn, *args)
            return
        task = self._running.get(message[1])
        if task is None:
            return
        handle = task.handle
        if kind == "progress":
            handle.progress, handle.progress_text = message[2], message[3]
            if task.on_progress is not None and not handle.cancelled:
                self._safe_call(task.on_progress, message[2], message[3])
            return
        del self._running[handle.task_id]
        handle.done = True
        if kind == "done":
            handle.result = message[2]
            if task.on_done is not None and not handle.cancelled:
                self._safe_call(task.on_done, message[2])
        else:
            error: BaseException = message[2]
            handle.error = error
            if handle.cancelled:
                return
            if task.on_error is not None:
                self._safe_call(task.on_error, error)
            elif self.on_unhandled_error is not None:
                self._safe_call(self.on_unhandled_error, handle, error)
            else:
                log.error("task %r failed", handle, exc_info=error)

    def _safe_call(self, fn: Callable[..., object], *args: Any) -> None:
        # A broken callback must not stop the drain loop for every other screen.
        try:
            fn(*args)
        except Exception:
            log.exception("callback %r failed", fn)

    def _update_busy(self) -> None:
        busy = self.busy()
        ids = tuple(h.task_id for h in busy)
        if ids == self._busy_ids:
            return
        self._busy_ids = ids
        for listener in list(self._busy_listeners):
            self._safe_call(listener, busy)
