"""Provincial IT's decisions: resolutions that reach every device, and their arguments."""

from __future__ import annotations

import pytest

from protocol import wire
from protocol.keys import b64d
from server.errors import BadAssignment, NothingChosen, ResolutionError
from server.service import SyncServer
from tests.server.test_sync import BIRTH, NewDevice, server_values


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


def test_resolve_names_the_argument_that_is_wrong(
    server: SyncServer, new_device: NewDevice
) -> None:
    cases: list[tuple[dict[str, str], type[ResolutionError], str]] = [
        ({"take": "both", "reason": "x"}, ResolutionError, "take"),
        ({"reason": "x"}, NothingChosen, "take"),
        ({"take": "current", "reason": "  "}, ResolutionError, "reason"),
    ]
    for kwargs, kind, argument in cases:
        with pytest.raises(kind) as err:
            server.resolve(1, **kwargs)  # type: ignore[arg-type]
        assert (err.value.argument, err.value.status, err.value.code) == (
            argument,
            400,
            "bad_request",
        )
    a, b = new_device(), new_device()
    rid = a.create(dict(BIRTH))
    for dev in (a, b):
        dev.sync()
    for dev, name in ((a, "Pao"), (b, "Pàu")):  # b edits without having pulled a's edit
        dev.edit(rid, **{"data.tre_ten": name})
        dev.sync()
    [conflict] = server.conflicts()
    with pytest.raises(BadAssignment):
        server.resolve(conflict["id"], assignments={"": "Pàu"}, reason="x")
    assert [c["id"] for c in server.conflicts()] == [conflict["id"]]  # still open
