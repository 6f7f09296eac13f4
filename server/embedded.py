"""Run the server inside this process (tests, the embedded demo) on a free port.

``start_server(db_url)`` initialises the database, starts uvicorn in a background thread on
127.0.0.1 and an OS-chosen port, and returns a :class:`RunningServer` with its URL and a
``stop()``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.service import SyncServer

__all__ = ["RunningServer", "start_server"]


@dataclasses.dataclass
class RunningServer:
    """A server running in a thread.

    Attributes:
        url: base URL, e.g. ``http://127.0.0.1:54321``.
        stop: stops it and waits for the thread (idempotent).
        server: the :class:`server.service.SyncServer` behind it.
    """

    url: str
    stop: Callable[[], None]
    server: SyncServer

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_server(
    db_url: str, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> RunningServer:
    """Initialise ``db_url`` and serve it from a background thread.

    Args:
        db_url: SQLAlchemy URL of the server database.
        host: interface to listen on.
        port: TCP port; 0 picks a free one.
        log_level: uvicorn's log level.

    Returns:
        The running server (use ``.url``; call ``.stop()`` when done).

    Raises:
        RuntimeError: when the server does not start within 20 s.
    """
    import uvicorn

    from server.app import KEEP_ALIVE_S, create_app, listening_socket
    from server.service import SyncServer

    sync_server = SyncServer.open(db_url, init=True)
    app = create_app(sync_server)
    sock = listening_socket(host, port)
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="motcua-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("embedded server did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        sync_server.storage.dispose()

    return RunningServer(url=f"http://{host}:{actual_port}", stop=stop, server=sync_server)
