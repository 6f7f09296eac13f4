"""Applying one server answer to the store (``Store.sync.apply_page``), in one transaction:
results and durability, the epoch re-push, stale pages, refused edits giving way to the server's
value, resolutions, and the pulled changes themselves (cursor in the same transaction, pending
local fields kept, own changes, attachments, the sync state record)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from desktop.store.errors import StoreError
from desktop.store.ids import uuid7
from desktop.store.store import Store
from desktop.store.sync_page import PageOutcome, SyncPage
from desktop.store.sync_state import update_state
from tests.forms.samples import BIRTH, RECEIVED
from tests.store.factory import birth

COMMUNE = "02701"


def _apply(store: Store, **page: Any) -> PageOutcome:
    page.setdefault("synced_at", "2026-11-26T10:00:00+07:00")
    page.setdefault("epoch", "e1")
    return store.sync.apply_page(SyncPage(**page))


def _result(change: Any, status: str, server_seq: int, **extra: Any) -> dict[str, Any]:
    return {
        "device_seq": change.device_seq,
        "change_id": change.change_id,
        "status": status,
        "server_seq": server_seq,
        **extra,
    }


def _pulled(entity_id: str, seq: int, version: int, fields: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "server_seq": seq,
        "change_id": f"remote-{seq}",
        "device_id": "another-device",
        "device_seq": seq,
        "entity": "dossier",
        "entity_id": entity_id,
        "op": "upsert",
        "version": version,
        "fields": fields,
        "hlc": f"{int(time.time() * 1000):013d}-0000-another-device",
        "clerk": "hoa",
        "commune": COMMUNE,
        "kind": "change",
        "status": "applied",
    }


def test_results_are_recorded_and_deferred_ones_stay_pending(store: Store) -> None:
    one = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    two = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    first, second = store.pending_changes()
    out = _apply(
        store,
        results=[
            _result(first, "applied", 10, conflict_ids=[7]),
            {"device_seq": second.device_seq, "change_id": second.change_id, "status": "deferred"},
        ],
        cursor="10.aaaaaaaaaaaaaaaa",
        max_device_seq=first.device_seq,
    )
    assert out.statuses["applied"] == 1 and out.deferred == 1
    assert out.new_conflicts == ["7"]
    assert [c.entity_id for c in store.pending_changes()] == [two.id]
    assert store.sync_state().server_epoch == "e1"
    assert [c.state for c in store.all_changes(one.id)] == ["durable"]
    # The same answer again (a replay after a lost response) reports no new conflict.
    again = _apply(
        store,
        results=[_result(first, "applied", 10, conflict_ids=[7])],
        cursor="10.aaaaaaaaaaaaaaaa",
        max_device_seq=first.device_seq,
    )
    assert again.new_conflicts == []


def test_a_server_that_lost_changes_gets_them_again(store: Store) -> None:
    for i in range(3):
        store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
    changes = store.pending_changes()
    _apply(
        store,
        results=[_result(c, "applied", 10 + i) for i, c in enumerate(changes)],
        cursor="12.aaaaaaaaaaaaaaaa",
        max_device_seq=3,
    )
    assert store.outbox_summary().pending == 0
    # Restored from a backup that held only the first change, under a new epoch.
    out = _apply(store, cursor="", reset=True, epoch="e2", max_device_seq=1)
    assert out.requeued == 2 and out.epoch_changed
    assert [c.device_seq for c in store.pending_changes()] == [2, 3]
    assert store.sync_state().cursor == ""


def test_a_stale_pulled_change_never_overwrites_a_newer_value(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    store.update_dossier(record.id, {"so_ban_sao": "4"})
    create, edit = store.pending_changes()
    # The server applied both edits (seq 20, 30); a page arrives later with another device's
    # older edit of the same field (seq 25).
    _apply(
        store,
        results=[_result(create, "applied", 20), _result(edit, "applied", 30)],
        cursor="30.aaaaaaaaaaaaaaaa",
        max_device_seq=2,
    )
    _apply(
        store,
        changes=[_pulled(record.id, 25, 2, {"data.so_ban_sao": ["2", "3"]})],
        cursor="31.bbbbbbbbbbbbbbbb",
        max_device_seq=2,
    )
    assert store.get_dossier(record.id).record["data.so_ban_sao"] == "4"
    # A newer one wins.
    _apply(
        store,
        changes=[_pulled(record.id, 40, 4, {"data.so_ban_sao": ["4", "1"]})],
        cursor="40.cccccccccccccccc",
        max_device_seq=2,
    )
    assert store.get_dossier(record.id).record["data.so_ban_sao"] == "1"
    assert store.get_dossier(record.id).server_version == 4


def test_a_refused_edit_gives_way_to_the_servers_value_and_stays_visible(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(
        store, results=[_result(create, "applied", 5)], cursor="5.a" + "a" * 15, max_device_seq=1
    )
    store.update_dossier(record.id, {"tre_noi_sinh": "Tại nhà"})
    (edit,) = store.pending_changes()
    # Meanwhile another PC changed the place of birth; both arrive in one answer.
    out = _apply(
        store,
        changes=[
            _pulled(
                record.id,
                8,
                2,
                {"data.tre_noi_sinh": ["Trạm y tế xã Khao Mang", "Bệnh viện huyện"]},
            )
        ],
        results=[_result(edit, "conflict", 9, conflict_ids=[3])],
        cursor="9.b" + "b" * 15,
        max_device_seq=2,
    )
    # The pulled value waited while the edit was pending, then replaced it.
    assert out.statuses["conflict"] == 1 and out.restored_fields == 1
    assert store.get_dossier(record.id).record["data.tre_noi_sinh"] == "Bệnh viện huyện"
    assert store.outbox_summary().conflicts == 1
    # Edit again, refused again without any pull: the value goes back to the server's.
    store.update_dossier(record.id, {"tre_noi_sinh": "Tại nhà"})
    (again,) = store.pending_changes()
    out = _apply(
        store, results=[_result(again, "rejected", 10)], cursor="10.c" + "c" * 15, max_device_seq=3
    )
    assert out.restored_fields == 1
    assert store.get_dossier(record.id).record["data.tre_noi_sinh"] == "Bệnh viện huyện"
    assert store.outbox_summary().rejected == 1


def test_resolution_closes_the_local_conflict(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(
        store,
        results=[_result(create, "conflict", 5, conflict_ids=[11])],
        cursor="5.a" + "a" * 15,
        max_device_seq=1,
    )
    assert store.sync.open_conflicts() == 1
    resolution = _pulled(record.id, 6, 1, {"data.so_ban_sao": ["2", "3"]})
    resolution.update(kind="resolution", device_id="server", parents=[1, create.change_id])
    out = _apply(store, changes=[resolution], cursor="6.b" + "b" * 15, max_device_seq=1)
    assert out.resolved == 1
    assert store.sync.open_conflicts() == 0


def test_a_pulled_resolution_tells_the_audit_trail_who_decided_and_why(store: Store) -> None:
    record = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(store, results=[_result(create, "conflict", 5, conflict_ids=[11])], max_device_seq=1)
    resolution = _pulled(record.id, 6, 2, {"data.tre_noi_sinh": ["Bệnh viện", "Tại nhà"]})
    resolution.update(
        kind="resolution",
        device_id="server",
        parents=[1, create.change_id],
        clerk="Nguyễn Văn An",
        reason="giấy chứng sinh ghi sinh tại nhà",
    )
    _apply(store, changes=[resolution], cursor="6.b" + "b" * 15, max_device_seq=1)
    (entry,) = [e for e in store.audit_trail(record.id) if e.action == "sync.resolution"]
    assert entry.clerk == "Nguyễn Văn An"
    assert "data.tre_noi_sinh" in entry.summary
    assert "reason: giấy chứng sinh ghi sinh tại nhà" in entry.summary
    assert store.get_dossier(record.id).record["data.tre_noi_sinh"] == "Tại nhà"
    assert store.verify_audit().ok
    # A plain pulled change is no decision of provincial IT.
    _apply(store, changes=[_pulled(record.id, 7, 3, {"data.so_ban_sao": ["2", "4"]})])
    assert [e.action for e in store.audit_trail(record.id)].count("sync.resolution") == 1


def test_a_record_marked_a_duplicate_keeps_the_mark_in_store_search_and_edits(
    store: Store,
) -> None:
    original = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    copy = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED, allow_duplicate=True)
    assert copy.duplicate_of is None
    decision = _pulled(copy.id, 8, 2, {"duplicate_of": [None, original.id]})
    decision.update(kind="resolution", device_id="server", clerk="Nguyễn Văn An", reason="trùng")
    _apply(store, changes=[decision], cursor="8.c" + "c" * 15)
    marked = store.get_dossier(copy.id)
    assert marked.duplicate_of == original.id
    assert marked.record["duplicate_of"] == original.id
    assert marked.status == "tiep_nhan"  # nothing is deleted or cancelled
    assert store.get_dossier(original.id).duplicate_of is None
    found = {s.id: s for s in store.search(birth(2)["tre_ten"])}
    assert found[copy.id].duplicate_of == original.id
    assert found[original.id].duplicate_of is None
    # The clerk's later edits keep the mark; the clerk cannot set or clear it.
    edited = store.update_dossier(copy.id, {"so_ban_sao": "3"})
    assert edited.duplicate_of == original.id
    with pytest.raises(StoreError, match="duplicate_of"):
        store.update_dossier(copy.id, {"duplicate_of": ""})


# -- pulled changes (were applied by a second module; now through the one page) ---------------


def _remote(entity_id: str, fields: dict[str, list[Any]], version: int, **extra: Any) -> dict:
    return {**_pulled(entity_id, version, version, fields), **extra}


def test_a_new_remote_dossier_is_stored_and_searchable(store: Store) -> None:
    dossier_id = uuid7()
    record = {
        "procedure": "khai_sinh",
        "commune": "02701",
        "dossier_no": "02701-X-1",
        "status": "tiep_nhan",
        "received_at": "2026-03-10T09:30:00",
        **{f"data.{k}": v for k, v in BIRTH.items()},
    }
    report = _apply(
        store,
        changes=[_remote(dossier_id, {k: [None, v] for k, v in record.items()}, 1)],
        cursor="41.aaaaaaaaaaaaaaaa",
    )
    assert report.pulled == 1
    got = store.get_dossier(dossier_id)
    assert got.record == record and got.server_version == 1
    assert store.sync_state().cursor == "41.aaaaaaaaaaaaaaaa"
    assert dossier_id in [h.id for h in store.search("giang a xa")]
    assert store.pending_changes() == []  # remote data is not pushed back
    assert store.find_duplicates(store.prepare_dossier("khai_sinh", BIRTH))[0].id == dossier_id


def test_pending_local_fields_keep_their_value(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    (create,) = store.pending_changes()
    _apply(store, results=[_result(create, "applied", 1)], cursor="1.a", max_device_seq=1)
    store.update_dossier(record.id, {"tre_ten": "Ân"})  # pending
    report = _apply(
        store,
        changes=[
            _remote(
                record.id, {"data.tre_ten": ["Xà", "Páo"], "data.tre_noi_sinh": ["a", "Nhà"]}, 2
            )
        ],
        cursor="7.b",
        max_device_seq=1,
    )
    assert report.kept_local == 1
    got = store.get_dossier(record.id)
    assert got.record["data.tre_ten"] == "Ân"
    assert got.record["data.tre_noi_sinh"] == "Nhà"
    assert got.server_version == 2


def test_own_changes_only_advance_the_version(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    # An own record in the page (a snapshot of it) leaves the local values as they are.
    echo = _remote(record.id, {"data.tre_ten": [None, "Xà"]}, 1, device_id=store.device_id)
    _apply(store, changes=[echo], cursor="3.c")
    got = store.get_dossier(record.id)
    assert got.server_version == 1 and got.record == record.record
    store.update_dossier(record.id, {"tre_ten": "Ân"})
    assert store.all_changes(record.id)[-1].base_version == 1
    # An own delete coming back counts as own, not as pulled; the edit pending here keeps the
    # record until the server answers it.
    gone = _remote(record.id, {}, 2, device_id=store.device_id, op="delete")
    report = _apply(store, changes=[gone], cursor="4.c")
    assert (report.own, report.pulled) == (1, 0)
    assert store.get_dossier(record.id).server_version == 2


def test_a_failing_page_stores_nothing(store: Store) -> None:
    good = _remote(uuid7(), {"procedure": [None, "khai_sinh"], "dossier_no": [None, "n"]}, 1)
    bad = {"entity": "dossier"}  # no entity_id
    with pytest.raises(KeyError):
        _apply(store, changes=[good, bad], cursor="99.d")
    assert store.sync_state().cursor == ""
    assert store.count_dossiers() == 0


def test_remote_attachment_metadata_and_sync_state(store: Store) -> None:
    att_id = uuid7()
    _apply(
        store,
        changes=[
            {
                "entity": "attachment",
                "entity_id": att_id,
                "op": "upsert",
                "version": 1,
                "device_id": "other",
                "fields": {
                    "dossier_id": [None, "d"],
                    "sha256": [None, "a" * 64],
                    "size": [None, 10],
                    "mime": [None, "image/png"],
                    "name": [None, "x.png"],
                },
            }
        ],
        cursor="5.e",
        clock_offset_s=-3.5,
    )
    assert store.attachments("d")[0].sha256 == "a" * 64
    assert not store.has_attachment_content("a" * 64)
    store.sync.record_failure(code="offline", clerk_message="mất mạng")
    state = store.sync_state()
    assert (state.cursor, state.server_epoch, state.last_error, state.clock_offset) == (
        "5.e",
        "e1",
        "mất mạng",
        -3.5,
    )
    assert (state.error_code, state.revoked) == ("offline", False)
    with pytest.raises(ValueError):
        store.write(lambda conn, ctx: update_state(conn, nonsense=1))
