"""Real processes: two ``motcua-server serve`` on one PostgreSQL, real HTTP, concurrent devices."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.service import SyncServer
from tests.server.fake_device import FakeDevice, http_post
from tests.server.test_sync import BIRTH

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


class ServeProcess:
    """``python -m server.cli --db URL serve --port 0`` with its URL read from stdout."""

    def __init__(self, db_url: str, log_path: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "--db",
                db_url,
                "serve",
                "--port",
                "0",
                "--log-level",
                "info",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        # Everything goes to a file, never a pipe nobody reads (a full pipe blocks the server).
        deadline = time.monotonic() + 30
        while "listening on" not in self.log_text():
            assert self.proc.poll() is None, self.log_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        line = next(x for x in self.log_text().splitlines() if "listening on" in x)
        self.url = line.split("listening on ")[1].split()[0]

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def log_text(self) -> str:
        """Return what the process logged (stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def two_servers(
    pg_url: str, tmp_path: Path
) -> Iterator[tuple[SyncServer, ServeProcess, ServeProcess]]:
    admin = SyncServer.open(pg_url, init=True)
    one = ServeProcess(pg_url, tmp_path / "one.log")
    two = ServeProcess(pg_url, tmp_path / "two.log")
    try:
        yield admin, one, two
    finally:
        one.stop()
        two.stop()
        admin.storage.dispose()


def _check_log(admin: SyncServer) -> int:
    """Assert the change log is numbered 1..N without gaps; return N."""
    from sqlalchemy import select

    from server import schema

    with admin.storage.read() as tx:
        seqs = tx.conn.execute(
            select(schema.changes.c.server_seq).order_by(schema.changes.c.server_seq)
        ).scalars()
        seqs = list(seqs)
        head = tx.head()[0]
    assert seqs == list(range(1, len(seqs) + 1))
    assert head == len(seqs)
    return len(seqs)


def test_two_serve_processes_share_one_database(
    two_servers: tuple[SyncServer, ServeProcess, ServeProcess],
) -> None:
    admin, one, two = two_servers
    a = FakeDevice(http_post(one.url))
    b = FakeDevice(http_post(two.url))
    a.enrol(admin.issue_code("02701"))
    b.enrol(admin.issue_code("02701"))  # enrolled through the other process
    name, id_number = "Sùng Thị Phương Hoa", "010199088888"
    r1 = a.create({**BIRTH, "data.me_ten": name, "data.me_so_dinh_danh": id_number})
    a.sync()
    b.sync()
    assert b.records[r1]["values"]["data.tre_ten"] == "Páo"
    b.post = http_post(one.url)  # a device may switch processes between syncs
    a.post = http_post(two.url)
    b.edit(r1, status="dang_xu_ly")
    b.sync()
    a.sync()
    assert a.records[r1]["values"]["status"] == "dang_xu_ly"
    assert _check_log(admin) == 2
    one.stop()
    two.stop()
    logs = one.log_text() + two.log_text()
    assert "POST /sync" in logs and "sync device=" in logs  # the logs did record the syncs
    for secret in (name, id_number, "Páo", "Giàng", BIRTH["data.me_so_dinh_danh"]):
        assert secret not in logs


def test_concurrent_devices_get_gap_free_sequence(
    two_servers: tuple[SyncServer, ServeProcess, ServeProcess],
) -> None:
    admin, one, two = two_servers
    devices = []
    for i in range(6):
        dev = FakeDevice(http_post((one if i % 2 else two).url))
        dev.enrol(admin.issue_code("02701"))
        devices.append(dev)
    errors: list[BaseException] = []

    def work(dev: FakeDevice) -> None:
        try:
            for round_ in range(8):
                for k in range(3):
                    dev.create({**BIRTH, "data.tre_ten": f"T{round_}-{k}"})
                resp = dev.sync()
                assert all(r["status"] == "applied" for r in resp["results"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert _check_log(admin) == 6 * 8 * 3
    for dev in devices:
        dev.sync_all()
    expected = {rid for d in devices for rid in d.records}
    for dev in devices:
        assert set(dev.records) == expected  # every device has every record once
