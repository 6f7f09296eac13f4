"""HTTP transport for sync on weak links: keep-alive, size-scaled timeouts, backoff, batch sizing.

The transport moves opaque bytes (sealed envelopes) and knows nothing of the protocol inside
them. Three small policies make it behave on a 64 kbit/s link that drops every few minutes:

* :func:`read_timeout_for` — a request's read timeout grows with the bytes it moves (a fixed
  timeout either fails every large batch on 2G or waits for ever on a dead link);
* :class:`Backoff` — exponential backoff with full jitter, so 99 communes coming back online
  at once do not hammer the server in lock-step;
* :class:`BatchSizer` — the push batch budget starts at 64 KiB compressed, doubles after each
  success up to 256 KiB and halves after a timeout.

Retries are the caller's business (the engine re-seals every attempt: a sealed request has a
fresh batch id and the server refuses replays); :func:`retry_call` is the loop it uses.

``requests`` is imported lazily: start-up must not pay for it.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import requests

T = TypeVar("T")

__all__ = [
    "Backoff",
    "BatchSizer",
    "ConnectionFailed",
    "HttpError",
    "HttpReply",
    "HttpTransport",
    "TransportError",
    "TransportPolicy",
    "TransportTimeout",
    "read_timeout_for",
    "retry_call",
]

KIB = 1024


@dataclasses.dataclass(frozen=True)
class TransportPolicy:
    """Timeouts, retries and batch limits of the sync transport.

    Attributes:
        connect_timeout_s: time to open a TCP connection.
        read_base_s: read timeout of an empty request.
        read_bytes_per_s: the slowest link we still wait for (4 KB/s ≈ 32 kbit/s): each byte
            moved adds ``1 / read_bytes_per_s`` seconds to the read timeout.
        max_read_timeout_s: no read timeout is longer than this.
        backoff_base_s: the first retry waits up to this long.
        backoff_max_s: no retry waits longer than this.
        max_attempts: attempts of one request before the sync gives up until next time.
        batch_start_bytes: first push batch budget (compressed bytes).
        batch_min_bytes: smallest batch budget after halvings.
        batch_max_bytes: largest batch budget after doublings.
    """

    connect_timeout_s: float = 10.0
    read_base_s: float = 15.0
    read_bytes_per_s: float = 4 * KIB
    max_read_timeout_s: float = 600.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0
    max_attempts: int = 4
    batch_start_bytes: int = 64 * KIB
    batch_min_bytes: int = 4 * KIB
    batch_max_bytes: int = 256 * KIB


def read_timeout_for(
    request_bytes: int, expected_response_bytes: int = 0, policy: TransportPolicy | None = None
) -> float:
    """Return the read timeout of a request that moves this many bytes.

    Args:
        request_bytes: size of the request body.
        expected_response_bytes: how much the response may carry (e.g. a pull page).
        policy: the limits (default :class:`TransportPolicy`).

    Returns:
        ``read_base_s + bytes / read_bytes_per_s`` seconds, capped at ``max_read_timeout_s``.
    """
    policy = policy or TransportPolicy()
    moved = max(0, request_bytes) + max(0, expected_response_bytes)
    return min(policy.max_read_timeout_s, policy.read_base_s + moved / policy.read_bytes_per_s)


class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base·2ⁿ)).

    Args:
        base_s: the ceiling of the first wait.
        cap_s: the largest ceiling.
        rng: the random source (seeded in tests).
    """

    def __init__(self, base_s: float = 1.0, cap_s: float = 120.0, rng: random.Random | None = None):
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        """Return the longest wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.cap_s, self.base_s * (2 ** max(0, attempt)))

    def delay(self, attempt: int) -> float:
        """Return a random wait in ``[0, ceiling(attempt)]``."""
        return self.rng.uniform(0, self.ceiling(attempt))


class BatchSizer:
    """Adapt the push batch budget to the link: double on success, halve on timeout.

    Args:
        policy: start, minimum and maximum budgets.
    """

    def __init__(self, policy: TransportPolicy | None = None) -> None:
        self.policy = policy or TransportPolicy()
        self.budget = self.policy.batch_start_bytes
        #: How many times the budget was halved (for reports and tests).
        self.timeouts = 0

    def success(self) -> int:
        """Record a batch that went through; return the new budget."""
        self.budget = min(self.policy.batch_max_bytes, self.budget * 2)
        return self.budget

    def timeout(self) -> int:
        """Record a batch that timed out; return the new budget."""
        self.timeouts += 1
        self.budget = max(self.policy.batch_min_bytes, self.budget // 2)
        return self.budget


class TransportError(Exception):
    """A request did not get a usable answer.

    Attributes:
        retryable: whether trying again later may succeed.
    """

    retryable = True


class TransportTimeout(TransportError):
    """The server did not answer in time (the link is slow or stalled): shrink the batch."""


class ConnectionFailed(TransportError):
    """The connection could not be opened or was cut (offline, or the link dropped)."""


class HttpError(TransportError):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status code.
        code: the machine-readable error code of the body (``{"code": ...}``), if any.
        message: the server's English message, if any.
        body: the parsed JSON body, if it was JSON.
    """

    def __init__(self, status: int, body: bytes, content_type: str = "") -> None:
        self.status = status
        self.body: dict[str, Any] = {}
        if "json" in content_type or body[:1] == b"{":
            try:
                import json

                parsed = json.loads(body.decode("utf-8"))
                if isinstance(parsed, dict):
                    self.body = parsed
            except (UnicodeDecodeError, ValueError):
                pass
        self.code: str = str(self.body.get("code") or "")
        self.message: str = str(self.body.get("error") or f"HTTP {status}")
        # 5xx, 429 (too many requests) and 408 are worth another try; other 4xx are not.
        self.retryable = status >= 500 or status in (408, 429)
        super().__init__(f"HTTP {status}: {self.message}")


@dataclasses.dataclass(frozen=True)
class HttpReply:
    """A successful (2xx) answer.

    Attributes:
        status: the HTTP status.
        body: the raw body.
        headers: response headers (case-insensitive mapping).
        elapsed_s: wall time of the request.
    """

    status: int
    body: bytes
    headers: Mapping[str, str]
    elapsed_s: float


class HttpTransport:
    """Send bytes to the provincial server over one keep-alive ``requests.Session``.

    Args:
        base_url: the server, e.g. ``http://10.0.0.5:8080`` (no trailing slash needed).
        policy: timeouts and limits.
        session: a ready session (tests); one is made on first use otherwise.
    """

    def __init__(
        self,
        base_url: str,
        *,
        policy: TransportPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or TransportPolicy()
        self._session = session
        #: Requests sent and bytes moved, for the sync report and the benchmark.
        self.requests_sent = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def session(self) -> requests.Session:
        """Return the keep-alive session (made on first use)."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.headers["User-Agent"] = "motcua-sync/1"
        return self._session

    def timeouts(self, request_bytes: int, expected_response_bytes: int = 0) -> tuple[float, float]:
        """Return ``(connect, read)`` timeouts for a request of this size."""
        return (
            self.policy.connect_timeout_s,
            read_timeout_for(request_bytes, expected_response_bytes, self.policy),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
        expected_response_bytes: int = 0,
        content_type: str = "application/octet-stream",
    ) -> HttpReply:
        """Send one request and return the 2xx answer.

        Args:
            method: ``GET``, ``POST``, ``HEAD``, ``PATCH``…
            path: the path on the server, starting with ``/``.
            body: the request body.
            headers: extra headers.
            expected_response_bytes: response size to allow for in the read timeout.
            content_type: the body's media type.

        Raises:
            TransportTimeout: the server did not answer within the timeouts.
            ConnectionFailed: no connection, or the connection broke mid-way.
            HttpError: a non-2xx answer.
        """
        import requests

        all_headers = {"Content-Type": content_type} if body else {}
        all_headers.update(headers or {})
        started = time.monotonic()
        self.requests_sent += 1
        self.bytes_sent += len(body)
        try:
            reply = self.session.request(
                method,
                self.base_url + path,
                data=body if body else None,
                headers=all_headers,
                timeout=self.timeouts(len(body), expected_response_bytes),
                allow_redirects=False,
            )
            content = reply.content  # read the whole body inside the try: it may be cut
        except requests.exceptions.Timeout as exc:
            self._drop_connections()
            raise TransportTimeout(f"no answer from {self.base_url} in time") from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            self._drop_connections()
            raise ConnectionFailed(f"cannot reach {self.base_url}: {_short(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            self._drop_connections()
            raise ConnectionFailed(f"request to {self.base_url} failed: {_short(exc)}") from exc
        self.bytes_received += len(content)
        if _cut_in_headers(method, reply.status_code, reply.headers, content):
            self._drop_connections()
            raise ConnectionFailed(f"the answer from {self.base_url} was cut short")
        if not 200 <= reply.status_code < 300:
            raise HttpError(reply.status_code, content, reply.headers.get("Content-Type", ""))
        return HttpReply(
            status=reply.status_code,
            body=content,
            headers=reply.headers,
            elapsed_s=time.monotonic() - started,
        )

    def post(self, path: str, body: bytes, **options: Any) -> HttpReply:
        """Send a ``POST``; see :meth:`request`."""
        return self.request("POST", path, body, **options)

    def _drop_connections(self) -> None:
        """Forget pooled connections after a failure: a half-dead socket must not be reused."""
        if self._session is not None:
            for adapter in self._session.adapters.values():
                adapter.close()

    def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            self._session.close()
            self._session = None


def _cut_in_headers(method: str, status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the link dropped inside an answer's headers.

    ``requests`` then hands over what arrived as an answer with an empty body and no word of
    its length (every answer of the server has one), which must not pass for an empty answer.
    """
    if method.upper() == "HEAD" or status in (204, 304) or body:
        return False
    return "Content-Length" not in headers and "Transfer-Encoding" not in headers


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def retry_call(
    attempt: Callable[[int], T],
    *,
    backoff: Backoff,
    max_attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    on_failure: Callable[[int, TransportError], None] | None = None,
) -> T:
    """Call ``attempt(n)`` until it succeeds, retrying retryable transport errors.

    Args:
        attempt: makes one fresh attempt (numbered from 0); re-seal inside it.
        backoff: the waits between attempts.
        max_attempts: give up after this many attempts.
        sleep: how to wait (tests pass a fake).
        on_failure: told about each failed attempt before the wait (e.g. to halve the batch).

    Returns:
        What the successful attempt returned.

    Raises:
        TransportError: the last error, when it is not retryable or attempts ran out.
    """
    for n in range(max_attempts):
        try:
            return attempt(n)
        except TransportError as exc:
            if on_failure is not None:
                on_failure(n, exc)
            if not exc.retryable or n == max_attempts - 1:
                raise
            sleep(backoff.delay(n))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
