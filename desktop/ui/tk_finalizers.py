"""Tk objects collected on a worker thread are finalized on the Tk thread instead.

A ``tkinter.Variable``, ``tkinter.font.Font`` or ``tkinter.Image`` deletes its Tcl object when
it is collected. Python's cyclic collector runs on whichever thread happens to allocate when a
threshold is crossed — often a worker of the task runner — and a Tcl call from a worker waits
for the Tk thread to serve it: a console download once stalled 8 s inside ``Font.__del__``
(seen with py-spy). :func:`install` wraps those finalizers: on the Tk thread they run as
before; elsewhere the object is queued (kept alive a little longer) and :func:`run_pending`,
called by the task runner's drain on the Tk thread, finalizes it there.
"""

from __future__ import annotations

import queue
import threading
import tkinter
import tkinter.font
from collections.abc import Callable
from typing import Any

__all__ = ["install", "pending", "run_pending"]

_PENDING: queue.SimpleQueue[tuple[Callable[[Any], None], Any]] = queue.SimpleQueue()
_INSTALLED = False
_TK_THREAD = threading.main_thread()


def _deferring(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def __del__(self: Any) -> None:
        if threading.current_thread() is _TK_THREAD:
            original(self)
        else:
            _PENDING.put((original, self))  # resurrected until the Tk thread finalizes it

    __del__.__doc__ = original.__doc__
    return __del__


def install() -> None:
    """Make Tk variables, fonts and images finalize on the Tk thread (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    for cls in (tkinter.Variable, tkinter.font.Font, tkinter.Image):
        cls.__del__ = _deferring(cls.__del__)  # type: ignore[method-assign]
    _INSTALLED = True


def pending() -> int:
    """Return how many collected Tk objects wait for the Tk thread."""
    return _PENDING.qsize()


def run_pending() -> int:
    """Finalize the Tk objects collected elsewhere (call on the Tk thread); return how many."""
    done = 0
    while True:
        try:
            finalize, obj = _PENDING.get_nowait()
        except queue.Empty:
            return done
        try:
            finalize(obj)
        except Exception:  # noqa: BLE001 - a finalizer's error is never worth more than this
            pass
        done += 1
