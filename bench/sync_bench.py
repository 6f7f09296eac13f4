"""The weak-link sync benchmark: our sync against CouchDB-style replication, through one proxy.

Issue 5 asks what each system costs on the links a commune really has. For every workload
and link profile this runs both systems on this machine, each through the same
:class:`bench.faultproxy.FaultProxy`, and records bytes each way, requests, connections and
wall time of the measured step, next to the link's limit:

    limit = (the workload's documents compressed with zstd level 19 + attachment bytes)
            × 8 / bandwidth + one RTT

* **ours**: a real ``motcua-server serve`` process (SQLite), an enrolled device profile
  (``Store.create`` + ``SyncEngine``) whose server URL is the proxy.
* **peer**: ``pouchdb-server --in-memory`` (default gzip) and a PouchDB (memory adapter)
  replicating to it through the proxy (``bench/peer/replicate.js``, driven line by line).

Each run: set up unshaped (warm-up sync, documents, edits, scans), let idle keep-alive
connections expire, shape the link, reset the counters, run the measured step to the end
(again after each cut, bounded in time), read the counters, check the documents arrived.

Command line (``bench/run sync`` calls it)::

    python -m bench.sync_bench --profiles 3g,2g --out bench/results/sync.json
    python -m bench.sync_bench --quick            # the tiny form CI runs
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import docs_gen
from bench.faultproxy import FaultProxy, ProxyCounters

ROOT = Path(__file__).resolve().parents[1]
PEER_DIR = ROOT / "bench" / "peer"
PEER_SERVER = PEER_DIR / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
COMMUNE = docs_gen.COMMUNE
PASSWORD = "mật-khẩu-đo-đạc"
SEED = 20260310
#: Seconds to wait after set-up so that idle keep-alive connections (5 s on both servers)
#: are closed: the measured step opens its connections as a sync some minutes later would.
IDLE_S = 6.0


@dataclasses.dataclass(frozen=True)
class LinkProfile:
    """A shaped link: bandwidth each way, round-trip time, and cuts of every connection.

    Attributes:
        name: short name (``3g``).
        kbps: bandwidth each way, kbit/s.
        rtt_ms: round-trip time added by the link.
        cut_every_s: cut every open connection this often (None: never).
    """

    name: str
    kbps: float
    rtt_ms: float
    cut_every_s: float | None = None

    def describe(self) -> str:
        """Return e.g. ``3G: 384 kbit/s, 200 ms RTT, cut every 30 s``."""
        text = f"{self.name.upper()}: {self.kbps:g} kbit/s, {self.rtt_ms:g} ms RTT"
        return text + (f", cut every {self.cut_every_s:g} s" if self.cut_every_s else "")


PROFILES = {
    "2g": LinkProfile("2g", 64, 600),
    "3g": LinkProfile("3g", 384, 200),
    "3g-cut": LinkProfile("3g-cut", 384, 200, cut_every_s=30),
    # Not a link: 1 Gbit/s and no added delay, to see the processing time without the link.
    "loopback": LinkProfile("loopback", 1_000_000, 0),
}


@dataclasses.dataclass(frozen=True)
class Workload:
    """One row of issue 5's table.

    Attributes:
        name: short name.
        title: what a reader sees.
        kind: ``quiet``, ``push``, ``edit``, ``pull`` or ``day``.
        docs: documents involved (pushed, pulled, or already synced for quiet/edit).
        edits: documents edited (2 fields each) for ``edit``.
        scans: scans attached for ``day``.
        scan_bytes: size of each scan.
        cut_mid_scan: cut the link once, half-way through the upload (``day`` only).
        goal: the goal for ours, as a reader reads it.
    """

    name: str
    title: str
    kind: str
    docs: int
    edits: int = 0
    scans: int = 0
    scan_bytes: int = 300 * 1024
    cut_mid_scan: bool = False
    goal: str = ""


WORKLOADS = [
    Workload("quiet", "quiet two-way sync (nothing new)", "quiet", 50,
             goal="1 request, ≤ 1/3 of the peer's bytes"),
    Workload("push50", "push 50 new dossiers", "push", 50,
             goal="1 request, ≤ 1/6 of the peer's bytes"),
    Workload("edit10", "edit 2 fields in 10 dossiers, push", "edit", 50, edits=10,
             goal="≤ 1/6 of the peer's bytes"),
    Workload("push5000", "a month offline: push 5,000 dossiers", "push", 5000,
             goal="≤ 1/8 of the bytes, ≤ 1/20 of the requests"),
    Workload("pull20000", "a new device's first pull of 20,000 dossiers", "pull", 20000,
             goal="≤ 1/2 of the bytes, ≤ 1/20 of the requests"),
    Workload("day", "a commune's day: 50 dossiers, 10 scans of 300 KB", "day", 50, scans=10,
             goal="≤ 0.75 of the peer's bytes"),
    Workload("day-cut", "the same day, cut once half-way through the upload", "day", 50,
             scans=10, cut_mid_scan=True, goal="at most one chunk re-sent"),
]  # fmt: skip

#: The tiny form CI runs: the same kinds of step with a handful of documents.
QUICK_WORKLOADS = [
    Workload("quiet", "quiet two-way sync (5 synced)", "quiet", 5),
    Workload("push50", "push 5 new dossiers", "push", 5),
    Workload("edit10", "edit 2 fields in 2 dossiers, push", "edit", 5, edits=2),
    Workload("pull20000", "first pull of 20 dossiers", "pull", 20),
    Workload("day", "3 dossiers, 1 scan of 100 KB", "day", 3, scans=1, scan_bytes=100 * 1024),
    Workload("day-cut", "the same, cut half-way", "day", 3, scans=1, scan_bytes=100 * 1024,
             cut_mid_scan=True),
]  # fmt: skip


@dataclasses.dataclass
class Measurement:
    """What one system moved for one workload on one link profile.

    Attributes:
        system: ``ours`` or ``peer``.
        workload: the workload's name.
        profile: the link profile's name.
        ok: the step finished and every document arrived.
        bytes_up: bytes client → server through the proxy.
        bytes_down: bytes server → client.
        requests: HTTP requests seen by the proxy.
        connections: TCP connections opened.
        cuts: connections cut by the link.
        wall_s: wall time of the measured step.
        attempts: sync calls (ours) or replications (peer) until done.
        error: why it did not finish, if so.
        detail: what the system said it moved.
    """

    system: str
    workload: str
    profile: str
    ok: bool = False
    bytes_up: int = 0
    bytes_down: int = 0
    requests: int = 0
    connections: int = 0
    cuts: int = 0
    wall_s: float = 0.0
    attempts: int = 0
    error: str | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def bytes_total(self) -> int:
        """Bytes both ways."""
        return self.bytes_up + self.bytes_down

    def take(self, counters: ProxyCounters, wall_s: float) -> None:
        """Copy the proxy's counters and the wall time in."""
        self.bytes_up, self.bytes_down = counters.bytes_up, counters.bytes_down
        self.requests, self.connections = counters.requests, counters.connections
        self.cuts, self.wall_s = counters.cuts, wall_s


@dataclasses.dataclass
class Limit:
    """The link's limit for a workload: payload bytes and the time they need.

    Attributes:
        doc_bytes: the workload's documents compressed with zstd level 19.
        attachment_bytes: scan bytes (incompressible).
        seconds: ``(doc_bytes + attachment_bytes) × 8 / bandwidth + RTT``.
    """

    doc_bytes: int
    attachment_bytes: int
    seconds: float

    @property
    def bytes(self) -> int:
        """Payload bytes that must cross the link."""
        return self.doc_bytes + self.attachment_bytes


# -- the documents of a workload ---------------------------------------------------------------


@dataclasses.dataclass
class WorkloadData:
    """The generated documents, edits and scans of one workload (shared by both systems)."""

    workload: Workload
    docs: list[docs_gen.BenchDoc]
    edits: dict[str, dict[str, str]]
    scans: list[bytes]
    files: dict[str, Path]

    def payload_docs(self) -> list[dict[str, Any]]:
        """Return the documents whose content must cross the link in the measured step."""
        kind = self.workload.kind
        if kind == "quiet":
            return []
        if kind == "edit":
            out = []
            for doc in self.docs:
                if doc.id in self.edits:
                    couch = doc.couch_doc()
                    couch.update({f"data.{k}": v for k, v in self.edits[doc.id].items()})
                    out.append(couch)
            return out
        return [doc.couch_doc() for doc in self.docs]

    def limit(self, profile: LinkProfile) -> Limit:
        """Return the link's limit for this workload on ``profile``."""
        import zstandard

        docs = self.payload_docs()
        raw = b"\n".join(
            json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode() for d in docs
        )
        doc_bytes = len(zstandard.ZstdCompressor(level=19).compress(raw)) if docs else 0
        attach = sum(len(s) for s in self.scans)
        seconds = (doc_bytes + attach) * 8 / (profile.kbps * 1000) + profile.rtt_ms / 1000
        return Limit(doc_bytes, attach, seconds)


def make_data(workload: Workload, workdir: Path, seed: int = SEED) -> WorkloadData:
    """Generate the workload's documents, edits and scans, and write them for the peer."""
    workdir.mkdir(parents=True, exist_ok=True)
    docs = docs_gen.generate(workload.docs, seed)
    edits = {d.id: docs_gen.edit_fields(d, seed) for d in docs[: workload.edits]}
    scans = [docs_gen.scan_bytes(n, workload.scan_bytes, seed) for n in range(workload.scans)]
    files = {"docs": workdir / "docs.jsonl", "edits": workdir / "edits.jsonl"}
    docs_gen.write_jsonl(files["docs"], docs)
    with open(files["edits"], "w", encoding="utf-8") as out:
        for doc_id, fields in edits.items():
            line = {"id": doc_id, "fields": {f"data.{k}": v for k, v in fields.items()}}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    for n, scan in enumerate(scans):
        files[f"scan{n}"] = workdir / f"scan-{n}.bin"
        files[f"scan{n}"].write_bytes(scan)
    return WorkloadData(workload, docs, edits, scans, files)


# -- processes and the link ----------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float = 30.0) -> None:
    """Wait until ``url`` answers an HTTP GET (any status).

    Raises:
        RuntimeError: it does not answer in time.
    """
    import requests

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} does not answer")


def stop_process(process: subprocess.Popen[Any] | None) -> None:
    """Terminate a child process (SIGKILL after 10 s)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Link:
    """The fault proxy in front of one server: unshaped for set-up, shaped to measure."""

    def __init__(self, target_port: int) -> None:
        self.proxy = FaultProxy("127.0.0.1", target_port)
        self.port = self.proxy.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def unshaped(self) -> None:
        """Remove every limit and fault (set-up runs at loopback speed)."""
        self.proxy.configure(kbps_up=None, kbps_down=None, latency_ms=0.0, cut_every_s=None)

    def shape(self, profile: LinkProfile) -> None:
        """Shape the link to ``profile``."""
        # Cuts every T seconds are timed here, from the start of the measured step (see
        # ``measuring``): the proxy's own timer would cut at once when switched on mid-run.
        self.proxy.configure(
            kbps_up=profile.kbps, kbps_down=profile.kbps, latency_ms=profile.rtt_ms / 2
        )

    @contextlib.contextmanager
    def measuring(
        self, profile: LinkProfile, result: Measurement, cut_at_up_bytes: int | None = None
    ) -> Iterator[None]:
        """Shape the link, count from zero and time the ``with`` block into ``result``.

        Args:
            profile: the link profile.
            result: where counters and wall time go.
            cut_at_up_bytes: cut every connection once, when this many bytes went up.
        """
        self.shape(profile)
        self.proxy.reset_counters()
        stop = threading.Event()
        watchers = []
        if cut_at_up_bytes is not None:
            watchers.append(threading.Thread(target=self._cut_once, args=(cut_at_up_bytes, stop)))
        if profile.cut_every_s:
            watchers.append(threading.Thread(target=self._cut_every, args=(profile, stop)))
        started = time.monotonic()
        for watcher in watchers:
            watcher.daemon = True
            watcher.start()
        try:
            yield
        finally:
            wall = time.monotonic() - started
            stop.set()
            for watcher in watchers:
                watcher.join(2)
            result.take(self.proxy.counters(), wall)
            self.unshaped()

    def _cut_once(self, threshold: int, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.proxy.counters().bytes_up >= threshold:
                self.proxy.cut_all()
                return
            time.sleep(0.002)

    def _cut_every(self, profile: LinkProfile, stop: threading.Event) -> None:
        assert profile.cut_every_s
        while not stop.wait(profile.cut_every_s):
            self.proxy.cut_all()

    def close(self) -> None:
        """Stop the proxy."""
        self.proxy.stop()


# -- our system ----------------------------------------------------------------------------


class OurServer:
    """A ``motcua-server serve`` process on a SQLite database file."""

    def __init__(self, db_path: Path, log_path: Path) -> None:
        self.db_url = f"sqlite:///{db_path}"
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def cli(self, *args: str) -> str:
        """Run ``motcua-server --db URL ARGS``; return stdout.

        Raises:
            RuntimeError: the command failed.
        """
        result = subprocess.run(
            [sys.executable, "-m", "server.cli", "--db", self.db_url, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"motcua-server {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def start(self) -> int:
        """Initialise the database if needed, start serving; return the port."""
        self.cli("init")
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "--db", self.db_url, "serve",
             "--host", "127.0.0.1", "--port", "0", "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=_env(),
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                wait_http(f"http://127.0.0.1:{self.port}/health")
                return self.port
            if not line:
                break
        self.stop()
        raise RuntimeError(f"motcua-server did not start; see {self.log_path}")

    def enrol_code(self) -> str:
        """Issue a one-time enrolment code for the commune."""
        return self.cli("enrol-code", "--commune", COMMUNE).strip().splitlines()[-1]

    def stop(self) -> None:
        """Stop the process."""
        stop_process(self.process)
        self.process = None


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("MOTCUA_SCRYPT_LOG2N", "10")  # cheap profile keys: set-up, not measured
    return env


class OurDevice:
    """An enrolled commune PC: a profile, its store and its sync engine."""

    def __init__(self, profile_dir: Path, server: OurServer, url: str) -> None:
        os.environ.setdefault("MOTCUA_SCRYPT_LOG2N", "10")
        from desktop.store.store import Store
        from desktop.sync.engine import SyncEngine

        self.store = Store.create(
            profile_dir, commune=COMMUNE, username="lan", password=PASSWORD,
            full_name="Lò Thị Lan",
        )  # fmt: skip
        self.engine = SyncEngine(self.store)
        self.engine.enrol(url, server.enrol_code(), label=profile_dir.name)
        self.ids: dict[str, str] = {}  # generated doc id → dossier id

    def register(self, docs: Sequence[docs_gen.BenchDoc], batch: int = 250) -> None:
        """Register documents as dossiers (validated, with their outbox entries)."""
        from desktop.store import dossiers

        for i in range(0, len(docs), batch):
            part = docs[i : i + batch]
            prepared = [
                self.store.prepare_dossier(d.procedure, d.data, received_at=d.received_at)
                for d in part
            ]

            # Many dossiers per transaction: set-up speed only; each still gets its own
            # outbox entry exactly as when a clerk saves it.
            def insert_all(conn: Any, ctx: Any, items: list[Any] = prepared) -> list[Any]:
                return [dossiers.insert(conn, ctx, x, allow_duplicate=True) for x in items]

            records = self.store.write(insert_all)
            for doc, record in zip(part, records):
                self.ids[doc.id] = record.id

    def sync_until_done(
        self, deadline: float, expect_pulled: int = 0
    ) -> tuple[bool, int, dict[str, Any]]:
        """Sync until nothing is pending, scans are up and ``expect_pulled`` arrived.

        Returns:
            (done, sync calls, totals of what the reports said).
        """
        calls = 0
        totals: dict[str, Any] = {"pushed": 0, "pulled": 0, "attachment_bytes": 0, "errors": []}
        while time.monotonic() < deadline:
            calls += 1
            report = self.engine.sync_once()
            totals["pushed"] += report.pushed
            totals["pulled"] += report.pulled
            totals["attachment_bytes"] += report.attachment_bytes
            if report.error or report.attachment_error:
                totals["errors"].append(report.error or report.attachment_error)
            pending = self.engine.status().pending
            uploads = self.store.sync.attachments_to_upload()
            finished = report.ok and not report.attachment_error and pending == 0
            if finished and not uploads and totals["pulled"] >= expect_pulled:
                return True, calls, totals
            if calls > 500:
                break
        return False, calls, totals

    def close(self) -> None:
        """Close the engine and the store."""
        self.engine.close()
        self.store.close()


def run_ours(
    data: WorkloadData,
    profile: LinkProfile,
    workdir: Path,
    *,
    server_snapshot: Path | None = None,
    idle_s: float = IDLE_S,
    cut_at_up_bytes: int | None = None,
    timeout_s: float = 3600,
) -> Measurement:
    """Run one workload for our system; return what the proxy counted."""
    workload = data.workload
    result = Measurement("ours", workload.name, profile.name)
    run_dir = Path(tempfile.mkdtemp(prefix=f"ours-{workload.name}-{profile.name}-", dir=workdir))
    db_path = run_dir / "server.db"
    if server_snapshot is not None:
        copy_database(server_snapshot, db_path)
    server = OurServer(db_path, run_dir / "server.log")
    link: Link | None = None
    devices: list[OurDevice] = []
    try:
        link = Link(server.start())
        device = OurDevice(run_dir / "pc", server, link.url)
        devices.append(device)
        if workload.kind != "pull":
            _check_sync(device, "warm-up")  # an established device: session, cursor
        if workload.kind in ("quiet", "edit"):
            device.register(data.docs)
            _check_sync(device, "set-up")
        if workload.kind == "edit":
            for doc_id, fields in data.edits.items():
                device.store.update_dossier(device.ids[doc_id], fields)
        if workload.kind in ("push", "day"):
            device.register(data.docs)
        if workload.kind == "day":
            for n, scan in enumerate(data.scans):
                dossier_id = device.ids[data.docs[n % len(data.docs)].id]
                device.store.add_attachment(dossier_id, scan, f"scan-{n}.jpg", "image/jpeg")
        time.sleep(idle_s)
        expect = workload.docs if workload.kind == "pull" else 0
        with link.measuring(profile, result, cut_at_up_bytes):
            done, calls, totals = device.sync_until_done(
                time.monotonic() + timeout_s, expect_pulled=expect
            )
        result.attempts, result.detail = calls, totals
        result.ok = done and _ours_arrived(device, data)
        if not result.ok:
            result.error = "; ".join(str(e) for e in totals["errors"][-3:]) or "not converged"
    except Exception as exc:  # a broken run is recorded, the rest of the table goes on
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        for device in devices:
            with contextlib.suppress(Exception):
                device.close()
        if link is not None:
            link.close()
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with its write-ahead log (a stopped server may leave one)."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


def _check_sync(device: OurDevice, what: str) -> None:
    done, _, totals = device.sync_until_done(time.monotonic() + 600)
    if not done:
        raise RuntimeError(f"{what} sync failed: {totals['errors'][-1:]}")


def _ours_arrived(device: OurDevice, data: WorkloadData) -> bool:
    """Check the outcome: pushed changes acknowledged, pulled dossiers present."""
    if data.workload.kind == "pull":
        return device.store.count_dossiers() == data.workload.docs
    return device.engine.status().pending == 0


def build_pull_snapshot(data: WorkloadData, workdir: Path) -> Path:
    """Return a server database holding ``data``'s documents, pushed by another device.

    Made once per run at loopback speed and copied for each profile's first-pull run.
    """
    snap_dir = workdir / f"snapshot-{data.workload.name}-{len(data.docs)}"
    snapshot = snap_dir / "server.db"
    if snapshot.exists():
        return snapshot
    snap_dir.mkdir(parents=True, exist_ok=True)
    server = OurServer(snapshot, snap_dir / "server.log")
    port = server.start()
    try:
        source = OurDevice(snap_dir / "source-pc", server, f"http://127.0.0.1:{port}")
        try:
            source.register(data.docs)
            _check_sync(source, "snapshot")
        finally:
            source.close()
    finally:
        server.stop()
    shutil.rmtree(snap_dir / "source-pc", ignore_errors=True)
    return snapshot


# -- the peer ------------------------------------------------------------------------------


def peer_available() -> str | None:
    """Return why the PouchDB peer cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not PEER_SERVER.exists():
        return f"npm packages are not installed in {PEER_DIR} (run: bench/run sync, or npm ci)"
    return None


class PeerServer:
    """``pouchdb-server --in-memory`` (its default gzip kept) in a scratch directory."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        """Start it and create the ``bench`` database; return the port."""
        import requests

        log = open(self.run_dir / "pouchdb-server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["node", str(PEER_SERVER), "--in-memory", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=self.run_dir, stdout=log, stderr=log,
        )  # fmt: skip
        wait_http(f"http://127.0.0.1:{self.port}/")
        requests.put(f"http://127.0.0.1:{self.port}/bench", timeout=30).raise_for_status()
        return self.port

    def stop(self) -> None:
        """Stop the process."""
        stop_process(self.process)


class PeerClient:
    """The node process of ``bench/peer/replicate.js``, one JSON command per line."""

    def __init__(self, remote_url: str, run_dir: Path) -> None:
        self.log = open(run_dir / "replicate.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["node", str(PEER_DIR / "replicate.js"), "--remote", remote_url],
            cwd=PEER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True,
        )  # fmt: skip
        ready = self._read(60)
        if not ready.get("ready"):
            raise RuntimeError(f"replicate.js did not start: {ready}")

    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.process.stdout.readline()))  # type: ignore[union-attr]
        reader.daemon = True
        reader.start()
        reader.join(timeout_s)
        if not box:
            self.close()
            raise TimeoutError(f"replicate.js gave no answer in {timeout_s:.0f} s")
        if not box[0]:
            raise RuntimeError("replicate.js stopped (see replicate.log)")
        return dict(json.loads(box[0]))

    def call(self, timeout_s: float = 600, **command: Any) -> dict[str, Any]:
        """Send one command and return its answer.

        Raises:
            RuntimeError: the command failed.
        """
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self._read(timeout_s)
        if not answer.get("ok"):
            raise RuntimeError(f"peer {command['cmd']} failed: {answer.get('error')}")
        return answer

    def close(self) -> None:
        """Stop the node process."""
        with contextlib.suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.write('{"cmd": "quit"}\n')
            self.process.stdin.flush()
            self.process.wait(5)
        stop_process(self.process)
        self.log.close()


def run_peer(
    data: WorkloadData,
    profile: LinkProfile,
    workdir: Path,
    *,
    idle_s: float = IDLE_S,
    cut_at_up_bytes: int | None = None,
    timeout_s: float = 3600,
) -> Measurement:
    """Run one workload for the PouchDB peer; return what the proxy counted."""
    workload = data.workload
    result = Measurement("peer", workload.name, profile.name)
    run_dir = Path(tempfile.mkdtemp(prefix=f"peer-{workload.name}-{profile.name}-", dir=workdir))
    server = PeerServer(run_dir)
    link: Link | None = None
    client: PeerClient | None = None
    docs_file = str(data.files["docs"])
    try:
        port = server.start()
        link = Link(port)
        client = PeerClient(f"{link.url}/bench", run_dir)
        if workload.kind == "pull":
            client.call(cmd="remote_load", url=f"http://127.0.0.1:{port}/bench", file=docs_file)
        else:
            client.call(cmd="sync")  # warm-up: an established replication (checkpoints)
        if workload.kind in ("quiet", "edit"):
            client.call(cmd="load", file=docs_file)
            client.call(cmd="sync")
        if workload.kind == "edit":
            client.call(cmd="edit", file=str(data.files["edits"]))
        if workload.kind in ("push", "day"):
            client.call(cmd="load", file=docs_file)
        if workload.kind == "day":
            scans = [{"n": n, "file": str(data.files[f"scan{n}"])} for n in range(len(data.scans))]
            client.call(cmd="attach", file=docs_file, scans=scans)
        time.sleep(idle_s)
        step = {"quiet": "sync", "pull": "pull"}.get(workload.kind, "push")
        with link.measuring(profile, result, cut_at_up_bytes):
            answer = client.call(cmd=step, timeout_s=timeout_s)
        result.attempts = int(answer.get("attempts") or 1)
        result.detail = {"docs_written": answer.get("docs_written"), "node_ms": answer.get("ms")}
        # A replication retried after cuts reports only its last attempt's documents, so
        # the outcome is checked on the databases themselves.
        result.error = _peer_arrived(client, data, f"http://127.0.0.1:{port}/bench")
        result.ok = result.error is None
    except Exception as exc:  # a broken run is recorded, the rest of the table goes on
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
        if link is not None:
            link.close()
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def _peer_arrived(client: PeerClient, data: WorkloadData, server_url: str) -> str | None:
    """Return what is missing after the peer's measured step, or None when all arrived."""
    import requests

    workload = data.workload
    if workload.kind == "pull":
        have = int(client.call(cmd="count")["docs"])
        return None if have == workload.docs else f"{have} of {workload.docs} docs pulled"
    if workload.kind in ("push", "day"):
        info = requests.get(server_url, timeout=30).json()
        have = int(info["doc_count"])
        return None if have == workload.docs else f"{have} of {workload.docs} docs on the server"
    if workload.kind == "edit":
        keys = json.dumps(list(data.edits))
        rows = requests.get(f"{server_url}/_all_docs", params={"keys": keys}, timeout=30).json()
        revs = [row.get("value", {}).get("rev", "") for row in rows["rows"]]
        edited = sum(rev.startswith("2-") for rev in revs)
        return None if edited == len(data.edits) else f"{edited} of {len(data.edits)} edits"
    return None


# -- the table -----------------------------------------------------------------------------


def run_bench(
    workloads: Sequence[Workload],
    profiles: Sequence[LinkProfile],
    *,
    systems: Sequence[str] = ("ours", "peer"),
    workdir: Path,
    idle_s: float = IDLE_S,
    timeout_s: float = 3600,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every workload on every profile for each system; return the results as JSON data."""
    rows: list[dict[str, Any]] = []
    data_cache: dict[tuple[str, int, int, int], WorkloadData] = {}
    for profile in profiles:
        for workload in workloads:
            key = (workload.kind, workload.docs, workload.scans, workload.scan_bytes)
            if key not in data_cache:
                data_cache[key] = make_data(workload, workdir / f"data-{len(data_cache)}")
            data = data_cache[key]
            limit = data.limit(profile)
            row: dict[str, Any] = {
                "workload": workload.name,
                "title": workload.title,
                "goal": workload.goal,
                "profile": profile.name,
                "limit": dataclasses.asdict(limit) | {"bytes": limit.bytes},
            }
            for system in systems:
                cut = None
                if workload.cut_mid_scan:
                    base = next(
                        (r[system] for r in rows
                         if r["profile"] == profile.name and r["workload"] == "day"
                         and system in r and r[system]["ok"]),
                        None,
                    )  # fmt: skip
                    if base is None:
                        log(f"skip {system} {workload.name} {profile.name}: no uncut day run")
                        continue
                    cut = base["bytes_up"] // 2
                started = time.monotonic()
                if system == "ours":
                    snapshot = (
                        build_pull_snapshot(data, workdir) if workload.kind == "pull" else None
                    )
                    m = run_ours(
                        data, profile, workdir, server_snapshot=snapshot, idle_s=idle_s,
                        cut_at_up_bytes=cut, timeout_s=timeout_s,
                    )  # fmt: skip
                else:
                    m = run_peer(
                        data, profile, workdir, idle_s=idle_s, cut_at_up_bytes=cut,
                        timeout_s=timeout_s,
                    )  # fmt: skip
                row[system] = dataclasses.asdict(m)
                log(
                    f"{profile.name:6} {workload.name:9} {system:4} "
                    f"{'ok ' if m.ok else 'FAIL'} up {m.bytes_up:>9} down {m.bytes_down:>9} "
                    f"req {m.requests:>4} conn {m.connections:>3} cuts {m.cuts:>2} "
                    f"wall {m.wall_s:7.2f} s (limit {limit.seconds:.2f} s; run "
                    f"{time.monotonic() - started:.0f} s)"
                    + (f" error: {m.error}" if m.error else "")
                )
            if workload.cut_mid_scan:
                _add_resent(row, rows)
            rows.append(row)
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "seed": SEED,
        "profiles": {p.name: dataclasses.asdict(p) for p in profiles},
        "rows": rows,
    }


def _add_resent(row: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Add bytes re-sent after the cut: bytes up of the cut run minus the uncut run's."""
    for system in ("ours", "peer"):
        base = next(
            (r[system] for r in rows
             if r["profile"] == row["profile"] and r["workload"] == "day" and system in r),
            None,
        )  # fmt: skip
        if base is not None and system in row:
            row[system]["resent_bytes"] = row[system]["bytes_up"] - base["bytes_up"]


def machine_info() -> dict[str, Any]:
    """Return what the numbers were measured on."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["node"] = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    return info


# -- the report ----------------------------------------------------------------------------


def _kb(n: float) -> str:
    return f"{n / 1000:,.1f} KB" if n < 1_000_000 else f"{n / 1_000_000:,.2f} MB"


#: Issue 5's byte goals for ours, as a share of the peer's bytes (both ways).
BYTE_GOALS = {"quiet": (1, 3), "push50": (1, 6), "edit10": (1, 6), "push5000": (1, 8),
              "pull20000": (1, 2), "day": (3, 4)}  # fmt: skip
#: Ours within this factor of the link's limit (time), on every workload and profile.
TIME_GOAL = 1.15
#: Slack over one attachment chunk when counting bytes re-sent after a cut (envelope, headers).
RESEND_SLACK = 2048


def goal_verdicts(row: dict[str, Any]) -> list[tuple[str, bool | None]]:
    """Return each goal of a row, as text with the measured value, and whether ours met it.

    None: the goal cannot be judged (the peer did not finish).
    """
    ours, peer, limit = row.get("ours"), row.get("peer"), row["limit"]
    if not ours or not ours.get("ok"):
        return [("ours did not finish", False)]
    out: list[tuple[str, bool | None]] = []
    name = row["workload"]
    total = ours["bytes_up"] + ours["bytes_down"]
    if peer and peer.get("ok"):
        ptotal = peer["bytes_up"] + peer["bytes_down"]
        if name in BYTE_GOALS:
            num, den = BYTE_GOALS[name]
            ratio = total / ptotal
            out.append((f"bytes {ratio:.3f} × peer (≤ {num}/{den})", ratio <= num / den))
        if name in ("push5000", "pull20000"):
            ratio = ours["requests"] / peer["requests"]
            out.append((f"requests {ratio:.3f} × peer (≤ 1/20)", ratio <= 1 / 20))
    elif name in BYTE_GOALS:
        out.append(("bytes vs peer: the peer did not finish", None))
    if name in ("quiet", "push50"):
        out.append((f"{ours['requests']} request(s) (1)", ours["requests"] == 1))
    if name == "day-cut" and "resent_bytes" in ours:
        from protocol import limits

        resent = ours["resent_bytes"]
        ok = resent <= limits.CHUNK_BYTES + RESEND_SLACK
        out.append(
            (f"re-sent {resent / 1024:.0f} KiB (≤ one {limits.CHUNK_BYTES // 1024} KiB chunk)", ok)
        )
    if limit["seconds"] > 0.05:  # not on the loopback pseudo-profile
        factor = ours["wall_s"] / limit["seconds"]
        out.append((f"time {factor:.2f} × limit (≤ {TIME_GOAL})", factor <= TIME_GOAL))
    return out


def markdown(results: dict[str, Any]) -> str:
    """Return the results as Markdown tables (one per profile) with the goals' verdicts."""
    lines: list[str] = []
    for name, profile in results["profiles"].items():
        lp = LinkProfile(**profile)
        lines += [f"#### {lp.describe()}", ""]
        lines.append(
            "| workload | system | up | down | requests | conns | cuts | wall s | "
            "limit (bytes / s) | ours vs goal |"
        )
        lines.append("|---|---|--:|--:|--:|--:|--:|--:|---|---|")
        for row in results["rows"]:
            if row["profile"] != name:
                continue
            verdicts = goal_verdicts(row)
            marks = {True: "✅", False: "❌", None: "➖"}
            verdict = ", ".join(f"{marks[ok]} {text}" for text, ok in verdicts)
            limit = row["limit"]
            for system in ("ours", "peer"):
                m = row.get(system)
                if m is None:
                    continue
                extra = ""
                if "resent_bytes" in m:
                    extra = f" (re-sent {_kb(m['resent_bytes'])})"
                status = "" if m["ok"] else f" ⚠ {m.get('error') or 'failed'}"
                lines.append(
                    f"| {row['title'] if system == 'ours' else ''} | {system}{status} | "
                    f"{_kb(m['bytes_up'])}{extra} | {_kb(m['bytes_down'])} | {m['requests']} | "
                    f"{m['connections']} | {m['cuts']} | {m['wall_s']:.2f} | "
                    + (f"{_kb(limit['bytes'])} / {limit['seconds']:.2f} s | {verdict} |"
                       if system == "ours" else " | |")
                )  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def merge_results(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge result files of runs made separately (e.g. one process per profile)."""
    merged: dict[str, Any] = {
        "date": max(p["date"] for p in parts),
        "machine": parts[0]["machine"],
        "seed": parts[0]["seed"],
        "profiles": {},
        "rows": [],
        "command": " ; ".join(p.get("command", "") for p in parts),
    }
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for part in parts:
        merged["profiles"].update(part["profiles"])
        for row in part["rows"]:
            key = (row["profile"], row["workload"])
            if key in rows:  # a later re-run of one system replaces that system's result
                rows[key].update({k: v for k, v in row.items() if k in ("ours", "peer")})
            else:
                rows[key] = dict(row)
    for row in rows.values():
        if row["workload"] == "day-cut":
            base = [r for r in rows.values() if r["workload"] == "day"]
            _add_resent(row, base)
    order = {w.name: i for i, w in enumerate(WORKLOADS)}
    profiles = list(merged["profiles"])
    merged["rows"] = sorted(
        rows.values(),
        key=lambda r: (profiles.index(r["profile"]), order.get(r["workload"], len(order))),
    )
    return merged


def write_results(results: dict[str, Any], out: Path) -> None:
    """Write the JSON, and the Markdown tables next to it (``.md``); print the tables."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8")
    table = markdown(results)
    out.with_suffix(".md").write_text(table + "\n", "utf-8")
    print(table)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write JSON (and Markdown next to it)."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny workloads (CI's form)")
    parser.add_argument("--profiles", default="3g,2g,3g-cut", help="comma-separated profiles")
    parser.add_argument("--workloads", default="", help="comma-separated names (default all)")
    parser.add_argument("--systems", default="ours,peer")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sync.json")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=3600, help="per measured step, seconds")
    parser.add_argument("--idle", type=float, default=None, help="idle seconds before measuring")
    parser.add_argument(
        "--merge", type=Path, nargs="+", help="only merge result files (runs made in parallel)"
    )
    args = parser.parse_args(argv)
    if args.merge:
        merged = merge_results([json.loads(p.read_text("utf-8")) for p in args.merge])
        write_results(merged, args.out)
        return 0

    catalogue = QUICK_WORKLOADS if args.quick else WORKLOADS
    wanted = [w for w in args.workloads.split(",") if w]
    unknown = set(wanted) - {w.name for w in catalogue}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    workloads = [w for w in catalogue if not wanted or w.name in wanted]
    try:
        profiles = [PROFILES[p] for p in args.profiles.split(",") if p]
    except KeyError as exc:
        parser.error(f"unknown profile {exc}; known: {', '.join(PROFILES)}")
    systems = [s for s in args.systems.split(",") if s]
    if "peer" in systems and (reason := peer_available()):
        print(f"peer skipped: {reason}", file=sys.stderr)
        systems.remove("peer")
    idle = args.idle if args.idle is not None else (0.5 if args.quick else IDLE_S)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="motcua-sync-bench-"))
    try:
        results = run_bench(
            workloads, profiles, systems=systems, workdir=workdir, idle_s=idle,
            timeout_s=args.timeout,
        )  # fmt: skip
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["command"] = "python -m bench.sync_bench " + " ".join(argv or sys.argv[1:])
    write_results(results, args.out)
    failed = [
        f"{r['profile']}/{r['workload']}/{s}"
        for r in results["rows"]
        for s in systems
        if s in r and not r[s]["ok"]
    ]
    if failed:
        print("runs that did not finish: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
