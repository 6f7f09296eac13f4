"""Load test: every commune of Vietnam syncs a day's work against one server pool on PostgreSQL.

What it does (all on loopback, all in scratch databases named ``motcua_load_*``, dropped after):

1. **Ceiling.** ``pgbench -i`` into a scratch database, then two insert-only custom scripts
   with ``-c/-j`` for ``--pgbench-seconds``: one row into ``pgbench_history`` per transaction
   (PostgreSQL's plain insert ceiling), and one transaction inserting 15 rows of 1.4 KB (the
   commit pattern of one commune's day pushed in one sync). Their tps are the limit.
2. **Pool.** A fresh server database, ``motcua-server init``, and ``--servers`` separate
   ``motcua-server serve`` processes (one port each; the driver spreads communes over them as a
   load balancer would).
3. **Devices.** ``--clients`` driver processes (not the server's) each make their share of the
   3,321 communes: one device per commune with its own keys, and its day's work — ``--dossiers``
   birth dossiers of ≈ 2 KB of JSON, varied names and ID numbers — as one sealed, signed
   ``/sync`` request (HPKE to the server key, exactly what a real device sends). The parent
   enrols all devices in bulk (one database transaction), then says go.
4. **Run.** Each driver sends its requests from ``--threads`` threads, one keep-alive
   connection each, as fast as the server answers (closed loop); every request's latency is
   recorded. Afterwards every response is verified (server signature, sealed to the request's
   key) and every change must come back ``applied``; anything else is an error.

The report gives syncs/s and dossiers/s, p50/p95/p99/max latency, errors, wall time (goal:
all communes within 10 minutes), and the ratio to the pgbench ceiling (goal: ≥ 50 % of it with
p99 < 1 s and zero errors).

Run::

    .venv/bin/python -m bench.load --json /tmp/load.json          # the full run, ~3-5 min
    .venv/bin/python -m bench.load --communes 60 --pgbench-seconds 3  # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench import report

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
COMMUNES_OF_VIETNAM = 3321

__all__ = ["main", "pgbench_ceiling", "run"]


# -- scratch databases ---------------------------------------------------------------------------


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)


def _scratch_db(kind: str) -> str:
    name = f"motcua_load_{kind}_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {name}")
    return name


def _drop(name: str) -> None:
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- 1. the pgbench ceiling ----------------------------------------------------------------------

#: One row per transaction into pgbench's own insert-only table.
SCRIPT_ONE_ROW = """\\set aid random(1, 100000 * :scale)
\\set bid random(1, :scale)
\\set tid random(1, 10 * :scale)
\\set delta random(-5000, 5000)
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
"""

#: One transaction of 15 rows of 1.4 KB text: a commune's day pushed in one sync.
SCRIPT_DAY = """INSERT INTO load_day (body) SELECT repeat(md5(random()::text), 44) FROM generate_series(1, 15);
"""


def _pgbench(db: str, script: str, clients: int, jobs: int, seconds: int, work: Path) -> float:
    path = work / f"script-{secrets.token_hex(3)}.sql"
    path.write_text(script, encoding="utf-8")
    out = subprocess.run(
        ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-f", str(path), "-c", str(clients),
         "-j", str(jobs), "-T", str(seconds), db],
        capture_output=True, text=True, timeout=seconds + 120, check=True,
    ).stdout  # fmt: skip
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if not match:
        raise RuntimeError(f"pgbench printed no tps: {out[-500:]}")
    return float(match.group(1))


def pgbench_ceiling(seconds: int = 20, clients: int = 8, jobs: int = 2) -> dict[str, Any]:
    """Measure PostgreSQL's insert ceiling on this machine with pgbench; return tps figures."""
    db = _scratch_db("pgbench")
    try:
        subprocess.run(
            ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-s", "10", "-q", db],
            capture_output=True, text=True, timeout=600, check=True,
        )  # fmt: skip
        import psycopg

        with psycopg.connect(PG_DSN.replace("dbname=postgres", f"dbname={db}")) as conn:
            conn.execute("CREATE TABLE load_day (id bigserial PRIMARY KEY, body text NOT NULL)")
        with tempfile.TemporaryDirectory() as tmp:
            one = _pgbench(db, SCRIPT_ONE_ROW, clients, jobs, seconds, Path(tmp))
            day = _pgbench(db, SCRIPT_DAY, clients, jobs, seconds, Path(tmp))
    finally:
        _drop(db)
    return {
        "clients": clients,
        "jobs": jobs,
        "seconds": seconds,
        "one_row_tps": round(one, 1),
        "day_tps": round(day, 1),
        "day_rows_per_s": round(day * 15, 1),
    }


# -- 3. devices and their requests (in the driver processes) ------------------------------------


def _communes(count: int) -> list[str]:
    """Return ``count`` distinct 5-digit commune codes (Lào Cai's 02xxx first, like the real list)."""
    return [f"{2000 + i:05d}" if i < 8000 else f"{10000 + i:05d}" for i in range(count)]


def _template() -> dict[str, Any]:
    """Return a real create change, made by a real store from valid birth data."""
    os.environ.setdefault("MOTCUA_SCRYPT_LOG2N", "10")
    from desktop.store.store import Store
    from tests.forms.samples import RECEIVED
    from tests.store.factory import birth

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.create(
            Path(tmp) / "p", commune="02701", username="lan", password="x", full_name="Lò Lan"
        )
        try:
            store.register_dossier("khai_sinh", birth(1, seed=5), received_at=RECEIVED)
            return store.all_changes()[0].to_wire()
        finally:
            store.close()


def _uuid7(rng: random.Random) -> str:
    ms = int(time.time() * 1000)
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62)
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def _day_changes(
    template: dict[str, Any], device_id: str, commune: str, n: int, index: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Return ``n`` create changes of one commune's day (distinct people, valid data)."""
    from tests.store.factory import FAMILY, GIVEN, MIDDLE

    changes = []
    for k in range(n):
        person = index * n + k
        fields = {key: list(value) for key, value in template["fields"].items()}
        fields["commune"] = [None, commune]
        fields["dossier_no"] = [None, f"{commune}-20260310-{device_id[-4:].upper()}-{k + 1}"]
        fields["data.tre_ho"] = [None, rng.choice(FAMILY)]
        fields["data.tre_chu_dem"] = [None, rng.choice(MIDDLE)]
        fields["data.tre_ten"] = [None, rng.choice(GIVEN)]
        fields["data.me_ho_ten"] = [None, f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN)}"]
        fields["data.me_so_dinh_danh"] = [None, f"015301{person:06d}"]
        changes.append(
            {
                **template,
                "change_id": _uuid7(rng),
                "device_id": device_id,
                "device_seq": k + 1,
                "entity_id": _uuid7(rng),
                "fields": fields,
                "hlc": f"{int(time.time() * 1000)}-{k:04d}-{device_id}",
                "commune": commune,
            }
        )
    return changes


def _prepare(
    part: int, parts: int, communes: int, dossiers: int, server_keys: dict[str, str]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Make this driver's devices and their sealed requests; return (device rows, requests)."""
    from protocol import sealing, wire
    from protocol.keys import PrivateKeys, PublicKeys

    server = PublicKeys.from_json(server_keys)
    template = _template()
    rng = random.Random(1000 + part)
    rows, requests = [], []
    for index, commune in enumerate(_communes(communes)):
        if index % parts != part:
            continue
        keys = PrivateKeys.generate()
        device_id = _uuid7(rng)
        changes = _day_changes(template, device_id, commune, dossiers, index, rng)
        message = {"cursor": "", "changes": changes, "limit": 200, "want_blocks": [],
                   "epoch": None, "session": False}  # fmt: skip
        sealed = sealing.seal_request(
            wire.canonical_json(message),
            device_id=device_id,
            device_keys=keys,
            server_keys=server,
            seq_range=(1, len(changes)),
        )
        public = keys.public()
        rows.append(
            {
                "device_id": device_id,
                "commune": commune,
                "keys": public.to_json(),
                "key_id": public.key_id,
            }  # fmt: skip
        )
        requests.append(sealed)
    return rows, requests


def _drive(requests: list[Any], urls: list[str], threads: int) -> list[dict[str, Any]]:
    """Send every request once (``threads`` at a time); return one result per request."""
    import http.client
    from urllib.parse import urlsplit

    results: list[dict[str, Any]] = [{} for _ in requests]
    next_index = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        target = urlsplit(urls[n % len(urls)])
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(requests):
                break
            body = requests[i].data
            started = time.monotonic()
            try:
                conn.request("POST", "/sync", body, {"Content-Type": "application/octet-stream"})
                reply = conn.getresponse()
                data = reply.read()
                results[i] = {
                    "status": reply.status,
                    "latency": time.monotonic() - started,
                    "end": time.time(),
                    "body": data,
                    "bytes_up": len(body),
                    "bytes_down": len(data),
                }
            except Exception as exc:  # a refused or dropped connection is an error, not a crash
                results[i] = {"status": 0, "latency": time.monotonic() - started,
                              "end": time.time(), "error": repr(exc)}  # fmt: skip
                conn.close()
                conn = http.client.HTTPConnection(
                    target.hostname or "127.0.0.1", target.port, timeout=60
                )
        conn.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def _verify(
    requests: list[Any], results: list[dict[str, Any]], server_keys: dict[str, str]
) -> None:
    """Open each answer like a device would; mark anything but all-``applied`` as an error."""
    from protocol import sealing, wire
    from protocol.keys import PublicKeys

    server = PublicKeys.from_json(server_keys)
    for sealed, result in zip(requests, results, strict=True):
        body = result.pop("body", None)
        if result.get("status") != 200 or body is None:
            result.setdefault("error", f"HTTP {result.get('status')}: {(body or b'')[:200]!r}")
            continue
        try:
            _header, payload = sealing.open_response(body, request=sealed, server_keys=server)
            answer = wire.loads(payload)
            statuses = [r.get("status") for r in answer.get("results", [])]
        except Exception as exc:
            result["error"] = f"unreadable answer: {exc!r}"
            continue
        if len(statuses) != len(_changes_of(sealed)) or set(statuses) != {wire.STATUS_APPLIED}:
            result["error"] = f"results {statuses[:5]}…"


def _changes_of(sealed: Any) -> range:
    low, high = sealed.header.seq_range
    return range(low, high + 1)


def _client_main(args: argparse.Namespace) -> int:
    """A driver process: prepare, wait for go, drive, wait, verify, write results."""
    server_keys = json.loads(args.server_keys)
    rows, requests = _prepare(args.part, args.parts, args.communes, args.dossiers, server_keys)
    out = Path(args.out)
    out.with_suffix(".devices.json").write_text(json.dumps(rows), encoding="utf-8")
    print("prepared", flush=True)
    sys.stdin.readline()  # go
    urls = (out.parent / "urls").read_text(encoding="utf-8").split(",")
    results = _drive(requests, urls, args.threads)
    print("ran", flush=True)
    sys.stdin.readline()  # verify (after every driver has finished, not to steal the CPU)
    _verify(requests, results, server_keys)
    out.write_bytes(pickle.dumps(results))
    print("done", flush=True)
    return 0


# -- 2 and 4. the pool and the run ---------------------------------------------------------------


def start_server(url: str, log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``motcua-server --db URL serve`` on a free port (stderr to ``log``) once it answers
    ``/health``; return the process and its base URL (the load and console benches use it)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--db", url, "serve", "--host", "127.0.0.1",
         "--port", "0", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True,  # noqa: SIM115
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r} (see {log})")
    url = f"http://127.0.0.1:{match.group(1)}"
    # The line is printed once the socket is bound, before uvicorn listens: wait for /health.
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as reply:
                if reply.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server does not answer /health (see {log})")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(
    *,
    communes: int = COMMUNES_OF_VIETNAM,
    dossiers: int = 15,
    servers: int = 2,
    clients: int = 2,
    threads: int = 2,
    pgbench_seconds: int = 20,
    keep_db: bool = False,
) -> dict[str, Any]:
    """Run the whole load test; return the figures."""
    ceiling = pgbench_ceiling(pgbench_seconds) if pgbench_seconds > 0 else None
    name = _scratch_db("server")
    url = PG_URL.format(name=name)
    procs: list[subprocess.Popen[str]] = []
    drivers: list[subprocess.Popen[str]] = []
    work = Path(tempfile.mkdtemp(prefix="motcua-load-"))
    try:
        from server.service import SyncServer

        api = SyncServer.open(url, init=True)
        api.init()
        server_keys = api.public_keys().to_json()
        prepare_started = time.monotonic()
        for part in range(clients):
            drivers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.load",
                        "--client",
                        "--part",
                        str(part),
                        "--parts",
                        str(clients),
                        "--communes",
                        str(communes),
                        "--dossiers",
                        str(dossiers),
                        "--threads",
                        str(threads),
                        "--server-keys",
                        json.dumps(server_keys),
                        "--out",
                        str(work / f"client-{part}.pickle"),
                    ],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )  # fmt: skip
            )
        # The urls are only known once the servers listen; drivers read them from a file at go.
        for driver in drivers:
            assert driver.stdout is not None
            if driver.stdout.readline().strip() != "prepared":
                raise RuntimeError("a driver failed to prepare")
        prepare_s = time.monotonic() - prepare_started
        rows = []
        for part in range(clients):
            rows += json.loads((work / f"client-{part}.devices.json").read_text(encoding="utf-8"))
        now = int(time.time() * 1000)
        with api.storage.write() as tx:  # bulk enrolment: one transaction
            for row in rows:
                tx.insert_device(
                    row["device_id"], row["commune"], f"PC {row['commune']}", row["keys"],
                    row["key_id"], now,
                )  # fmt: skip
        api.storage.dispose()
        urls = []
        for n in range(servers):
            proc, server_url = start_server(url, work / f"server-{n}.log")
            procs.append(proc)
            urls.append(server_url)
        (work / "urls").write_text(",".join(urls), encoding="utf-8")
        started = time.monotonic()
        for driver in drivers:
            assert driver.stdin is not None
            driver.stdin.write("go\n")
            driver.stdin.flush()
        for driver in drivers:
            assert driver.stdout is not None
            if driver.stdout.readline().strip() != "ran":
                raise RuntimeError("a driver failed while running")
        wall = time.monotonic() - started
        for driver in drivers:
            assert driver.stdin is not None
            driver.stdin.write("verify\n")
            driver.stdin.flush()
        for driver in drivers:
            driver.wait(600)
        results: list[dict[str, Any]] = []
        for part in range(clients):
            results += pickle.loads((work / f"client-{part}.pickle").read_bytes())
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM records")).scalar_one()
            logged = conn.execute(text("SELECT count(*) FROM changes")).scalar_one()
        engine.dispose()
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for driver in drivers:
            if driver.poll() is None:
                driver.kill()
        if not keep_db:
            _drop(name)
    latencies = [r["latency"] for r in results]
    errors = [r for r in results if r.get("error")]
    syncs_per_s = len(results) / wall
    figures: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{os.cpu_count()} cpu, load average {os.getloadavg()[0]:.1f} at the end",
        "communes": communes,
        "dossiers_per_commune": dossiers,
        "servers": servers,
        "driver_processes": clients,
        "threads_per_driver": threads,
        "prepare_s": round(prepare_s, 1),
        "wall_s": round(wall, 2),
        "syncs_per_s": round(syncs_per_s, 1),
        "dossiers_per_s": round(syncs_per_s * dossiers, 1),
        "latency_ms": {
            q: round(_percentile(latencies, p) * 1000, 1)
            for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "bytes_up_per_sync": round(sum(r.get("bytes_up", 0) for r in results) / len(results)),
        "bytes_down_per_sync": round(sum(r.get("bytes_down", 0) for r in results) / len(results)),
        "errors": len(errors),
        "first_errors": [r["error"] for r in errors[:3]],
        "records_stored": stored,
        "changes_logged": logged,
        "ceiling": ceiling,
    }
    if ceiling:
        figures["share_of_day_ceiling"] = round(syncs_per_s / ceiling["day_tps"], 3)
        figures["share_of_one_row_ceiling"] = round(
            syncs_per_s * dossiers / ceiling["one_row_tps"], 3
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communes", type=int, default=COMMUNES_OF_VIETNAM)
    parser.add_argument("--dossiers", type=int, default=15, help="per commune (default 15)")
    parser.add_argument("--servers", type=int, default=2, help="serve processes (default 2)")
    parser.add_argument("--clients", type=int, default=2, help="driver processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="per driver (default 2)")
    parser.add_argument("--pgbench-seconds", type=int, default=20, help="0: skip pgbench")
    parser.add_argument("--keep-db", action="store_true", help="keep the server database")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    # The driver processes' own arguments.
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--server-keys", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        return _client_main(args)
    figures = run(
        communes=args.communes,
        dossiers=args.dossiers,
        servers=args.servers,
        clients=args.clients,
        threads=args.threads,
        pgbench_seconds=args.pgbench_seconds,
        keep_db=args.keep_db,
    )
    report.print_summary(figures, args.json)
    return 0 if not figures["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
