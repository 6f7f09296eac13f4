"""The weak-link TCP proxy shapes, cuts, stalls, counts and captures real HTTP traffic."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.faultproxy import FaultProxy, _RequestCounter

ROOT = Path(__file__).resolve().parents[2]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the sync client's session

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        size = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/bytes/") else 2
        body = b"x" * size
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length)
        if len(received) < length:  # the proxy cut the request: nothing to answer
            self.server.received.append(len(received))  # type: ignore[attr-defined]
            self.close_connection = True
            return
        self.server.received.append(len(received))  # type: ignore[attr-defined]
        body = json.dumps({"received": len(received)}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def origin() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _proxy(origin: http.server.ThreadingHTTPServer, **options: object) -> FaultProxy:
    return FaultProxy("127.0.0.1", origin.server_address[1], **options)  # type: ignore[arg-type]


def test_forwards_and_counts_bytes_requests_and_connections(origin) -> None:
    with _proxy(origin) as proxy, requests.Session() as session:
        base = f"http://127.0.0.1:{proxy.port}"
        for _ in range(3):
            assert session.get(f"{base}/bytes/1000").content == b"x" * 1000
        reply = session.post(f"{base}/echo", data=b"POST /fake HTTP/1.1\r\n\r\n" * 10)
        assert reply.json() == {"received": 230}
        counters = proxy.counters()
    assert counters.connections == 1  # keep-alive: one TCP connection for four requests
    assert counters.requests == 4  # the "POST" inside the body is not counted
    assert counters.bytes_down > 3000
    assert counters.bytes_up > 230
    assert counters.cuts == 0


def test_bandwidth_limit_slows_a_download_to_the_link_rate(origin) -> None:
    with _proxy(origin, kbps=256) as proxy:
        started = time.monotonic()
        body = requests.get(f"http://127.0.0.1:{proxy.port}/bytes/24000", timeout=10).content
        elapsed = time.monotonic() - started
    assert len(body) == 24000
    # 24,000 bytes at 256 kbit/s is 0.75 s; allow scheduling slack above, none below.
    assert 0.7 <= elapsed < 2.5


def test_bandwidth_each_way_can_differ(origin) -> None:
    with _proxy(origin, kbps_up=128.0, kbps_down=None) as proxy:
        started = time.monotonic()
        requests.get(f"http://127.0.0.1:{proxy.port}/bytes/24000", timeout=10)
        download = time.monotonic() - started
        started = time.monotonic()
        requests.post(f"http://127.0.0.1:{proxy.port}/echo", data=b"y" * 8000, timeout=10)
        upload = time.monotonic() - started
    assert download < 0.4  # down is unlimited
    assert upload >= 0.45  # 8,000 bytes at 128 kbit/s is 0.5 s


def test_latency_is_added_each_way(origin) -> None:
    with _proxy(origin, rtt_ms=300) as proxy, requests.Session() as session:
        url = f"http://127.0.0.1:{proxy.port}/bytes/10"
        session.get(url)  # open the connection first
        started = time.monotonic()
        session.get(url)
        elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.0


def test_latency_does_not_cap_throughput(origin) -> None:
    with _proxy(origin, rtt_ms=200) as proxy:
        started = time.monotonic()
        body = requests.get(f"http://127.0.0.1:{proxy.port}/bytes/400000", timeout=10).content
        elapsed = time.monotonic() - started
    assert len(body) == 400000
    assert elapsed < 4.0  # pipelined: not 800 pieces × 100 ms (80 s)


def test_cut_mid_response(origin) -> None:
    with _proxy(origin, cut_after_bytes=3000, cut_direction="down") as proxy:
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(f"http://127.0.0.1:{proxy.port}/bytes/20000", timeout=5).raise_for_status()
        counters = proxy.counters()
    assert counters.cuts == counters.cuts_down == 1
    assert counters.bytes_down == 3000


def test_cut_mid_request_never_delivers_the_whole_body(origin) -> None:
    with _proxy(origin, cut_after_bytes=1000, cut_direction="up") as proxy:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(f"http://127.0.0.1:{proxy.port}/echo", data=b"z" * 50000, timeout=5)
        counters = proxy.counters()
    assert counters.cuts_up == 1
    assert counters.bytes_up == 1000
    time.sleep(0.1)
    assert all(n < 50000 for n in origin.received)  # type: ignore[attr-defined]


def test_random_cuts_hit_both_directions_and_are_reproducible(origin) -> None:
    def run(seed: int) -> tuple[int, int, int]:
        outcomes = 0
        with _proxy(origin, cut_random_per_kb=0.1, seed=seed) as proxy:
            for _ in range(30):
                try:
                    requests.post(
                        f"http://127.0.0.1:{proxy.port}/echo", data=b"q" * 4000, timeout=5
                    )
                    outcomes += 1
                except requests.exceptions.RequestException:
                    pass
            counters = proxy.counters()
        return outcomes, counters.cuts_up, counters.cuts_down

    ok, up, down = run(7)
    assert up > 0
    assert ok > 0
    assert ok + up + down == 30
    assert run(7)[1] == up  # the same seed cuts the same requests


def test_cut_every_period_resets_long_transfers(origin) -> None:
    with _proxy(origin, kbps=64, cut_every_s=0.3) as proxy:
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(f"http://127.0.0.1:{proxy.port}/bytes/20000", timeout=5).raise_for_status()
        assert proxy.counters().cuts >= 1
        proxy.configure(cut_every_s=None)  # heal the link
        time.sleep(0.35)
        assert requests.get(f"http://127.0.0.1:{proxy.port}/bytes/100", timeout=5).ok


def test_stall_fires_the_client_read_timeout(origin) -> None:
    with _proxy(origin, stall_random_per_kb=1000.0, stall_s=None) as proxy:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout):
            requests.get(f"http://127.0.0.1:{proxy.port}/bytes/100", timeout=(2, 0.5))
        assert time.monotonic() - started < 2
        assert proxy.counters().stalls >= 1


def test_cut_all_from_another_thread(origin) -> None:
    with _proxy(origin, kbps=32) as proxy:
        errors: list[BaseException] = []

        def download() -> None:
            try:
                requests.get(
                    f"http://127.0.0.1:{proxy.port}/bytes/40000", timeout=10
                ).raise_for_status()
            except requests.exceptions.RequestException as exc:
                errors.append(exc)

        worker = threading.Thread(target=download)
        worker.start()
        time.sleep(0.3)
        assert proxy.cut_all() == 1
        worker.join(5)
    assert len(errors) == 1


def test_capture_holds_every_forwarded_byte(origin, tmp_path: Path) -> None:
    capture = tmp_path / "wire.bin"
    with _proxy(origin, capture=capture) as proxy:
        requests.post(f"http://127.0.0.1:{proxy.port}/echo", data="Giàng A Xà".encode())
    counters = proxy.counters()  # after stop: the last piece is counted once written
    data = capture.read_bytes()
    assert len(data) == counters.bytes_up + counters.bytes_down
    assert "Giàng A Xà".encode() in data


def test_reset_counters_returns_and_zeroes(origin) -> None:
    with _proxy(origin) as proxy:
        requests.get(f"http://127.0.0.1:{proxy.port}/bytes/10")
        before = proxy.reset_counters()
        assert before.requests == 1
        assert proxy.counters().requests == 0


def test_unknown_fault_setting_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown fault setting"):
        FaultProxy("127.0.0.1", 1, cut_sometimes=True)


def test_request_counter_follows_framing_across_chunks() -> None:
    counter = _RequestCounter()
    stream = (
        b"POST /sync HTTP/1.1\r\nContent-Length: 12\r\n\r\nGET / HTTP/1"
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n0\r\n\r\n"
    )
    for i in range(0, len(stream), 7):
        counter.feed(stream[i : i + 7])
    assert counter.count == 3


def test_command_line_proxy_prints_counters_on_interrupt(origin) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.faultproxy",
            "--target",
            f"127.0.0.1:{origin.server_address[1]}",
            "--kbps",
            "512",
            "--rtt-ms",
            "20",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split()[2].rsplit(":", 1)[1])
        assert requests.get(f"http://127.0.0.1:{port}/bytes/500", timeout=5).ok
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    counters = json.loads(out.strip().splitlines()[-1])
    assert counters["requests"] == 1
    assert counters["bytes_down"] > 500
    assert process.returncode == 0
