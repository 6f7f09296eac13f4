"""POST /sync end to end through the ASGI app, on both backends."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from protocol import wire
from protocol.keys import b64d
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed

NewDevice = Callable[..., FakeDevice]

BIRTH = {
    "procedure": "khai_sinh",
    "status": "tiep_nhan",
    "data.tre_ho": "Giàng",
    "data.tre_chu_dem": "A",
    "data.tre_ten": "Páo",
    "data.tre_ngay_sinh": "2026-10-01",
    "data.me_ho": "Vàng",
    "data.me_chu_dem": "Thị",
    "data.me_ten": "Mỷ",
    "data.me_so_dinh_danh": "010199001234",
}


def server_values(server: SyncServer, entity_id: str) -> dict[str, Any]:
    with server.storage.read() as tx:
        rec = tx.get_record("dossier", entity_id)
        assert rec is not None
        return rec.values


def test_quiet_sync_is_one_round_trip(new_device: NewDevice) -> None:
    a = new_device()
    a.sync()
    calls = []
    post = a.post
    a.post = lambda *args: calls.append(1) or post(*args)  # type: ignore[method-assign]
    resp = a.sync()
    assert len(calls) == 1
    assert (resp["results"], resp["changes"], resp["more"]) == ([], [], False)


def test_two_devices_of_a_commune_converge(server: SyncServer, new_device: NewDevice) -> None:
    a, b = new_device(), new_device()
    r1 = a.create(dict(BIRTH))
    r2 = b.create({**BIRTH, "data.tre_ten": "Sính"})
    a.sync_all()
    b.sync_all()
    a.sync_all()
    for dev in (a, b):
        for rid in (r1, r2):
            assert dev.records[rid]["values"] == server_values(server, rid)
    a.edit(r2, status="dang_xu_ly")
    b.edit(r2, **{"data.tre_ho": "Vàng"})
    a.sync_all()
    resp = b.sync_all()[0]
    assert resp["results"][0]["status"] == "merged"
    a.sync_all()
    assert a.records[r2]["values"] == b.records[r2]["values"] == server_values(server, r2)
    assert server_values(server, r2)["status"] == "dang_xu_ly"


def test_first_pull_of_a_new_device_is_a_snapshot_without_echo(new_device: NewDevice) -> None:
    a = new_device()
    ids = [a.create({**BIRTH, "data.tre_ten": f"T{i}"}) for i in range(5)]
    resp = a.sync()
    assert [r["status"] for r in resp["results"]] == ["applied"] * 5
    assert resp["changes"] == []  # its own records are not sent back
    c = new_device()
    pages = c.sync_all(limit=2)
    assert len(pages) == 3 and pages[0]["more"]
    got = [e["entity_id"] for p in pages for e in p["changes"]]
    assert sorted(got) == sorted(ids)


def test_replayed_batch_changes_nothing(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    a.create(dict(BIRTH))
    first = a.sync()["results"]
    before = server.stats()
    again = a.sync(changes=copy.deepcopy(a.outbox))["results"]
    assert again == first
    after = server.stats()
    assert (after["changes"], after["server_seq"]) == (before["changes"], before["server_seq"])


def test_replayed_envelope_is_refused(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    a.create(dict(BIRTH))
    sealed = a.seal({"cursor": "", "changes": a.pending()})
    status, _ = a.post(wire.PATH_SYNC, sealed.data, {})
    assert status == 200
    seq = server.stats()["server_seq"]
    status, body = a.post(wire.PATH_SYNC, sealed.data, {})
    assert status == 409 and wire.loads(body)["code"] == "replayed"
    assert server.stats()["server_seq"] == seq


def test_reordered_batch_applies_in_device_order(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    rid = a.create(dict(BIRTH))
    a.edit(rid, status="dang_xu_ly")
    a.edit(rid, status="cho_ky")
    results = a.sync(changes=list(reversed(a.pending())))["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert server_values(server, rid)["status"] == "cho_ky"


def test_a_gap_defers_later_changes(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    rid = a.create(dict(BIRTH))
    a.edit(rid, status="dang_xu_ly")
    a.edit(rid, status="cho_ky")
    resp = a.sync(changes=[a.outbox[0], a.outbox[2]])
    assert [r["status"] for r in resp["results"]] == ["applied", "deferred"]
    assert resp["max_device_seq"] == 1
    a.results.pop(3)
    resp = a.sync()
    assert [r["status"] for r in resp["results"]] == ["applied", "applied"]
    assert server_values(server, rid)["status"] == "cho_ky"


def test_cloned_device_is_detected_and_refused(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    a.create(dict(BIRTH))
    a.sync()
    clone = copy.copy(a)
    clone.outbox = []
    clone.results = {}
    clone.seq = 0
    clone.create({**BIRTH, "data.tre_ten": "Khác"})  # device_seq 1 again, other change
    with pytest.raises(SyncFailed) as err:
        clone.sync()
    assert (err.value.status, err.value.body["code"]) == (409, "cloned")
    [device] = server.devices()
    assert device["status"] == "cloned"
    with pytest.raises(SyncFailed) as err:
        a.sync()
    assert err.value.status == 409


def test_revoked_device_is_refused_with_reason(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    a.sync()
    server.revoke(a.device_id, "PC stolen")
    a.create(dict(BIRTH))
    with pytest.raises(SyncFailed) as err:
        a.sync()
    assert err.value.status == 403
    assert err.value.body["code"] == "revoked" and "PC stolen" in err.value.body["error"]
    assert server.stats()["changes"] == 0


def test_a_revoked_device_comes_back_with_a_fresh_code_and_keeps_its_history(
    server: SyncServer, new_device: NewDevice
) -> None:
    a = new_device()
    a.create(dict(BIRTH))
    a.sync()
    server.revoke(a.device_id, "PC sent for repair")
    a.enrol(server.issue_code("02701"))
    a.create(dict(BIRTH, **{"data.tre_ten": "Chứ"}))
    results = a.sync()["results"]
    assert [r["status"] for r in results] == ["applied"]
    [device] = server.devices()
    assert device["status"] == "active"
    assert server.stats()["changes"] == 2


def test_an_active_device_cannot_take_a_second_code(
    server: SyncServer, new_device: NewDevice
) -> None:
    a = new_device()
    with pytest.raises(SyncFailed) as err:
        a.enrol(server.issue_code("02701"))
    assert err.value.status == 409


def test_communes_are_isolated(server: SyncServer, new_device: NewDevice) -> None:
    a, b = new_device("02701"), new_device("02702")
    rid = a.create(dict(BIRTH))
    a.sync()
    # B cannot read A's record ...
    assert b.sync()["changes"] == []
    # ... nor write it, nor write into A's commune.
    b.records[rid] = {"values": dict(BIRTH), "version": 1, "deleted": False}
    b.edit(rid, **{"data.tre_ten": "Hacked"})
    change = b.create({**BIRTH, "commune": "02701"})
    b.outbox[-1]["commune"] = "02701"
    results = b.sync()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert "another commune" in results[0]["reason"]
    assert server_values(server, rid)["data.tre_ten"] == "Páo"
    with server.storage.read() as tx:
        assert tx.get_record("dossier", change) is None


def test_conflict_then_resolution_reaches_every_device(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b, c = new_device(), new_device(), new_device()
    rid = a.create(dict(BIRTH))
    a.sync()
    b.sync()
    c.sync()
    a.edit(rid, **{"data.tre_ten": "Pao"})
    b.edit(rid, **{"data.tre_ten": "Pàu"})
    assert a.sync()["results"][0]["status"] == "applied"
    result = b.sync()["results"][0]
    assert result["status"] == "conflict"
    [conflict] = server.conflicts()
    assert conflict["id"] == result["conflict_ids"][0]
    assert (conflict["base"], conflict["current"], conflict["incoming"]) == (
        {"data.tre_ten": "Páo"},
        {"data.tre_ten": "Pao"},
        {"data.tre_ten": "Pàu"},
    )
    assert (conflict["device_id"], conflict["clerk"]) == (b.device_id, "lan")
    assert server_values(server, rid)["data.tre_ten"] == "Pao"  # current value stays
    assert b.last_response["conflicts_open"] == 1

    done = server.resolve(conflict["id"], take="incoming", reason="giấy chứng sinh ghi Pàu")
    for dev in (a, b, c):
        pulled = [e for p in dev.sync_all() for e in p["changes"]]
        assert dev.records[rid]["values"]["data.tre_ten"] == "Pàu"
        [resolution] = [e for e in pulled if e["kind"] == "resolution"]
        assert resolution["parents"] == [2, conflict["change_id"]]
        assert dev.server_keys is not None  # signed by the pinned server key
        assert dev.server_keys.verify(
            b64d(resolution["signature"]), wire.resolution_message(resolution)
        )
    assert server.conflicts() == []
    with server.storage.read() as tx:
        log = tx.change_by_id(done["change_id"])
        assert log is not None and log.kind == "resolution"
        assert log.parents == [2, conflict["change_id"]]
        history = [v["values"]["data.tre_ten"] for v in tx.versions("dossier", rid)]
    assert history == ["Páo", "Pao", "Pàu"]  # the losing value stays in history
    with pytest.raises(Exception, match="resolved"):
        server.resolve(conflict["id"], take="current", reason="again")


def test_delete_against_edit_is_a_conflict(server: SyncServer, new_device: NewDevice) -> None:
    a, b = new_device(), new_device()
    rid = a.create(dict(BIRTH))
    a.sync()
    b.sync()
    a.edit(rid, status="dang_xu_ly")
    b.delete(rid)
    a.sync()
    result = b.sync()["results"][0]
    assert result["status"] == "conflict"
    [conflict] = server.conflicts()
    assert conflict["kind"] == "delete"
    server.resolve(conflict["id"], take="incoming", reason="hồ sơ nhập trùng")
    a.sync_all()
    assert a.records[rid]["deleted"]


def test_same_birth_in_two_communes_is_a_duplicate(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b = new_device("02701"), new_device("02702")
    r1 = a.create(dict(BIRTH))
    r2 = b.create({**BIRTH, "data.tre_ten": "PÁO", "data.tre_chu_dem": "a", "commune": "02702"})
    a.sync()
    result = b.sync()["results"][0]
    assert result["status"] == "applied" and result["conflict_ids"]
    [dup] = server.conflicts()
    assert dup["kind"] == "duplicate"
    assert {dup["entity_id"], dup["other_entity_id"]} == {r1, r2}
    # Both stay; a resync does not raise it twice.
    b.edit(r2, status="dang_xu_ly")
    b.sync()
    assert len(server.conflicts()) == 1
    server.resolve(dup["id"], take="current", reason="hai trẻ khác nhau")
    assert server.conflicts() == []


def test_same_book_number_is_a_conflict(server: SyncServer, new_device: NewDevice) -> None:
    a, b = new_device(), new_device()
    book = {"book_type": "KS", "book_year": 2026, "book_number": 7}
    a.create({**BIRTH, **book})
    b.create({**BIRTH, **book, "data.me_so_dinh_danh": "010199009999", "data.tre_ten": "Lử"})
    a.sync()
    b.sync()
    kinds = [c["kind"] for c in server.conflicts()]
    assert kinds == ["book_number"]


def test_book_blocks_are_disjoint_and_idempotent(new_device: NewDevice) -> None:
    a, b = new_device(), new_device()
    want = [{"book_type": "KS", "year": 2026, "after": 0}]
    ba = a.sync(want_blocks=want)["blocks"]
    bb = b.sync(want_blocks=want)["blocks"]
    assert ba == [{"book_type": "KS", "year": 2026, "start": 1, "end": 100}]
    assert bb == [{"book_type": "KS", "year": 2026, "start": 101, "end": 200}]
    assert a.sync(want_blocks=want)["blocks"] == ba  # lost answer: same block again
    nxt = a.sync(want_blocks=[{"book_type": "KS", "year": 2026, "after": 100}])["blocks"]
    assert nxt[0]["start"] == 201


def test_skewed_clock_is_flagged_and_still_syncs(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    a.clock_offset_ms = -3 * 3600 * 1000  # a dead CMOS battery
    a.create(dict(BIRTH))
    resp = a.sync()
    assert resp["results"][0]["status"] == "applied"
    assert resp["skew_flagged"] and resp["clock_skew_ms"] < -3 * 3600 * 1000 + 60_000
    assert abs(resp["server_time"] - wire_now()) < 60_000
    [device] = server.devices()
    assert device["flagged_skew"]
    assert server.stats()["skewed_devices"] == [a.device_id]
    a.clock_offset_ms = 0
    assert not a.sync()["skew_flagged"]


def wire_now() -> int:
    import time

    return int(time.time() * 1000)


def test_sessions_skip_the_kem(server: SyncServer, new_device: NewDevice) -> None:
    a = new_device()
    resp = a.sync(session=True)
    assert resp["session"] and a.session
    sealed = a.seal({"cursor": a.cursor})
    assert sealed.header.key_id.startswith("s:") and len(sealed.data) < 600
    a.create(dict(BIRTH))
    assert a.sync()["results"][0]["status"] == "applied"
    a.session = ("unknown", b"k" * 32)
    with pytest.raises(SyncFailed) as err:
        a.sync()
    assert (err.value.status, err.value.body["code"]) == (401, "session_expired")


def test_unknown_device_is_refused(server: SyncServer, new_device: NewDevice, client: Any) -> None:
    from tests.server.fake_device import asgi_post

    a = new_device()
    stranger = FakeDevice(asgi_post(client))
    stranger.server_keys = a.server_keys
    with pytest.raises(SyncFailed) as err:
        stranger.sync()
    assert (err.value.status, err.value.body["code"]) == (403, "unknown_device")


def test_duplicates_inside_one_batch_are_found_once(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b = new_device(), new_device()
    first = a.create(dict(BIRTH))
    second = a.create({**BIRTH, "data.tre_ten": "páo"})  # the same birth typed twice
    results = a.sync()["results"]
    assert "conflict_ids" not in results[0] and len(results[1]["conflict_ids"]) == 1
    [dup] = server.conflicts()
    assert {dup["entity_id"], dup["other_entity_id"]} == {first, second}
    # A create then an edit in one batch is checked at its final state against the others.
    third = b.create({**BIRTH, "data.me_so_dinh_danh": "010199004444"})
    b.edit(third, **{"data.me_so_dinh_danh": BIRTH["data.me_so_dinh_danh"]})
    results = b.sync()["results"]
    assert [len(r.get("conflict_ids", [])) for r in results] == [0, 2]
    assert len(server.conflicts()) == 3


def test_taking_an_edit_over_a_delete_brings_the_whole_record_back(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b = new_device(), new_device()
    rid = a.create(dict(BIRTH))
    a.sync()
    b.sync()
    a.delete(rid)
    b.edit(rid, status="dang_xu_ly")
    a.sync()
    assert b.sync()["results"][0]["status"] == "conflict"
    a.records.pop(rid)  # the deleting device dropped its copy
    server.resolve(server.conflicts()[0]["id"], take="incoming", reason="hồ sơ còn hiệu lực")
    a.sync_all()
    assert not a.records[rid]["deleted"]
    assert a.records[rid]["values"] == server_values(server, rid)
    assert server_values(server, rid)["status"] == "dang_xu_ly"


def test_change_log_is_append_only(server: SyncServer, new_device: NewDevice) -> None:
    from sqlalchemy import select

    from server import schema

    def log() -> list[tuple[object, ...]]:
        with server.storage.read() as tx:
            return [tuple(r) for r in tx.conn.execute(select(schema.changes)).all()]

    a, b = new_device(), new_device()
    rid = a.create(dict(BIRTH))
    a.create({**BIRTH, "data.tre_ten": "páo"})  # a duplicate, found in the same batch
    first_results = a.sync()["results"]
    b.sync()
    a.edit(rid, **{"data.tre_ten": "Pao"})
    b.edit(rid, **{"data.tre_ten": "Pàu"})
    a.sync()
    b.sync()
    before = log()
    for conflict in server.conflicts():
        server.resolve(conflict["id"], take="current", reason="kiểm tra")
    a.sync_all()
    b.sync_all()
    after = log()
    assert after[: len(before)] == before  # nothing logged was changed
    assert len(after) > len(before)
    # A replay still reports the domain conflict found while the batch was applied.
    assert a.sync(changes=copy.deepcopy(a.outbox[:2]))["results"] == first_results
