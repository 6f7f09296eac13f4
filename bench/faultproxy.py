"""A fault-injecting TCP proxy that makes 127.0.0.1 behave like a weak rural link.

``tc netem`` is not available on the machines this project runs on, so the weak link is
emulated in user space: every byte between a client and a server passes through this proxy,
which can

* limit the bandwidth of each direction (serialisation delay, like a real modem link),
* add latency each way (propagation delay, pipelined: it does not throttle throughput),
* cut connections (TCP reset on both sides) after N bytes, at random points, or every T seconds,
  in the request direction, the response direction or both — so a cut can land mid-request or
  mid-response,
* stall a connection (stop forwarding for a while, or forever) so that client timeouts fire,
* count bytes each way, connections and HTTP requests, and
* capture every byte it forwards to a file (for the wire check: no plaintext personal data).

Use it in-process from tests::

    proxy = FaultProxy("127.0.0.1", server_port, kbps=64, rtt_ms=600)
    port = proxy.start()          # runs its own asyncio loop in a daemon thread
    ...                           # talk to http://127.0.0.1:{port}
    print(proxy.counters())       # ProxyCounters(bytes_up=..., bytes_down=..., ...)
    proxy.stop()

or from the command line (the benchmark's link profiles)::

    python -m bench.faultproxy --listen 127.0.0.1:8081 --target 127.0.0.1:8080 --kbps 64 --rtt-ms 600
    python -m bench.faultproxy --listen :8081 --target :8080 --kbps 384 --rtt-ms 200 --cut-every 30

Faults can be changed while the proxy runs (``proxy.configure(cut_random_per_kb=0.0)``), so a
test can heal the link before checking that everything converged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: Forwarded data is cut into pieces of at most this many bytes so that bandwidth shaping,
#: cuts and stalls have a fine grain (a cut can land inside a 200-byte request header).
PIECE = 512

#: How many seconds of unsent data one direction may buffer (a modem's queue). Bounded so that
#: a fast sender feels the slow link through TCP back-pressure instead of the proxy swallowing
#: a whole upload at once; latency is not bounded by it (delay is pipelined).
BUFFER_S = 0.25

UP = "up"  # client → server (requests)
DOWN = "down"  # server → client (responses)
DIRECTIONS = (UP, DOWN)


@dataclasses.dataclass
class LinkFaults:
    """The link's shape and faults; every field can be changed while the proxy runs.

    Attributes:
        kbps_up: bandwidth client → server in kilobits per second (None: unlimited).
        kbps_down: bandwidth server → client in kilobits per second (None: unlimited).
        latency_ms: added one-way delay in each direction (an RTT of 600 ms is 300 each way).
        cut_after_bytes: cut every connection once this many bytes passed in ``cut_direction``.
        cut_random_per_kb: probability, per KiB forwarded in ``cut_direction``, that the
            connection is cut at a random point of that KiB.
        cut_every_s: cut every open connection every this many seconds (the "cutting link").
        cut_direction: ``up``, ``down`` or ``both``: where after-bytes and random cuts land.
        stall_random_per_kb: probability, per KiB forwarded, that the connection stalls.
        stall_s: how long a stall lasts; None stalls until the connection is closed.
        seed: seed of the random source, for reproducible fault patterns.
    """

    kbps_up: float | None = None
    kbps_down: float | None = None
    latency_ms: float = 0.0
    cut_after_bytes: int | None = None
    cut_random_per_kb: float = 0.0
    cut_every_s: float | None = None
    cut_direction: str = "both"
    stall_random_per_kb: float = 0.0
    stall_s: float | None = 5.0
    seed: int | None = None

    def kbps(self, direction: str) -> float | None:
        """Return the bandwidth limit of one direction in kbit/s (None: unlimited)."""
        return self.kbps_up if direction == UP else self.kbps_down

    def cuts(self, direction: str) -> bool:
        """Return True when after-bytes and random cuts apply to this direction."""
        return self.cut_direction in ("both", direction)


@dataclasses.dataclass(frozen=True)
class ProxyCounters:
    """What passed through the proxy since it started (or since ``reset_counters``).

    Attributes:
        bytes_up: bytes forwarded client → server.
        bytes_down: bytes forwarded server → client.
        connections: client connections accepted.
        requests: HTTP requests seen (request heads in the client → server stream).
        cuts: connections cut by a fault.
        cuts_up: cuts that landed while a request was being forwarded.
        cuts_down: cuts that landed while a response was being forwarded.
        stalls: stalls injected.
    """

    bytes_up: int = 0
    bytes_down: int = 0
    connections: int = 0
    requests: int = 0
    cuts: int = 0
    cuts_up: int = 0
    cuts_down: int = 0
    stalls: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counters as a plain dict (for JSON output)."""
        return dataclasses.asdict(self)


class _RequestCounter:
    """Count HTTP/1.x requests in a client → server byte stream, chunk by chunk.

    It follows the framing (head, then a Content-Length body or a chunked body) so a body that
    happens to contain ``POST`` is not counted, and it survives heads split across chunks.
    """

    def __init__(self) -> None:
        self.count = 0
        self._buffer = b""
        self._body_left = 0
        self._chunked = False

    def feed(self, data: bytes) -> None:
        """Consume the next bytes of the stream."""
        self._buffer += data
        while self._buffer:
            if self._body_left:
                take = min(self._body_left, len(self._buffer))
                self._body_left -= take
                self._buffer = self._buffer[take:]
                continue
            if self._chunked:
                end = self._buffer.find(b"0\r\n\r\n")
                if end < 0:
                    self._buffer = self._buffer[-4:]
                    return
                self._buffer = self._buffer[end + 5 :]
                self._chunked = False
                continue
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > 65536:  # not HTTP: stop growing
                    self._buffer = b""
                return
            head = self._buffer[:end].decode("latin-1", "replace").lower()
            self._buffer = self._buffer[end + 4 :]
            self.count += 1
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip() == "content-length":
                    with contextlib.suppress(ValueError):
                        self._body_left = int(value.strip())
                elif name.strip() == "transfer-encoding" and "chunked" in value:
                    self._chunked = True


class _Cut(Exception):
    """Raised inside a pump when a fault cuts the connection."""


class _Connection:
    """One proxied client connection: two pumps (up and down) sharing a fate."""

    def __init__(self, proxy: FaultProxy, client_w: asyncio.StreamWriter, number: int) -> None:
        self.proxy = proxy
        seed = proxy.faults.seed
        # One random source per connection and direction, drawn per byte rather than per read:
        # the same seed then cuts the same connections at the same offsets however the
        # operating system happens to split the stream into reads.
        self.random = {
            d: random.Random(f"{seed}:{number}:{d}") if seed is not None else random.Random()
            for d in DIRECTIONS
        }
        self.risk: dict[tuple[str, str], float] = {}
        self.fate: dict[tuple[str, str], float] = {}
        self.client_w = client_w
        self.server_w: asyncio.StreamWriter | None = None
        self.passed = {UP: 0, DOWN: 0}
        self.link_free = {UP: 0.0, DOWN: 0.0}
        self.cut_at: dict[str, int | None] = {UP: None, DOWN: None}
        self.closed = False
        self.tasks: list[asyncio.Task[None]] = []

    def hazard(self, direction: str, kind: str, per_kb: float, size: int) -> int | None:
        """Return where in the next ``size`` bytes a random event of ``kind`` fires, if it does.

        ``per_kb`` is the probability per KiB; the event fires when the accumulated hazard
        passes an exponentially distributed threshold drawn once per event.
        """
        key = (direction, kind)
        if key not in self.fate:
            self.fate[key] = self.random[direction].expovariate(1.0)
            self.risk[key] = 0.0
        rate = -math.log(1.0 - per_kb) if per_kb < 1.0 else 50.0  # per KiB
        added = rate * size / 1024
        if self.risk[key] + added < self.fate[key]:
            self.risk[key] += added
            return None
        offset = int((self.fate[key] - self.risk[key]) / rate * 1024)
        del self.fate[key]
        return min(max(offset, 0), size - 1)

    def abort(self, direction: str | None) -> None:
        """Reset both sides at once, as a dropped radio link does."""
        if self.closed:
            return
        self.closed = True
        if direction is not None:
            self.proxy._count_cut(direction)
        for writer in (self.client_w, self.server_w):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    """An asyncio TCP proxy with a shaped, faulty link; runnable in a thread or in a loop.

    Args:
        target_host: host of the real server.
        target_port: port of the real server.
        listen_host: where the proxy listens.
        listen_port: port to listen on (0: pick a free one; ``start`` returns it).
        kbps: bandwidth limit in kbit/s for both directions (``kbps_up``/``kbps_down`` override).
        rtt_ms: added round-trip time; half is added each way.
        capture: a file to which every forwarded byte is appended (both directions, raw).
        **faults: any other field of ``LinkFaults``.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        kbps: float | None = None,
        rtt_ms: float | None = None,
        capture: str | Path | None = None,
        **faults: object,
    ) -> None:
        self.target = (target_host, target_port)
        self.listen = (listen_host, listen_port)
        self.faults = LinkFaults()
        if kbps is not None:
            self.faults.kbps_up = self.faults.kbps_down = float(kbps)
        if rtt_ms is not None:
            self.faults.latency_ms = float(rtt_ms) / 2
        self.configure(**faults)
        self.capture_path = Path(capture) if capture is not None else None
        self._capture: BinaryIO | None = None
        self._lock = threading.Lock()
        self._counters = ProxyCounters()
        self._request_counters: dict[int, _RequestCounter] = {}
        self._connections: set[_Connection] = set()
        self._accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._cutter: asyncio.Task[None] | None = None
        self.port: int = 0

    # -- configuration and counters (thread-safe) ------------------------------------------

    def configure(self, **faults: object) -> None:
        """Change the link's faults while it runs (fields of ``LinkFaults``).

        Raises:
            TypeError: for a name that is not a field of ``LinkFaults``.
        """
        names = {f.name for f in dataclasses.fields(LinkFaults)}
        for name, value in faults.items():
            if name not in names:
                raise TypeError(f"unknown fault setting {name!r}")
            setattr(self.faults, name, value)
        if self.faults.cut_direction not in ("up", "down", "both"):
            raise TypeError("cut_direction must be 'up', 'down' or 'both'")

    def counters(self) -> ProxyCounters:
        """Return a snapshot of the counters."""
        with self._lock:
            return self._counters

    def reset_counters(self) -> ProxyCounters:
        """Return the counters and start counting again from zero."""
        with self._lock:
            snapshot, self._counters = self._counters, ProxyCounters()
            return snapshot

    def _bump(self, **deltas: int) -> None:
        with self._lock:
            current = self._counters
            self._counters = dataclasses.replace(
                current, **{k: getattr(current, k) + v for k, v in deltas.items()}
            )

    def _count_cut(self, direction: str) -> None:
        self._bump(cuts=1, **{f"cuts_{direction}": 1})

    # -- running -----------------------------------------------------------------------------

    async def serve(self) -> int:
        """Start listening in the running event loop; return the port."""
        if self.capture_path is not None:
            self._capture = open(self.capture_path, "ab")  # noqa: SIM115 - closed in aclose
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self.listen[0], self.listen[1])
        self.port = self._server.sockets[0].getsockname()[1]
        self._cutter = asyncio.create_task(self._cut_every_loop())
        return self.port

    async def aclose(self) -> None:
        """Stop listening, reset every open connection and close the capture file."""
        if self._cutter is not None:
            self._cutter.cancel()
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort(None)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    def start(self) -> int:
        """Run the proxy in a daemon thread with its own event loop; return the port."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as exc:  # report to the starting thread, then stop
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.aclose())
                loop.close()

        self._thread = threading.Thread(target=run, name="faultproxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.port

    def stop(self) -> None:
        """Stop a proxy started with ``start`` and wait for its thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def cut_all(self) -> int:
        """Cut every open connection now; return how many were cut (thread-safe)."""
        if self._loop is None:
            return 0
        future = asyncio.run_coroutine_threadsafe(self._cut_all(), self._loop)
        return future.result(5)

    async def _cut_all(self) -> int:
        conns = [c for c in self._connections if not c.closed]
        for conn in conns:
            conn.abort(DOWN if conn.passed[DOWN] else UP)
        return len(conns)

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the pumps ---------------------------------------------------------------------------

    async def _cut_every_loop(self) -> None:
        # The period counts from when cutting was switched on (at start or by configure), so
        # the first cut of a "cut every 30 s" link comes 30 s later, not at the next poll.
        loop = asyncio.get_running_loop()
        next_cut: float | None = None
        while True:
            period = self.faults.cut_every_s
            now = loop.time()
            if not period:
                next_cut = None
            elif next_cut is None:
                next_cut = now + period
            elif now >= next_cut:
                await self._cut_all()
                next_cut = now + period
            await asyncio.sleep(0.05 if next_cut is None else min(0.2, max(0.0, next_cut - now)))

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._bump(connections=1)
        conn = _Connection(self, client_w, self._accepted)
        self._accepted += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        conn.server_w = server_w
        self._connections.add(conn)
        counter = _RequestCounter()
        try:
            conn.tasks = [
                asyncio.create_task(self._pump(conn, UP, client_r, server_w, counter)),
                asyncio.create_task(self._pump(conn, DOWN, server_r, client_w, None)),
            ]
            await asyncio.gather(*conn.tasks, return_exceptions=True)
        finally:
            self._connections.discard(conn)
            for writer in (client_w, server_w):
                with contextlib.suppress(Exception):
                    writer.close()

    def _plan_cut(self, conn: _Connection, direction: str, size: int) -> int | None:
        """Return the offset inside the next piece where a fault cuts, if one does."""
        faults = self.faults
        if not faults.cuts(direction):
            return None
        if faults.cut_after_bytes is not None:
            left = faults.cut_after_bytes - conn.passed[direction]
            if 0 <= left < size:
                return left
        if faults.cut_random_per_kb > 0:
            return conn.hazard(direction, "cut", faults.cut_random_per_kb, size)
        return None

    async def _pump(
        self,
        conn: _Connection,
        direction: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        counter: _RequestCounter | None,
    ) -> None:
        """Read one direction, shape and fault it, and write it to the other side.

        Reading and delivering run as two tasks joined by a bounded queue so that latency is
        pipelined (a 300 ms delay does not cap throughput at one piece per 300 ms).
        """
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def read_side() -> None:
            try:
                while True:
                    data = await reader.read(PIECE)
                    if not data:
                        break
                    # The link is a FIFO: a piece starts on the wire when the previous one
                    # has left, takes len/rate to serialise, then flies for the latency.
                    now = time.monotonic()
                    kbps = self.faults.kbps(direction)
                    start = max(now, conn.link_free[direction])
                    serialise = len(data) * 8 / (kbps * 1000) if kbps else 0.0
                    conn.link_free[direction] = start + serialise
                    deliver_at = start + serialise + self.faults.latency_ms / 1000
                    await queue.put((deliver_at, data))
                    # Back-pressure: stop reading while the modem's buffer holds more than
                    # BUFFER_S of unsent data, so the sender feels the slow link.
                    backlog = conn.link_free[direction] - time.monotonic()
                    if backlog > BUFFER_S:
                        await asyncio.sleep(backlog - BUFFER_S)
            except (ConnectionError, OSError):
                pass
            await queue.put(None)

        reader_task = asyncio.create_task(read_side())
        try:
            while True:
                item = await queue.get()
                if item is None:
                    with contextlib.suppress(Exception):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                deliver_at, data = item
                await self._deliver(conn, direction, deliver_at, data, writer, counter)
        except _Cut:
            conn.abort(direction)
        except (ConnectionError, OSError):
            conn.abort(None)
        finally:
            reader_task.cancel()

    async def _deliver(
        self,
        conn: _Connection,
        direction: str,
        deliver_at: float,
        data: bytes,
        writer: asyncio.StreamWriter,
        counter: _RequestCounter | None,
    ) -> None:
        faults = self.faults
        cut = self._plan_cut(conn, direction, len(data))
        if cut is not None:
            data = data[:cut]
        stall_rate = faults.stall_random_per_kb
        stalled = stall_rate > 0 and data
        if stalled and conn.hazard(direction, "stall", stall_rate, len(data)) is not None:
            self._bump(stalls=1)
            if faults.stall_s is None:
                await asyncio.Event().wait()  # until the connection is aborted
            await asyncio.sleep(faults.stall_s or 0)
        if data:
            delay = deliver_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if conn.closed:
                raise _Cut
            writer.write(data)
            await writer.drain()
            conn.passed[direction] += len(data)
            if direction == UP:
                self._bump(bytes_up=len(data))
            else:
                self._bump(bytes_down=len(data))
            if counter is not None:
                before = counter.count
                counter.feed(data)
                if counter.count != before:
                    self._bump(requests=counter.count - before)
            if self._capture is not None:
                self._capture.write(data)
        if cut is not None:
            raise _Cut


@contextlib.contextmanager
def running_proxy(target_host: str, target_port: int, **options: object) -> Iterator[FaultProxy]:
    """Run a ``FaultProxy`` in a thread for the duration of a ``with`` block."""
    proxy = FaultProxy(target_host, target_port, **options)  # type: ignore[arg-type]
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _address(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host or default_host, int(port)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``python -m bench.faultproxy``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.faultproxy",
        description="A TCP proxy that emulates a weak link: bandwidth, latency, cuts, stalls.",
    )
    parser.add_argument("--listen", type=_address, default=("127.0.0.1", 0), help="HOST:PORT")
    parser.add_argument("--target", type=_address, required=True, help="HOST:PORT of the server")
    parser.add_argument("--kbps", type=float, help="bandwidth each way, kbit/s")
    parser.add_argument("--kbps-up", type=float, help="bandwidth client → server, kbit/s")
    parser.add_argument("--kbps-down", type=float, help="bandwidth server → client, kbit/s")
    parser.add_argument("--rtt-ms", type=float, default=0.0, help="added round-trip time")
    parser.add_argument("--cut-after", type=int, help="cut each connection after N bytes")
    parser.add_argument("--cut-random", type=float, default=0.0, help="cut probability per KiB")
    parser.add_argument("--cut-every", type=float, help="cut all connections every T seconds")
    parser.add_argument("--cut-direction", choices=("up", "down", "both"), default="both")
    parser.add_argument("--stall-random", type=float, default=0.0, help="stall probability/KiB")
    parser.add_argument("--stall-s", type=float, default=5.0, help="stall length (0: forever)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--capture", type=Path, help="append every forwarded byte to FILE")
    parser.add_argument("--stats-every", type=float, default=0.0, help="print counters every T s")
    return parser


async def _main_async(args: argparse.Namespace) -> None:
    proxy = FaultProxy(
        args.target[0],
        args.target[1],
        listen_host=args.listen[0],
        listen_port=args.listen[1],
        kbps=args.kbps,
        rtt_ms=args.rtt_ms,
        capture=args.capture,
        cut_after_bytes=args.cut_after,
        cut_random_per_kb=args.cut_random,
        cut_every_s=args.cut_every,
        cut_direction=args.cut_direction,
        stall_random_per_kb=args.stall_random,
        stall_s=args.stall_s or None,
        seed=args.seed,
    )
    if args.kbps_up is not None:
        proxy.configure(kbps_up=args.kbps_up)
    if args.kbps_down is not None:
        proxy.configure(kbps_down=args.kbps_down)
    port = await proxy.serve()
    print(f"listening on {args.listen[0]}:{port} → {args.target[0]}:{args.target[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), args.stats_every or None)
            if args.stats_every:
                print(json.dumps(proxy.counters().as_dict()), flush=True)
    finally:
        await proxy.aclose()
        print(json.dumps(proxy.counters().as_dict()), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the proxy until interrupted; print the counters as JSON when it stops."""
    args = build_parser().parse_args(argv)
    asyncio.run(_main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
