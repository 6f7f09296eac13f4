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
        assert upgraded.sync_state().cursor == 0
        assert upgraded.integrity_check() == ["ok"]


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
