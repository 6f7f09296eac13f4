"""POST /sync end to end through the ASGI app, on both backends."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from protocol import wire
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
