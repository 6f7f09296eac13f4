"""A database of the first release upgrades: the console's migrations add their tables and
columns and fill them from what the database already holds (both backends)."""

from __future__ import annotations

import json

from sqlalchemy import Column, Index, MetaData, Table, UniqueConstraint, insert, inspect, select

from server import schema
from server.dossier_facts import local_date
from server.migrations import MIGRATIONS
from server.rows import dumps
from server.service import SyncServer
from server.storage import Storage

#: What came after the first release, by table: none of it exists in its databases.
LATER_COLUMNS = {
    "devices": {"pending_reported", "app_version", "last_error", "acked_seq"},
    "conflicts": {"resolved_by"},
    "records": {
        "procedure",
        "status",
        "received_on",
        "received_week",
        "received_month",
        "due_on",
        "late",
        "finished_on",
    },
}
LATER_INDEXES = {
    "ix_changes_status_device",
    "ix_records_received_on",
    "ix_conflicts_status_created",
    "ix_conflicts_other_commune",
    "ix_conflicts_server_seq",
}
FIRST_RELEASE_TABLES = (
    "server_meta",
    "seq_counter",
    "devices",
    "enrol_codes",
    "changes",
    "records",
    "record_versions",
    "conflicts",
    "book_blocks",
    "attachments",
    "attachment_chunks",
    "seen_batches",
    "sessions",
)


def first_release_metadata() -> MetaData:
    """Return the tables as the first release created them."""
    old = MetaData()
    for name in FIRST_RELEASE_TABLES:
        table = schema.metadata.tables[name]
        later = LATER_COLUMNS.get(name, set())
        columns = [
            Column(
                c.name,
                c.type,
                primary_key=c.primary_key,
                nullable=c.nullable,
                index=bool(c.index),
                autoincrement=c.autoincrement,
            )
            for c in table.columns
            if c.name not in later
        ]
        uniques = [
            UniqueConstraint(*(col.name for col in u.columns), name=u.name)
            for u in table.constraints
            if isinstance(u, UniqueConstraint)
        ]
        copy = Table(name, old, *columns, *uniques)
        for index in table.indexes:
            if index.name not in LATER_INDEXES and not any(c.index for c in index.columns):
                Index(index.name, *(copy.c[c.name] for c in index.columns))
    return old


HLC_FINISHED = 1772589600000  # 2026-03-04 09:00 in Vietnam


def test_a_first_release_database_upgrades_and_is_filled(db_url: str) -> None:
    storage = Storage(db_url)
    old = first_release_metadata()
    t = old.tables
    values = {
        "procedure": "khai_sinh",
        "status": "hoan_thanh",
        "received_at": "2026-03-03T08:00:00",
        "due_at": "2026-03-05",
        "late": True,
    }
    with storage.engine.begin() as conn:
        old.create_all(conn)
        schema.metadata.create_all(conn, tables=[schema.schema_migrations])
        conn.execute(insert(schema.schema_migrations).values(name="0001_initial", applied_at=1))
        conn.execute(insert(t["seq_counter"]).values(id=1, value=2, chain="0" * 64))
        conn.execute(
            insert(t["records"]).values(
                entity="dossier",
                entity_id="r1",
                commune="02701",
                version=2,
                values=dumps(values),
                field_seq="{}",
                deleted=False,
                updated_seq=2,
            )
        )
        for version, changed, hlc in (
            (1, {**values, "status": "tiep_nhan"}, "1772500000000-0000-d1"),
            (2, {"status": "hoan_thanh"}, f"{HLC_FINISHED}-0000-d1"),
        ):
            conn.execute(
                insert(t["record_versions"]).values(
                    entity="dossier",
                    entity_id="r1",
                    version=version,
                    server_seq=version,
                    change_id=f"c{version}",
                    device_id="d1",
                    values=dumps({**values, **changed}),
                    changed=dumps(changed),
                    deleted=False,
                )
            )
            conn.execute(
                insert(t["changes"]).values(
                    server_seq=version,
                    chain="0" * 64,
                    change_id=f"c{version}",
                    device_id="d1",
                    device_seq=version,
                    entity="dossier",
                    entity_id="r1",
                    commune="02701",
                    op="upsert",
                    base_version=version - 1,
                    new_version=version,
                    fields="{}",
                    applied="{}",
                    hlc=hlc,
                    clerk="lan",
                    status="applied",
                    conflict_ids="[]",
                    kind="change",
                    received_at=1,
                )
            )
        conn.execute(
            insert(t["conflicts"]).values(
                kind="field",
                entity="dossier",
                entity_id="r1",
                commune="02701",
                change_id="c9",
                server_seq=2,
                base_version=1,
                current_version=2,
                fields="[]",
                base="{}",
                current="{}",
                incoming="{}",
                device_id="d2",
                clerk="lan",
                hlc="h",
                status="resolved",
                created_at=1,
                resolved_at=2,
            )
        )
    applied = storage.migrate()
    assert applied == [name for name, _ in MIGRATIONS][1:]
    with storage.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("records")}
        assert LATER_COLUMNS["records"] <= columns
        indexes = {i["name"] for i in inspect(conn).get_indexes("conflicts")}
        assert {"ix_conflicts_status_created", "ix_conflicts_other_commune"} <= indexes
        r = schema.records
        row = conn.execute(select(r).where(r.c.entity_id == "r1")).mappings().one()
        assert (row["procedure"], row["status"], row["received_on"]) == (
            "khai_sinh",
            "hoan_thanh",
            "2026-03-03",
        )
        assert (row["received_week"], row["received_month"], row["due_on"]) == (
            "2026-03-02",
            "2026-03-01",
            "2026-03-05",
        )
        assert row["late"] is True or row["late"] == 1
        assert row["finished_on"] == local_date(HLC_FINISHED) == "2026-03-04"
        assert json.loads(row["values"]) == values
        by = conn.execute(select(schema.conflicts.c.resolved_by)).scalar()
        assert by == "provincial-it"
    assert storage.migrate() == []
    storage.dispose()
    # The upgraded database serves: keys and epoch are made, the cube counts the old dossier.
    server = SyncServer.open(db_url, init=True)
    server.clock = lambda: HLC_FINISHED
    [row_] = server.dossier_stats("month")
    assert (row_["processing"], row_["late_registration"], row_["count"]) == ("on_time", True, 1)
    server.storage.dispose()
