"""Outbox: one entry per change, gap-free device_seq, server results, durability."""

from __future__ import annotations

import pytest

from desktop.store import outbox
from desktop.store.errors import DuplicateDossier
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED
from tests.store.factory import birth


def test_device_seq_is_gap_free_even_when_writes_fail(store: Store) -> None:
    store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    with pytest.raises(DuplicateDossier):
        store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)

    def fails_after_appending(conn: object, ctx: object) -> None:
        outbox.append_change(
            conn,
            ctx,
            entity="dossier",
            entity_id="x",
            op="upsert",  # type: ignore[arg-type]
            base_version=0,
            fields={"a": [None, 1]},
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.write(fails_after_appending)
    for i in range(3):
        store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    changes = store.all_changes()
    assert [c.device_seq for c in changes] == [1, 2, 3, 4]
    assert len({c.change_id for c in changes}) == 4
    hlcs = [c.hlc for c in changes]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == 4
    assert all(h.endswith(store.device_id) for h in hlcs)


def test_outbox_matches_the_dossiers(store: Store) -> None:
    ids = [store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED).id for i in range(5)]
    creates = [c for c in store.all_changes() if c.base_version == 0 and c.entity == "dossier"]
    assert sorted(c.entity_id for c in creates) == sorted(ids)
    for c in creates:
        record = store.get_dossier(c.entity_id)
        assert {k: v[1] for k, v in c.fields.items()} == record.record


def test_results_summary_and_durability(store: Store) -> None:
    for i in range(4):
        store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    assert store.outbox_summary() == outbox.OutboxSummary(
        pending=4, rejected=0, conflicts=0, total=4
    )
    results = [
        {"device_seq": 1, "status": "applied", "server_seq": 10},
        {"device_seq": 2, "status": "merged", "server_seq": 11},
        {"device_seq": 3, "status": "conflict", "reason": "edited on another device"},
        {
            "change_id": store.all_changes()[3].change_id,
            "status": "rejected",
            "reason": "commune mismatch",
        },
    ]
    store.write(lambda conn, ctx: outbox.record_results(conn, results))
    summary = store.outbox_summary()
    assert (summary.pending, summary.rejected, summary.conflicts, summary.total) == (0, 1, 1, 4)
    rejected = store.all_changes()[3]
    assert (rejected.state, rejected.server_status, rejected.reason) == (
        "acknowledged",
        "rejected",
        "commune mismatch",
    )
    assert store.pending_changes() == []
    assert store.write(lambda conn, ctx: outbox.mark_durable(conn, "epoch-1", 2)) == 2
    assert [c.state for c in store.all_changes()] == [
        "durable",
        "durable",
        "acknowledged",
        "acknowledged",
    ]
    # The server was restored and lost everything after seq 1: re-push it.
    assert store.write(lambda conn, ctx: outbox.requeue_after(conn, 1)) == 3
    assert [c.device_seq for c in store.pending_changes()] == [2, 3, 4]
    assert [c.device_seq for c in store.pending_changes(limit=2)] == [2, 3]


def test_bad_results_are_refused(store: Store) -> None:
    store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    with pytest.raises(ValueError):
        store.write(
            lambda conn, ctx: outbox.record_results(conn, [{"device_seq": 1, "status": "ok"}])
        )
    with pytest.raises(ValueError):
        store.write(lambda conn, ctx: outbox.record_results(conn, [{"status": "applied"}]))
    assert store.pending_changes()[0].state == "pending"


def test_wire_format(store: Store) -> None:
    store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    wire = store.pending_changes()[0].to_wire()
    assert set(wire) == {
        "change_id",
        "device_id",
        "device_seq",
        "entity",
        "entity_id",
        "op",
        "base_version",
        "fields",
        "hlc",
        "clerk",
        "commune",
    }
    assert wire["commune"] == "02701"
