"""Fixtures for the sync tests: real server processes, fresh databases, enrolled devices.

A server is a real ``python -m server.cli --db URL serve`` process on 127.0.0.1 (a free port),
on SQLite (a file in the test's temp dir) or PostgreSQL (a fresh database per test, dropped
afterwards). Devices are real profiles (``Store.create``) with a :class:`SyncEngine` each,
enrolled with a code issued through the server's CLI, talking HTTP to the server (directly
or through a :class:`bench.faultproxy.FaultProxy`).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from desktop.store.store import Store
from desktop.sync.client import TransportPolicy
from desktop.sync.engine import SyncEngine

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
PASSWORD = "mật-khẩu-thử"
COMMUNE = "02701"
OTHER_COMMUNE = "02704"

_pg_ok: bool | None = None


def pg_available() -> bool:
    """Return True when the test PostgreSQL answers (checked once per run)."""
    global _pg_ok
    if _pg_ok is None:
        try:
            import psycopg

            with psycopg.connect(PG_ADMIN, connect_timeout=3):
                _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


def pg_admin(sql: str) -> None:
    """Run one statement on the admin connection (CREATE/DROP DATABASE need autocommit)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class ServerDb:
    """A fresh server database and how to snapshot and restore it.

    Attributes:
        backend: ``sqlite`` or ``postgresql``.
        url: its SQLAlchemy URL.
        path: the SQLite file (None on PostgreSQL).
        name: the PostgreSQL database name (None on SQLite).
    """

    backend: str
    url: str
    path: Path | None = None
    name: str | None = None
    extra: list[str] = field(default_factory=list)

    def snapshot(self, label: str) -> str:
        """Copy the database aside (the server should be stopped); return a handle."""
        if self.path is not None:
            import sqlite3

            # The backup API reads through the WAL: a plain copy of the main file would miss
            # whatever was not checkpointed yet.
            target = self.path.with_name(f"{self.path.stem}-{label}.db")
            source, dest = sqlite3.connect(self.path), sqlite3.connect(target)
            try:
                source.backup(dest)
            finally:
                source.close()
                dest.close()
            return str(target)
        copy = f"{self.name}_{label}"
        pg_admin(f"CREATE DATABASE {copy} TEMPLATE {self.name}")
        self.extra.append(copy)
        return copy

    def restore(self, handle: str) -> None:
        """Put a snapshot back in place (the server must be stopped)."""
        if self.path is not None:
            import shutil

            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            shutil.copyfile(handle, self.path)
            return
        pg_admin(f"DROP DATABASE {self.name} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {self.name} TEMPLATE {handle}")

    def drop(self) -> None:
        """Remove PostgreSQL databases made for the test."""
        if self.name is not None:
            for name in [self.name, *self.extra]:
                pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_server_db(backend: str, tmp_path: Path) -> ServerDb:
    """Return a fresh, empty server database on ``backend`` (skips when PG is down)."""
    if backend == "sqlite":
        path = tmp_path / "server.db"
        return ServerDb("sqlite", f"sqlite:///{path}", path=path)
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = "motcua_sync_" + secrets.token_hex(5)
    pg_admin(f"CREATE DATABASE {name}")
    return ServerDb("postgresql", PG_URL.format(name=name), name=name)


def server_cli(db: ServerDb, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``motcua-server --db URL ARGS…`` and return the finished process."""
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "--db", db.url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"motcua-server {' '.join(args)} failed: {result.stderr}")
    return result


def motcua_cli(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``motcua --profile PROFILE ARGS…`` in its own process (password: :data:`PASSWORD`)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MOTCUA_PASSWORD": PASSWORD,
        "MOTCUA_SCRYPT_LOG2N": "10",
    }
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--profile", str(profile), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ServerProcess:
    """A real ``motcua-server serve`` process on 127.0.0.1."""

    def __init__(self, db: ServerDb, log_dir: Path) -> None:
        self.db = db
        self.log_dir = log_dir
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.url = ""
        self.starts = 0
        self._api: Any = None

    def start(self) -> str:
        """Start serving (on the same port after a restart); return the base URL."""
        self.starts += 1
        log = open(self.log_dir / f"server-{self.starts}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "--db",
                self.db.url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if "listening on" in line or not line:
                break
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise AssertionError(f"server did not start: {line!r}; see {log.name}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_ready()
        return self.url

    def _wait_ready(self) -> None:
        import requests

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("server does not answer /health")

    def api(self) -> Any:
        """Return a :class:`server.service.SyncServer` on this server's database.

        Admin calls made in-process cost milliseconds where a ``motcua-server`` process costs
        a second or two; the CLI itself is exercised by the tests that are about it.
        """
        if self._api is None:
            from server.service import SyncServer

            self._api = SyncServer.open(self.db.url)
        return self._api

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        if self._api is not None:
            self._api.storage.dispose()
            self._api = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def cli(self, *args: str) -> str:
        """Run a ``motcua-server`` admin command on this server's database; return stdout."""
        return server_cli(self.db, *args).stdout

    def enrol_code_cli(self, commune: str = COMMUNE) -> str:
        """Issue a one-time code through the CLI (the code is its last line)."""
        return self.cli("enrol-code", "--commune", commune).strip().splitlines()[-1]

    def enrol_code(self, commune: str = COMMUNE) -> str:
        """Issue a one-time code (in-process: the CLI is tested by ``enrol_code_cli``)."""
        return str(self.api().issue_code(commune))

    def conflicts(self, all_: bool = False) -> list[dict[str, Any]]:
        """Return the server's conflicts (what ``motcua-server conflicts --json`` prints)."""
        import json

        rows = self.api().conflicts(None if all_ else "open")
        return json.loads(json.dumps(rows, default=str))

    def conflicts_cli(self, all_: bool = False) -> list[dict[str, Any]]:
        """Return the server's conflicts through ``motcua-server conflicts --json``."""
        import json

        args = ["conflicts", "--json"] + (["--all"] if all_ else [])
        return json.loads(self.cli(*args))


@dataclass
class Device:
    """An enrolled commune PC: a profile, its open store and its sync engine."""

    name: str
    store: Store
    engine: SyncEngine
    profile: Path

    def sync(self) -> Any:
        """Sync once and return the report."""
        return self.engine.sync_once()

    def close(self) -> None:
        """Close the engine and the store."""
        self.engine.close()
        self.store.close()


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt for tests (the cost is recorded per key slot)."""
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerDb]:
    """A fresh server database, once on SQLite and once on PostgreSQL."""
    db = make_server_db(request.param, tmp_path)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> ServerDb:
    """A fresh SQLite server database (for tests that need one backend only)."""
    return make_server_db("sqlite", tmp_path)


def _serve(db: ServerDb, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(db, tmp_path)  # ``serve`` initialises the database itself
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(server_db: ServerDb, tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server process on each backend."""
    yield from _serve(server_db, tmp_path)


@pytest.fixture
def sqlite_server(sqlite_db: ServerDb, tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server process on SQLite."""
    yield from _serve(sqlite_db, tmp_path)


#: Fast retries for tests: a real backoff would make fault tests take minutes.
TEST_POLICY = TransportPolicy(
    connect_timeout_s=3, read_base_s=5, backoff_base_s=0.01, backoff_max_s=0.05, max_attempts=4
)


@pytest.fixture
def make_device(tmp_path: Path) -> Iterator[Callable[..., Device]]:
    """Make and enrol devices: ``make_device(server, name, commune=..., url=...)``."""
    made: list[Device] = []

    def make(
        server: ServerProcess,
        name: str,
        *,
        commune: str = COMMUNE,
        url: str | None = None,
        policy: TransportPolicy = TEST_POLICY,
        enrol: bool = True,
        **engine_options: Any,
    ) -> Device:
        profile = tmp_path / f"device-{name}"
        store = Store.create(
            profile, commune=commune, username="lan", password=PASSWORD, full_name="Lò Thị Lan"
        )
        engine = SyncEngine(
            store, policy=policy, sleep=lambda s: time.sleep(min(s, 0.05)), **engine_options
        )
        device = Device(name, store, engine, profile)
        made.append(device)
        if enrol:
            engine.enrol(url or server.url, server.enrol_code(commune), label=f"PC {name}")
        return device

    yield make
    for device in made:
        device.close()


def server_records(db: ServerDb, commune: str = COMMUNE) -> dict[str, dict[str, Any]]:
    """Return the server's current dossiers of a commune (``records`` table), by id."""
    import json

    from sqlalchemy import create_engine, text

    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    'SELECT entity_id, "values", deleted FROM records '
                    "WHERE entity = 'dossier' AND commune = :c"
                ),
                {"c": commune},
            ).all()
    finally:
        engine.dispose()
    return {r[0]: json.loads(r[1]) for r in rows if not r[2]}


def server_changes(db: ServerDb) -> list[tuple[str, int | None, str, str, str]]:
    """Return ``(device_id, device_seq, change_id, status, kind)`` of every logged change."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT device_id, device_seq, change_id, status, kind FROM changes "
                    "ORDER BY server_seq"
                )
            ).all()
    finally:
        engine.dispose()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def server_change_log(db: ServerDb, entity_id: str) -> list[tuple[Any, ...]]:
    """Return the server's log of one record: (server_seq, device, seq, status, version, applied)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT server_seq, substr(device_id, 30), device_seq, status, kind, "
                    "base_version, new_version, applied FROM changes WHERE entity_id = :e "
                    "ORDER BY server_seq"
                ),
                {"e": entity_id},
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


def server_attachments(db: ServerDb) -> dict[str, tuple[int, int, bool]]:
    """Return the server's scans: sha256 → (size, bytes received, complete)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT sha256, size, received, complete FROM attachments")
            ).all()
    finally:
        engine.dispose()
    return {r[0]: (int(r[1]), int(r[2]), bool(r[3])) for r in rows}
