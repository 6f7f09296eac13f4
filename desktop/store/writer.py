"""The single writer thread that owns the write connection (Datasette's pattern).

Every write is a function ``fn(conn) -> T`` put on a queue with a Future. The writer thread
runs it inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception) and sets the
Future's result or exception. Callers either wait (:meth:`Writer.execute`) or keep the Future
(:meth:`Writer.submit`), which is what UI code does so the Tk thread never blocks.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from desktop.store.database import Connection
from desktop.store.errors import StoreClosed

T = TypeVar("T")
_STOP = object()


class Writer:
    """Run write transactions one at a time on a dedicated thread.

    Args:
        open_connection: called once on the writer thread to open the write connection.
        name: the thread's name (shows in stack dumps).
    """

    def __init__(
        self, open_connection: Callable[[], Connection], name: str = "motcua-store-writer"
    ):
        self._queue: queue.Queue[Any] = queue.Queue()
        self._ready: Future[None] = Future()
        self._open = open_connection
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.result()  # re-raises an error from opening the connection

    def _run(self) -> None:
        try:
            conn = self._open()
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                fn, future, transaction = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if transaction:
                        conn.execute("BEGIN IMMEDIATE")
                        try:
                            result = fn(conn)
                        except BaseException:
                            conn.execute("ROLLBACK")
                            raise
                        conn.execute("COMMIT")
                    else:
                        result = fn(conn)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            conn.close()

    def submit(self, fn: Callable[[Connection], T], *, transaction: bool = True) -> Future[T]:
        """Queue ``fn(conn)`` and return a Future of its result.

        Args:
            fn: the work; it receives the write connection and must not keep it.
            transaction: wrap ``fn`` in ``BEGIN IMMEDIATE`` … ``COMMIT`` (False for
                statements that cannot run in a transaction, such as ``VACUUM INTO``).

        Raises:
            StoreClosed: the writer was stopped.
        """
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise StoreClosed("the store is closed")
            self._queue.put((fn, future, transaction))
        return future

    def execute(self, fn: Callable[[Connection], T], *, transaction: bool = True) -> T:
        """Run ``fn(conn)`` on the writer thread and wait for its result (or exception)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("Writer.execute called from the writer thread (would deadlock)")
        return self.submit(fn, transaction=transaction).result()

    def close(self) -> None:
        """Finish queued work, close the connection and stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()
