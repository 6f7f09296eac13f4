"""Server restored from an older backup: devices notice, re-push and re-pull; nothing is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from starlette.testclient import TestClient

from server.app import create_app
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, asgi_post
from tests.server.test_sync import BIRTH


def _backup(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as s, sqlite3.connect(dst) as d:
        s.backup(d)


def _restore(backup: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    target.write_bytes(backup.read_bytes())


def test_restore_from_backup_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    url = f"sqlite:///{db}"
    server = SyncServer.open(url, init=True)
    client = TestClient(create_app(server))
    a = FakeDevice(asgi_post(client))
    b = FakeDevice(asgi_post(client))
    a.enrol(server.issue_code("02701"))
    b.enrol(server.issue_code("02701"))
    r1 = a.create(dict(BIRTH))
    a.sync_all()
    b.sync_all()
    _backup(db, tmp_path / "backup.db")

    r2 = a.create({**BIRTH, "data.tre_ten": "Sính", "data.me_so_dinh_danh": "010199005555"})
    a.edit(r1, status="dang_xu_ly")
    r3 = b.create({**BIRTH, "data.tre_ten": "Lử", "data.me_so_dinh_danh": "010199006666"})
    a.sync_all()
    b.sync_all()
    a.sync_all()
    old_epoch = server.epoch()
    client.close()
    server.storage.dispose()

    _restore(tmp_path / "backup.db", db)
    server = SyncServer.open(url, init=True)
    client = TestClient(create_app(server))
    a.post = b.post = asgi_post(client)
    with server.storage.read() as tx:
        assert tx.get_record("dossier", r2) is None  # the restore lost it ...

    for _ in range(3):
        a.sync_all()
        b.sync_all()
    assert server.epoch() != old_epoch
    with server.storage.read() as tx:
        for rid in (r1, r2, r3):
            rec = tx.get_record("dossier", rid)
            assert rec is not None  # ... and the devices brought it back
            assert a.records[rid]["values"] == b.records[rid]["values"] == rec.values
        assert tx.get_record("dossier", r1).values["status"] == "dang_xu_ly"  # type: ignore[union-attr]
        ids = [c["change_id"] for c in a.outbox + b.outbox]
        for change_id in ids:  # every change is held exactly once
            row = tx.change_by_id(change_id)
            assert row is not None and row.status == "applied"
    assert server.stats()["changes"] == len(ids)
    client.close()
    server.storage.dispose()
