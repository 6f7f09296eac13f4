"""The sync transport: size-scaled timeouts, backoff with jitter, batch sizing, real HTTP errors."""

from __future__ import annotations

import http.server
import json
import random
import threading
from collections.abc import Iterator

import pytest

from bench.faultproxy import FaultProxy
from desktop.sync.client import (
    Backoff,
    BatchSizer,
    ConnectionFailed,
    HttpError,
    HttpTransport,
    TransportError,
    TransportPolicy,
    TransportTimeout,
    read_timeout_for,
    retry_call,
)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/echo":
            self._answer(200, body[::-1], "application/octet-stream")
        elif self.path == "/revoked":
            error = {"error": "device revoked", "code": "revoked"}
            self._answer(403, json.dumps(error).encode(), "application/json")
        elif self.path == "/busy":
            self._answer(503, b'{"error": "busy", "code": "busy"}', "application/json")
        elif self.path == "/cut-in-headers":  # the link drops before the headers end
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n")
            self.wfile.flush()
            self.close_connection = True
        else:
            self._answer(404, b"not found", "text/plain")


@pytest.fixture
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_read_timeout_grows_with_the_bytes_moved() -> None:
    policy = TransportPolicy()
    assert read_timeout_for(0) == pytest.approx(15.0)
    # 256 KiB at the 4 KB/s floor: 64 s more than an empty request.
    assert read_timeout_for(256 * 1024) == pytest.approx(15.0 + 64.0)
    assert read_timeout_for(1000, 3096) == pytest.approx(16.0)
    assert read_timeout_for(10**9) == policy.max_read_timeout_s


def test_transport_passes_size_scaled_timeouts_to_the_session() -> None:
    seen: list[object] = []

    class FakeSession:
        adapters: dict[str, object] = {}

        def request(self, method: str, url: str, **kwargs: object) -> object:
            seen.append(kwargs["timeout"])

            class Reply:
                status_code = 200
                content = b"ok"
                headers: dict[str, str] = {}

            return Reply()

    transport = HttpTransport("http://x", session=FakeSession())  # type: ignore[arg-type]
    transport.post("/sync", b"a" * 40960)
    transport.post("/sync", b"a", expected_response_bytes=4096)
    assert seen == [(10.0, 25.0), (10.0, pytest.approx(16.0, abs=0.01))]


def test_backoff_ceilings_double_up_to_the_cap_and_jitter_spreads() -> None:
    backoff = Backoff(base_s=1.0, cap_s=30.0, rng=random.Random(3))
    assert [backoff.ceiling(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    delays = [backoff.delay(4) for _ in range(200)]
    assert all(0 <= d <= 16 for d in delays)
    assert max(delays) - min(delays) > 8  # full jitter: not the same wait for every device


def test_batch_budget_doubles_on_success_and_halves_on_timeout() -> None:
    sizer = BatchSizer()
    assert sizer.budget == 64 * 1024
    assert sizer.success() == 128 * 1024
    assert sizer.success() == 256 * 1024
    assert sizer.success() == 256 * 1024  # capped
    assert sizer.timeout() == 128 * 1024
    for _ in range(10):
        sizer.timeout()
    assert sizer.budget == TransportPolicy().batch_min_bytes


def test_post_over_keep_alive_uses_one_connection(origin: str) -> None:
    host, port = origin.split(":")
    with FaultProxy(host, int(port)) as proxy:
        transport = HttpTransport(f"http://127.0.0.1:{proxy.port}")
        for i in range(3):
            assert transport.post("/echo", b"abc%d" % i).body == b"%dcba" % i
        transport.close()
        counters = proxy.counters()
    assert counters.requests == 3
    assert counters.connections == 1
    assert transport.requests_sent == 3
    assert transport.bytes_sent == 12


def test_http_errors_carry_the_server_code_and_retryability(origin: str) -> None:
    transport = HttpTransport(f"http://{origin}")
    with pytest.raises(HttpError) as refused:
        transport.post("/revoked", b"x")
    assert refused.value.status == 403
    assert refused.value.code == "revoked"
    assert refused.value.message == "device revoked"
    assert not refused.value.retryable
    with pytest.raises(HttpError) as busy:
        transport.post("/busy", b"x")
    assert busy.value.retryable
    with pytest.raises(HttpError) as missing:
        transport.post("/nowhere", b"x")
    assert missing.value.code == "" and not missing.value.retryable


def test_nobody_listening_is_a_connection_failure() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        transport = HttpTransport(
            f"http://127.0.0.1:{port}", policy=TransportPolicy(connect_timeout_s=1)
        )
        with pytest.raises(ConnectionFailed):
            transport.post("/echo", b"x")


def test_a_stalled_link_times_out(origin: str) -> None:
    host, port = origin.split(":")
    policy = TransportPolicy(read_base_s=0.5)
    with FaultProxy(host, int(port), stall_random_per_kb=1000.0, stall_s=None) as proxy:
        transport = HttpTransport(f"http://127.0.0.1:{proxy.port}", policy=policy)
        with pytest.raises(TransportTimeout) as timed_out:
            transport.post("/echo", b"x" * 100)
        assert timed_out.value.retryable


def test_a_cut_mid_response_is_a_connection_failure(origin: str) -> None:
    host, port = origin.split(":")
    with FaultProxy(host, int(port), cut_after_bytes=150, cut_direction="down") as proxy:
        transport = HttpTransport(f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(ConnectionFailed):
            transport.post("/echo", b"y" * 5000)
        proxy.configure(cut_after_bytes=None)
        # The broken socket is not reused: the next request goes through.
        assert transport.post("/echo", b"ab").body == b"ba"


def test_retry_call_backs_off_then_succeeds() -> None:
    waits: list[float] = []
    failures: list[int] = []

    def attempt(n: int) -> str:
        if n < 2:
            raise TransportTimeout("slow")
        return f"ok after {n}"

    result = retry_call(
        attempt,
        backoff=Backoff(1.0, 60.0, random.Random(1)),
        max_attempts=4,
        sleep=waits.append,
        on_failure=lambda n, exc: failures.append(n),
    )
    assert result == "ok after 2"
    assert failures == [0, 1]
    assert len(waits) == 2 and 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2


def test_retry_call_stops_at_once_on_a_refusal_and_after_max_attempts() -> None:
    calls: list[int] = []

    def refused(n: int) -> None:
        calls.append(n)
        raise HttpError(403, b'{"error": "revoked", "code": "revoked"}', "application/json")

    with pytest.raises(HttpError):
        retry_call(refused, backoff=Backoff(), max_attempts=5, sleep=lambda s: None)
    assert calls == [0]

    def offline(n: int) -> None:
        calls.append(n)
        raise ConnectionFailed("offline")

    calls.clear()
    with pytest.raises(TransportError):
        retry_call(offline, backoff=Backoff(), max_attempts=3, sleep=lambda s: None)
    assert calls == [0, 1, 2]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"error": "device revoked: PC b\xe1\xbb\x8b m\xe1\xba\xa5t.", "code": "revoked"}',
            "PC bị mất",
        ),
        (b'{"error": "refused", "code": "revoked", "reason": "m\xc3\xa1y c\xc5\xa9"}', "máy cũ"),
        (b'{"error": "device revoked: revoked by provincial IT", "code": "revoked"}', None),
        (b'{"error": "device revoked", "code": "revoked"}', None),
    ],
    ids=["in-message", "in-body", "default", "none"],
)
def test_a_revocation_tells_the_clerk_the_reason_provincial_it_gave(
    body: bytes, reason: str | None
) -> None:
    from desktop.sync.errors import MSG_REVOKED, as_sync_error

    error = as_sync_error(HttpError(403, body, "application/json"))
    assert error.code == "revoked"
    if reason is None:
        assert error.clerk_message == MSG_REVOKED
    else:
        assert f"Lý do: {reason}." in error.clerk_message
        assert "thu hồi" in error.clerk_message and "mã đăng ký mới" in error.clerk_message


def test_an_answer_cut_inside_its_headers_is_a_cut_not_an_empty_answer(origin: str) -> None:
    transport = HttpTransport(f"http://{origin}")
    with pytest.raises(ConnectionFailed) as cut:
        transport.post("/cut-in-headers", b"x")
    assert cut.value.retryable and "cut short" in str(cut.value)
    assert transport.post("/echo", b"abc").body == b"cba"  # the next request is fine
