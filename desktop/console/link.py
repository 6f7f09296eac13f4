"""The console's link to the provincial server: the sync engine's transport, per thread.

The console reuses the sync engine's HTTP transport (:class:`desktop.sync.client.HttpTransport`:
keep-alive, size-scaled read timeouts) and its retry loop (:func:`desktop.sync.client.
retry_call`, exponential backoff with full jitter). A ``requests.Session`` must not be shared
between threads, and the task runner calls the console from several worker threads at once, so
each thread gets its own transport; :meth:`ServerLink.close` closes them all.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from desktop.sync.client import Backoff, HttpTransport, TransportPolicy, retry_call

__all__ = ["ServerLink"]

T = TypeVar("T")


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
        """Open nothing yet: each thread connects on its first request."""
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.sleep = sleep
        self._backoff = Backoff(policy.backoff_base_s, policy.backoff_max_s, rng)
        self._local = threading.local()
        self._transports: list[HttpTransport] = []
        self._lock = threading.Lock()

    def transport(self) -> HttpTransport:
        """Return this thread's transport (made on its first use)."""
        transport: HttpTransport | None = getattr(self._local, "transport", None)
        if transport is None:
            transport = HttpTransport(self.base_url, policy=self.policy)
            with self._lock:
                self._local.transport = transport
                self._transports.append(transport)
        return transport

    @property
    def connections(self) -> int:
        """How many threads hold a transport (for tests and the log)."""
        with self._lock:
            return len(self._transports)

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
        reply = self.transport().post(
            path, body, expected_response_bytes=expect, content_type=content_type
        )
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
        """Close every thread's connections (a later request opens new ones)."""
        with self._lock:
            transports, self._transports = self._transports, []
            self._local = threading.local()
        for transport in transports:
            transport.close()
