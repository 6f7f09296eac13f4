"""Applying pulled changes: cursor in the same transaction, pending local fields kept."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.store.ids import uuid7
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED


def _remote(entity_id: str, fields: dict[str, list[Any]], version: int, **extra: Any) -> dict:
    return {
        "change_id": uuid7(),
        "device_id": "other-device",
        "device_seq": version,
        "entity": "dossier",
        "entity_id": entity_id,
        "op": "upsert",
        "base_version": version - 1,
        "fields": fields,
        "hlc": f"{1764145000123:013d}-0000-other-device",
        "clerk": "hoa",
        "commune": "02701",
        "server_version": version,
        **extra,
    }


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
    report = store.apply_remote_changes(
        [_remote(dossier_id, {k: [None, v] for k, v in record.items()}, 1)], cursor=41
    )
    assert (report.applied, report.cursor) == (1, 41)
    got = store.get_dossier(dossier_id)
    assert got.record == record and got.server_version == 1
    assert store.sync_state().cursor == 41
    assert dossier_id in [h.id for h in store.search("giang a xa")]
    assert store.pending_changes() == []  # remote data is not pushed back
    assert store.find_duplicates(store.prepare_dossier("khai_sinh", BIRTH))[0].id == dossier_id


def test_pending_local_fields_keep_their_value(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.record_results([{"device_seq": 1, "status": "applied"}])
    store.update_dossier(record.id, {"tre_ten": "Ân"})  # pending
    report = store.apply_remote_changes(
        [_remote(record.id, {"data.tre_ten": ["Xà", "Páo"], "data.tre_noi_sinh": ["a", "Nhà"]}, 2)],
        cursor=7,
    )
    assert report.kept_local == 1
    got = store.get_dossier(record.id)
    assert got.record["data.tre_ten"] == "Ân"
    assert got.record["data.tre_noi_sinh"] == "Nhà"
    assert got.server_version == 2


def test_own_changes_only_advance_the_version(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    echo = _remote(record.id, {"data.tre_ten": [None, "Xà"]}, 1, device_id=store.device_id)
    report = store.apply_remote_changes([echo], cursor=3)
    assert (report.own, report.applied) == (1, 0)
    got = store.get_dossier(record.id)
    assert got.server_version == 1 and got.record == record.record
    store.update_dossier(record.id, {"tre_ten": "Ân"})
    assert store.all_changes(record.id)[-1].base_version == 1


def test_a_failing_page_stores_nothing(store: Store) -> None:
    good = _remote(uuid7(), {"procedure": [None, "khai_sinh"], "dossier_no": [None, "n"]}, 1)
    bad = {"entity": "dossier"}  # no entity_id
    with pytest.raises(KeyError):
        store.apply_remote_changes([good, bad], cursor=99)
    assert store.sync_state().cursor == 0
    assert store.count_dossiers() == 0


def test_remote_attachment_metadata_and_sync_state(store: Store) -> None:
    att_id = uuid7()
    store.apply_remote_changes(
        [
            {
                "entity": "attachment",
                "entity_id": att_id,
                "op": "upsert",
                "server_version": 1,
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
        cursor=5,
    )
    assert store.attachments("d")[0].sha256 == "a" * 64
    assert not store.has_attachment_content("a" * 64)
    store.update_sync_state(server_epoch="e1", last_error="mất mạng", clock_offset=-3.5)
    state = store.sync_state()
    assert (state.cursor, state.server_epoch, state.last_error, state.clock_offset) == (
        5,
        "e1",
        "mất mạng",
        -3.5,
    )
    with pytest.raises(ValueError):
        store.update_sync_state(nonsense=1)
