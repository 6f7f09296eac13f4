"""The conflict inbox through ``POST /admin``: a filtered page, one conflict side by side, and a
field-by-field resolution that reaches every device with who decided and why (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from protocol import wire
from protocol.keys import b64d
from server.console.conflicts import DAY_MS
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed
from tests.server.fake_operator import FakeOperator
from tests.server.test_sync import BIRTH, server_values

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]

DEATH = {
    "procedure": "khai_tu",
    "status": "tiep_nhan",
    "dossier_no": "02701-KT-0001",
    "data.nguoi_chet_ho": "Sùng",
    "data.nguoi_chet_chu_dem": "Seo",
    "data.nguoi_chet_ten": "Chứ",
    "data.ngay_chet": "2026-09-30",
}


def field_conflict(new_device: NewDevice) -> tuple[FakeDevice, FakeDevice, str]:
    """Two PCs of 02701 edit one birth offline: the child's name clashes; b also fills in the
    place of birth, which a did not touch."""
    a, b = new_device(label="PC1 Y Tý"), new_device(label="PC2 Y Tý")
    rid = a.create({**BIRTH, "dossier_no": "02701-KS-0007"})
    a.sync()
    b.sync()
    a.edit(rid, **{"data.tre_ten": "Pao"})
    b.edit(rid, **{"data.tre_ten": "Pàu", "data.tre_noi_sinh": "Tại nhà"})
    assert a.sync()["results"][0]["status"] == "applied"
    assert b.sync()["results"][0]["status"] == "conflict"
    return a, b, rid


def test_the_inbox_filters_pages_and_lists_newest_first(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    t0 = 1_800_000_000_000
    server.clock = lambda: t0
    _a, _b, birth_id = field_conflict(new_device)
    server.clock = lambda: t0 + 5 * DAY_MS
    c, d = new_device(commune="02703"), new_device(commune="02703")
    death_id = c.create(dict(DEATH))
    c.sync()
    d.sync()
    c.edit(death_id, **{"data.nguoi_chet_ten": "Chử"})
    d.delete(death_id)
    c.sync()
    d.sync()
    server.clock = lambda: t0 + 10 * DAY_MS
    elsewhere = new_device(commune="02702")
    elsewhere.create(dict(BIRTH))  # the same birth registered in another commune
    elsewhere.sync()
    server.clock = lambda: t0 + 10 * DAY_MS + 3600_000
    console = new_operator()

    page = console.call("conflicts.list")
    assert (page["total"], page["offset"]) == (3, 0)
    assert [i["kind"] for i in page["items"]] == ["duplicate", "delete", "field"]
    field = page["items"][2]
    assert (field["entity_id"], field["commune"], field["procedure"]) == (
        birth_id,
        "02701",
        "khai_sinh",
    )
    assert (field["title"], field["dossier_no"], field["fields"]) == (
        "Giàng A Pao",  # who the dossier is about, as the server holds it now
        "02701-KS-0007",
        ["data.tre_ten"],
    )
    assert page["items"][1]["title"] == "Sùng Seo Chử"

    def ids(**args: Any) -> list[str]:
        return [i["kind"] for i in console.call("conflicts.list", **args)["items"]]

    # A commune sees its own and those where the other record is its own.
    assert ids(commune="02701") == ["duplicate", "field"]
    assert ids(commune="02702") == ["duplicate"]
    assert ids(procedure="khai_tu") == ["delete"]
    assert ids(kind="field") == ["field"]
    assert ids(min_age_days=5) == ["delete", "field"]
    assert ids(max_age_days=4) == ["duplicate"]
    assert ids(min_age_days=1, max_age_days=5) == ["delete"]
    deep = console.call("conflicts.list", offset=1, limit=1)
    assert deep["total"] == 3 and [i["kind"] for i in deep["items"]] == ["delete"]
    assert ids(status="resolved") == []
    server.resolve(field["id"], take="current", reason="giữ tên đã sửa")
    assert ids(status="resolved") == ["field"]
    assert ids(status="all") == ["duplicate", "delete", "field"]
    assert console.call("conflicts.list")["total"] == 2
    # The command line's view: oldest first, with the same filters.
    assert [c["kind"] for c in server.conflicts("open", filters={"commune": "02701"})] == [
        "duplicate"
    ]
    assert [c["kind"] for c in server.conflicts(None, limit=2)] == ["field", "delete"]


def test_one_conflict_side_by_side(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, b, rid = field_conflict(new_device)
    b.clock_offset_ms = 2 * 3600_000  # b's CMOS battery is dead: its clock is flagged
    b.sync()
    [conflict] = server.conflicts()
    detail = new_operator().call("conflicts.get", id=conflict["id"])
    assert detail["conflict"]["title"] == "Giàng A Pao"
    rows = {r["field"]: r for r in detail["fields"]}
    assert [r["field"] for r in detail["fields"]][0] == "data.tre_ten"  # clashing first
    assert rows["data.tre_ten"] == {
        "field": "data.tre_ten",
        "label": "Tên",
        "base": "Páo",
        "current": "Pao",
        "incoming": "Pàu",
        "differs": True,
        "clashing": True,
    }
    assert rows["data.tre_noi_sinh"]["label"] == "Nơi sinh"
    assert (rows["data.tre_noi_sinh"]["incoming"], rows["data.tre_noi_sinh"]["clashing"]) == (
        "Tại nhà",
        False,
    )
    assert "data.me_ten" not in rows  # the same on all three sides
    base, current, incoming = detail["base"], detail["current"], detail["incoming"]
    assert (base["version"], base["device_id"], base["device_label"]) == (
        1,
        a.device_id,
        "PC1 Y Tý",
    )
    assert (current["version"], current["device_id"], current["clerk"]) == (2, a.device_id, "lan")
    assert (incoming["version"], incoming["device_id"], incoming["device_label"]) == (
        None,
        b.device_id,
        "PC2 Y Tý",
    )
    assert incoming["commune"] == "02701" and incoming["received_at"] == conflict["created_at"]
    assert incoming["clock_ms"] == int(conflict["hlc"][:13])  # the device's clock, from its HLC
    assert incoming["clock_suspect"] and not current["clock_suspect"]
    assert current["received_at"] is not None and current["clock_ms"] is not None
    assert not detail["incoming_deletes"] and not detail["current_deleted"]
    assert (detail["resolution"], detail["resolved_by"], detail["deliveries"]) == (None, None, [])


def test_a_field_by_field_resolution_reaches_every_device_with_who_and_why(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, b, rid = field_conflict(new_device)
    c = new_device(label="PC3 Y Tý")
    c.sync_all()
    [conflict] = server.conflicts()
    console = new_operator("Nguyễn Văn An")
    with pytest.raises(SyncFailed) as refused:  # the clashing field must be decided
        console.call(
            "conflicts.resolve",
            id=conflict["id"],
            choices={"data.tre_noi_sinh": {"take": "incoming"}},
            reason="x",
        )
    assert refused.value.status == 400
    assert refused.value.body["error"] == (
        "args.choices must decide every clashing field: data.tre_ten"
    )
    with pytest.raises(SyncFailed) as unknown:
        console.call(
            "conflicts.resolve",
            id=conflict["id"],
            choices={"data.tre_ten": {"take": "incoming"}, "data.mau_mat": {"value": "x"}},
            reason="x",
        )
    assert unknown.value.status == 400 and "data.mau_mat" in unknown.value.body["error"]
    with pytest.raises(SyncFailed) as moved:  # a record stays in its commune
        console.call(
            "conflicts.resolve",
            id=conflict["id"],
            choices={"data.tre_ten": {"take": "incoming"}, "commune": {"value": "04465"}},
            reason="x",
        )
    assert moved.value.status == 400 and "'commune'" in moved.value.body["error"]

    reason = "Giấy chứng sinh ghi Pàu; nơi sinh theo xác nhận của trạm y tế"
    done = console.call(
        "conflicts.resolve",
        id=conflict["id"],
        choices={
            "data.tre_ten": {"take": "incoming"},
            "data.tre_noi_sinh": {"value": "Trạm y tế xã Y Tý"},
        },
        reason=reason,
    )
    assert done["conflict_id"] == conflict["id"] and done["version"] == 3
    assert server_values(server, rid)["data.tre_ten"] == "Pàu"
    assert server_values(server, rid)["data.tre_noi_sinh"] == "Trạm y tế xã Y Tý"
    detail = console.call("conflicts.get", id=conflict["id"])
    assert detail["resolution"] == done
    assert (detail["resolved_by"], detail["resolution_reason"]) == ("Nguyễn Văn An", reason)
    assert {d["device_id"]: d["received_at"] for d in detail["deliveries"]} == {
        a.device_id: None,
        b.device_id: None,
        c.device_id: None,
    }

    server.revoke(c.device_id, "PC3 hỏng")
    for device in (a, b):
        pulled = [e for page in device.sync_all() for e in page["changes"]]
        [resolution] = [e for e in pulled if e["kind"] == "resolution"]
        # Who decided and why travel with it; the signature still covers who.
        assert (resolution["clerk"], resolution["reason"]) == ("Nguyễn Văn An", reason)
        assert device.server_keys is not None
        assert device.server_keys.verify(
            b64d(resolution["signature"]), wire.resolution_message(resolution)
        )
        assert device.records[rid]["values"]["data.tre_ten"] == "Pàu"
    assert all(
        d["received_at"] is None
        for d in console.call("conflicts.get", id=conflict["id"])["deliveries"]
    )
    a.sync()  # the next sync's cursor says the page holding the resolution was stored
    b.sync()
    deliveries = {
        d["device_id"]: d for d in console.call("conflicts.get", id=conflict["id"])["deliveries"]
    }
    assert deliveries[a.device_id]["received_at"] is not None
    assert deliveries[b.device_id]["received_at"] is not None
    assert (deliveries[c.device_id]["status"], deliveries[c.device_id]["received_at"]) == (
        "revoked",
        None,
    )
    first = deliveries[a.device_id]["received_at"]
    a.sync()
    again = {
        d["device_id"]: d for d in console.call("conflicts.get", id=conflict["id"])["deliveries"]
    }
    assert again[a.device_id]["received_at"] == first  # the first time is kept

    history = console.call("records.history", entity_id=rid)
    assert [v["changed"].get("data.tre_ten") for v in history] == ["Páo", "Pao", "Pàu"]
    assert [v["kind"] for v in history] == ["change", "change", "resolution"]
    assert history[2]["clerk"] == "Nguyễn Văn An"
    with pytest.raises(SyncFailed) as twice:
        console.call(
            "conflicts.resolve",
            id=conflict["id"],
            choices={"data.tre_ten": {"take": "current"}},
            reason="x",
        )
    assert twice.value.status == 409


def _delete_conflict(new_device: NewDevice) -> tuple[FakeDevice, FakeDevice, str]:
    a, b = new_device(), new_device()
    rid = a.create(dict(BIRTH))
    a.sync()
    b.sync()
    a.edit(rid, status="dang_xu_ly")
    b.delete(rid)
    a.sync()
    assert b.sync()["results"][0]["status"] == "conflict"
    return a, b, rid


def test_a_delete_conflict_needs_a_decision_on_the_whole_record(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, b, rid = _delete_conflict(new_device)
    [conflict] = server.conflicts()
    console = new_operator()
    detail = console.call("conflicts.get", id=conflict["id"])
    assert detail["incoming_deletes"] and detail["conflict"]["kind"] == "delete"
    assert [r["field"] for r in detail["fields"] if r["clashing"]] == ["status"]
    with pytest.raises(SyncFailed) as refused:
        console.call(
            "conflicts.resolve",
            id=conflict["id"],
            choices={"status": {"take": "current"}},
            reason="x",
        )
    assert "args.choices need _record" in refused.value.body["error"]
    console.call(
        "conflicts.resolve",
        id=conflict["id"],
        choices={"_record": {"take": "current"}},
        reason="hồ sơ còn hiệu lực",
    )
    b.records.pop(rid)  # the deleting PC dropped its copy: it gets all of it back
    b.sync_all()
    assert not b.records[rid]["deleted"]
    assert b.records[rid]["values"] == server_values(server, rid)
    assert server_values(server, rid)["status"] == "dang_xu_ly"


def test_taking_the_incoming_delete_deletes(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, _b, rid = _delete_conflict(new_device)
    [conflict] = server.conflicts()
    new_operator().call(
        "conflicts.resolve",
        id=conflict["id"],
        choices={"_record": {"take": "incoming"}},
        reason="hồ sơ nhập trùng",
    )
    a.sync_all()
    assert a.records[rid]["deleted"]
