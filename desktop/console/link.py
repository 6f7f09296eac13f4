"""The console's link to the provincial server: a small pool of the sync engine's transports.

The console reuses the sync engine's HTTP transport (:class:`desktop.sync.client.HttpTransport`:
keep-alive, size-scaled read timeouts) and its retry loop (:func:`desktop.sync.client.
retry_call`, exponential backoff with full jitter). A ``requests.Session`` must not be used by
two threads at once, and the task runner calls the console from several worker threads — a new
thread per task — so each request checks a transport out of a pool of idle ones and puts it back
when answered. Keep-alive connections are thus reused across tasks (on 2G a new connection
costs a ~600 ms handshake), at most :data:`MAX_IDLE` stay open, and :meth:`ServerLink.close`
closes them all.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from desktop.sync.client import Backoff, HttpTransport, TransportPolicy, retry_call

__all__ = ["MAX_IDLE", "ServerLink"]

T = TypeVar("T")

#: Idle keep-alive connections kept for the next requests (more are closed when answered).
MAX_IDLE = 4


class ServerLink:
    """Requests to one server, from any thread, with the policy's timeouts and retries.

    Args:
        base_url: the server, e.g. ``https://hotich.laocai.example``.
        policy: timeouts and retries.
        sleep: how to wait between retries (tests pass a fake).
        rng: random source for backoff jitter.
    """

    def __init__(
        self,
        base_url: str,
        *,
        policy: TransportPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Open nothing yet: the first request connects."""
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.sleep = sleep
        self._backoff = Backoff(policy.backoff_base_s, policy.backoff_max_s, rng)
        self._idle: list[HttpTransport] = []
        self._lock = threading.Lock()
        self._made = 0

    @property
    def connections(self) -> int:
        """How many transports (keep-alive connections) were made so far (tests, the bench)."""
        with self._lock:
            return self._made

    def _checkout(self) -> HttpTransport:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._made += 1
        return HttpTransport(self.base_url, policy=self.policy)

    def _checkin(self, transport: HttpTransport) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(transport)
                return
        transport.close()

    def post(
        self,
        path: str,
        body: bytes,
        *,
        expect: int = 64 * 1024,
        content_type: str = "application/octet-stream",
    ) -> bytes:
        """Send one ``POST`` from this thread and return the 2xx answer's body.

        Raises:
            TransportError: no usable answer (see :meth:`HttpTransport.request`).
        """
        transport = self._checkout()
        try:
            reply = transport.post(
                path, body, expected_response_bytes=expect, content_type=content_type
            )
        except BaseException:
            # A failed request may leave its connection half-read: never hand it out again.
            transport.close()
            raise
        self._checkin(transport)
        return reply.body

    def retry(self, attempt: Callable[[int], T]) -> T:
        """Run ``attempt(n)`` until it succeeds, retrying what may succeed later.

        Raises:
            TransportError: the last attempt's failure.
        """
        return retry_call(
            attempt,
            backoff=self._backoff,
            max_attempts=self.policy.max_attempts,
            sleep=self.sleep,
        )

    def close(self) -> None:
        """Close the idle connections (one in use closes when its request is answered)."""
        with self._lock:
            transports, self._idle = self._idle, []
        for transport in transports:
            transport.close()
