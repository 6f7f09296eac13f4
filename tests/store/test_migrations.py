"""Migrations: recorded, run once, and an old database opens and upgrades."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.store import database, migrations
from desktop.store.store import Store
from tests.forms.samples import BIRTH
from tests.store.conftest import PASSWORD


def test_all_migrations_are_recorded_once(store: Store) -> None:
    names = store.read(lambda c: migrations.applied(c))
    assert names == [name for name, _ in migrations.MIGRATIONS]
    again = store._writer.execute(migrations.migrate, transaction=False)  # noqa: SLF001
    assert again == []


def test_a_release_1_database_is_upgraded(store: Store, profile_dir: Path) -> None:
    """Rebuild store.db as migration 001 only, with a dossier in it, then open it."""
    key = store._key  # noqa: SLF001
    store.close()
    db = profile_dir / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    conn = database.connect(db, key)
    assert migrations.migrate(conn, upto="001_core") == ["001_core"]
    record = {
        "procedure": "khai_sinh",
        "commune": "02701",
        "dossier_no": "02701-OLD-1",
        "status": "tiep_nhan",
        "received_at": "2025-12-01T08:00:00",
        **{f"data.{k}": v for k, v in BIRTH.items()},
    }
    conn.execute(
        "INSERT INTO dossiers (id, procedure, commune, dossier_no, status, received_at, record, "
        "created_at, updated_at) VALUES ('old-1', 'khai_sinh', '02701', '02701-OLD-1', "
        "'tiep_nhan', '2025-12-01T08:00:00', ?, 'x', 'x')",
        (json.dumps(record),),
    )
    conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', 'd')")
    conn.execute("INSERT INTO clerks (username, full_name, created_at) VALUES ('lan', 'L', 'x')")
    conn.close()
    with Store.open(profile_dir, "lan", PASSWORD) as upgraded:
        names = upgraded.read(lambda c: migrations.applied(c))
        assert names == [name for name, _ in migrations.MIGRATIONS]
        # 002 indexed the old dossier; 003's tables work.
        assert [h.id for h in upgraded.search("giang a xa")] == ["old-1"]
        upgraded.save_draft("k", "khai_sinh", {})
        assert upgraded.sync_state().cursor == ""
        assert upgraded.integrity_check() == ["ok"]


def test_a_release_5_sync_state_becomes_one_record(store: Store, profile_dir: Path) -> None:
    """Rebuild store.db up to 005 with the sync state spread over sync_state and meta."""
    key = store._key  # noqa: SLF001
    device_id = store.device_id
    store.close()
    db = profile_dir / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    conn = database.connect(db, key)
    assert migrations.migrate(conn, upto="005_sync_client")[-1] == "005_sync_client"
    conn.execute(
        "UPDATE sync_state SET cursor = 42, server_epoch = 'e7', last_sync_at = 't', "
        "last_error = 'Mất mạng', clock_offset = 2.5 WHERE id = 1"
    )
    old_meta = {
        "device_id": device_id,
        "sync.cursor": "42.0be0aaaaaaaaaaaa",
        "sync.error_code": "offline",
        "sync.revoked": "1",
        "sync.skew_flagged": "1",
        "sync.conflicts_open": "3",
        "sync.session": '{"id": "s"}',
        "sync.server_url": "http://tinh.example:8080",
    }
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(old_meta.items()))
    conn.execute("INSERT INTO clerks (username, full_name, created_at) VALUES ('lan', 'L', 'x')")
    conn.close()
    config = json.loads((profile_dir / "config.json").read_text("utf-8"))
    assert config["server_url"] is None
    with Store.open(profile_dir, "lan", PASSWORD) as upgraded:
        state = upgraded.sync_state()
        assert state.cursor == "42.0be0aaaaaaaaaaaa"  # the text: one cursor
        assert (state.server_epoch, state.last_sync_at, state.clock_offset) == ("e7", "t", 2.5)
        assert (state.error_code, state.last_error) == ("offline", "Mất mạng")
        assert state.revoked and state.skew_flagged and state.conflicts_open == 3
        left = upgraded.read(
            lambda c: {r[0] for r in c.execute("SELECT key FROM meta WHERE key LIKE 'sync.%'")}
        )
        assert left == {"sync.session"}  # secrets stay; the server URL moved to config.json
        assert upgraded.sync.identity().session == '{"id": "s"}'
        assert upgraded.config.server_url == "http://tinh.example:8080"
    config = json.loads((profile_dir / "config.json").read_text("utf-8"))
    assert config["server_url"] == "http://tinh.example:8080"


def test_a_failing_migration_leaves_nothing(tmp_path: Path) -> None:
    import pytest

    conn = database.connect(tmp_path / "x.db", b"k" * 32)

    def broken(c: object) -> None:
        c.execute("CREATE TABLE half (a)")  # type: ignore[attr-defined]
        raise RuntimeError("boom")

    saved = list(migrations.MIGRATIONS)
    migrations.MIGRATIONS[:] = [("001_core", migrations._m001_core), ("999_broken", broken)]  # noqa: SLF001
    try:
        with pytest.raises(RuntimeError):
            migrations.migrate(conn)
    finally:
        migrations.MIGRATIONS[:] = saved
    assert migrations.applied(conn) == ["001_core"]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables and "dossiers" in tables
    conn.close()
