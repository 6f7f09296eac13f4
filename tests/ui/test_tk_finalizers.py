"""Tk objects the collector frees on a worker thread are finalized on the Tk thread.

A worker that happens to trigger Python's cyclic collector while a Tk font or variable is
garbage must not make a Tcl call from its thread: it would wait for the Tk thread (a console
download once stalled 8 s that way). It goes on at once; the Tk object is deleted by the next
drain of the task runner, on the Tk thread.
"""

from __future__ import annotations

import gc
import threading
import tkinter
import tkinter.font

import pytest

from desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def _collect_on_a_worker() -> bool:
    finished = threading.Event()

    def collect() -> None:
        gc.collect()
        finished.set()

    worker = threading.Thread(target=collect, daemon=True)
    worker.start()
    worker.join(5)
    return finished.is_set()


def test_a_font_freed_on_a_worker_is_deleted_on_the_tk_thread(root, tasks: TaskRunner) -> None:
    font = tkinter.font.nametofont("TkDefaultFont", root=root).copy()
    name = font.name
    cycle: dict[str, object] = {"font": font}
    cycle["self"] = cycle  # only the cyclic collector frees it
    del font, cycle
    assert _collect_on_a_worker(), "the worker waited for the Tk thread"
    assert name in tkinter.font.names(root)  # queued, not deleted from the worker
    tasks.drain()
    assert name not in tkinter.font.names(root)


def test_a_variable_freed_on_a_worker_is_unset_on_the_tk_thread(root, tasks: TaskRunner) -> None:
    variable = tkinter.StringVar(root, value="Giàng A Páo")
    name = str(variable)
    cycle: dict[str, object] = {"variable": variable}
    cycle["self"] = cycle
    del variable, cycle
    assert _collect_on_a_worker(), "the worker waited for the Tk thread"
    assert root.getvar(name) == "Giàng A Páo"
    tasks.drain()
    assert not root.getboolean(root.call("info", "exists", name))
