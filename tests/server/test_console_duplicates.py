"""Duplicate review through ``POST /admin``: a birth registered in two communes, side by side
with the evidence; keep both, or mark one the duplicate of the other without losing either."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from protocol import wire
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed
from tests.server.fake_operator import FakeOperator
from tests.server.test_console_conflicts import field_conflict
from tests.server.test_sync import BIRTH, server_values

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]


def two_communes_one_birth(
    new_device: NewDevice, mother_id: str = "010199001234"
) -> tuple[FakeDevice, str, FakeDevice, str]:
    """Y Tý (02701) registers a birth; 02702 registers the same one, typed a little
    differently (no diacritics on the child's name, another father)."""
    here, there = new_device(commune="02701", label="PC Y Tý"), new_device(commune="02702")
    mother = {"data.me_so_dinh_danh": mother_id}
    first = here.create(
        {**BIRTH, **mother, "dossier_no": "02701-KS-0003", "data.me_ho_ten": "Vàng Thị Mỷ"}
    )
    here.sync()
    second = there.create(
        {
            **BIRTH,
            **mother,
            "dossier_no": "02702-KS-0001",
            "data.tre_ten": "PAO",
            "data.me_ho_ten": "VÀNG THỊ MỸ",
            "data.cha_ho_ten": "Giàng A Chứ",
        }
    )
    [result] = there.sync()["results"]
    assert result["status"] == "applied" and len(result["conflict_ids"]) == 1
    return here, first, there, second


def test_a_duplicate_birth_is_shown_with_its_evidence(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    _here, first, _there, second = two_communes_one_birth(new_device)
    [conflict] = server.conflicts()
    console = new_operator()
    [summary] = console.call("conflicts.list", kind="duplicate")["items"]
    assert (summary["commune"], summary["other_commune"]) == ("02702", "02701")
    detail = console.call("duplicates.get", id=conflict["id"])
    assert detail["conflict"]["id"] == conflict["id"]
    assert (detail["a"]["dossier_no"], detail["b"]["dossier_no"]) == (
        "02702-KS-0001",
        "02701-KS-0003",
    )
    assert (detail["a_info"]["commune"], detail["b_info"]["commune"]) == ("02702", "02701")
    assert detail["b_info"]["device_label"] == "PC Y Tý"
    # The key: the mother's ID (so not her name), the child's birth date and name, folded.
    assert detail["matched"] == [
        "data.tre_ho",
        "data.tre_chu_dem",
        "data.tre_ten",
        "data.tre_ngay_sinh",
        "data.me_so_dinh_danh",
    ]
    rows = {r["field"]: r for r in detail["evidence"]}
    assert (rows["data.tre_ten"]["incoming"], rows["data.tre_ten"]["current"]) == ("PAO", "Páo")
    assert not rows["data.tre_ten"]["differs"] and rows["data.tre_ten"]["clashing"]
    assert rows["data.me_so_dinh_danh"]["label"] == "Số định danh cá nhân (Mẹ)"
    # Context that is not part of the key, for IT to judge.
    assert rows["data.me_ho_ten"]["clashing"] is False and not rows["data.me_ho_ten"]["differs"]
    assert "data.cha_ho_ten" not in rows  # the father is not among the key's persons
    same = console.call("conflicts.get", id=conflict["id"])
    assert [r["field"] for r in same["fields"] if r["clashing"]] == detail["matched"]
    assert same["current"]["commune"] == "02701"
    assert {first, second} == {conflict["entity_id"], conflict["other_entity_id"]}


def test_marking_a_duplicate_keeps_both_records_and_reaches_its_commune(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    here, first, there, second = two_communes_one_birth(new_device)
    [conflict] = server.conflicts()
    console = new_operator("Lò Thị Hoa")
    done = console.call(
        "duplicates.decide",
        id=conflict["id"],
        decision="a_duplicate_of_b",
        reason="Cùng một trẻ: Y Tý đăng ký trước",
    )
    assert done["change_id"] and done["version"] == 2
    assert server_values(server, second)["duplicate_of"] == first
    assert server_values(server, second)["status"] == "tiep_nhan"  # nothing is deleted
    assert server_values(server, first).get("duplicate_of") is None
    pulled = [e for page in there.sync_all() for e in page["changes"]]
    [resolution] = [e for e in pulled if e["kind"] == "resolution"]
    assert resolution["fields"] == {"duplicate_of": [None, first]}
    assert (resolution["clerk"], resolution["reason"]) == (
        "Lò Thị Hoa",
        "Cùng một trẻ: Y Tý đăng ký trước",
    )
    assert there.records[second]["values"]["duplicate_of"] == first
    assert not there.records[second]["deleted"]
    here.sync_all()
    assert "duplicate_of" not in here.records[first]["values"]  # 02701's record is unchanged
    assert second not in here.records  # and it never sees 02702's
    detail = console.call("conflicts.get", id=conflict["id"])
    assert detail["resolved_by"] == "Lò Thị Hoa" and detail["conflict"]["status"] == "resolved"
    assert [d["device_id"] for d in detail["deliveries"]] == [there.device_id]
    # The key check of the wire accepts the new field as any device sends it back.
    change = {
        **there.outbox[0],
        "device_seq": 9,
        "fields": {"duplicate_of": [None, first]},
    }
    assert wire.validate_change(change)["fields"] == {"duplicate_of": [None, first]}
    # A third copy is flagged against the original only: the duplicate no longer counts.
    third = new_device(commune="02705")
    third.create({**BIRTH, "dossier_no": "02705-KS-0001"})
    [result] = third.sync()["results"]
    assert len(result["conflict_ids"]) == 1
    newest = server.conflicts()[-1]
    assert newest["other_entity_id"] == first


def test_the_other_way_round_and_keeping_both(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    here, first, _there, second = two_communes_one_birth(new_device)
    [conflict] = server.conflicts()
    console = new_operator()
    console.call(
        "duplicates.decide", id=conflict["id"], decision="b_duplicate_of_a", reason="02702 đúng"
    )
    here.sync_all()
    assert here.records[first]["values"]["duplicate_of"] == second
    assert server_values(server, second).get("duplicate_of") is None

    _other_here, a, _other_there, _b = two_communes_one_birth(new_device, "010199005678")
    [twins] = server.conflicts()
    kept = console.call(
        "duplicates.decide", id=twins["id"], decision="keep_both", reason="Hai trẻ sinh đôi"
    )
    assert (kept["change_id"], kept["server_seq"], kept["version"]) == (None, None, None)
    assert server.conflicts() == []
    assert console.call("conflicts.get", id=twins["id"])["resolution_reason"] == "Hai trẻ sinh đôi"
    assert "duplicate_of" not in server_values(server, a)


def test_duplicate_actions_are_for_duplicates_only(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    field_conflict(new_device)
    [edit] = server.conflicts()
    console = new_operator()
    for action, args in (
        ("duplicates.get", {"id": edit["id"]}),
        ("duplicates.decide", {"id": edit["id"], "decision": "keep_both", "reason": "x"}),
    ):
        with pytest.raises(SyncFailed) as refused:
            console.call(action, **args)
        assert refused.value.status == 400
        assert refused.value.body["error"] == f"args.id {edit['id']} is not a suspected duplicate"
    two_communes_one_birth(new_device, "010199005678")
    duplicate = next(c for c in server.conflicts() if c["kind"] == "duplicate")
    with pytest.raises(SyncFailed) as refused:
        console.call(
            "conflicts.resolve",
            id=duplicate["id"],
            choices={"status": {"take": "current"}},
            reason="x",
        )
    assert "duplicates.decide" in refused.value.body["error"]
