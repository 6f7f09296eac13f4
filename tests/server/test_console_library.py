"""The console's actions as library calls (what ``motcua-server`` runs), and ``/admin`` over real
HTTP: the same answers as through the sealed endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server.embedded import start_server
from server.errors import ApiError, InvalidArgument
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, http_post
from tests.server.fake_operator import FakeOperator
from tests.server.test_console_conflicts import field_conflict
from tests.server.test_console_duplicates import two_communes_one_birth
from tests.server.test_sync import server_values

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]


def test_every_action_as_a_library_call_answers_as_the_endpoint_does(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, _b, rid = field_conflict(new_device)
    _here, first, _there, second = two_communes_one_birth(new_device, "010199005678")
    edit, duplicate = (c["id"] for c in server.conflicts())
    console = new_operator()
    assert server.conflict(edit) == console.call("conflicts.get", id=edit)
    assert server.duplicate(duplicate) == console.call("duplicates.get", id=duplicate)
    assert server.device_infos() == console.call("devices.list")
    assert server.health() == console.call("health.communes")
    assert server.dossier_stats("month") == console.call("stats.dossiers", period="month")
    assert server.history(rid) == console.call("records.history", entity_id=rid)

    with pytest.raises(InvalidArgument) as missing:
        server.resolve_choices(edit, {"data.tre_noi_sinh": {"take": "current"}}, "x")
    assert (missing.value.argument, missing.value.status) == ("choices", 400)
    done = server.resolve_choices(
        edit, {"data.tre_ten": {"value": "Pàng"}}, "theo CCCD của mẹ", clerk="Lò Thị Hoa"
    )
    assert server_values(server, rid)["data.tre_ten"] == "Pàng"
    # The place of birth only b changed follows the merge rules: b's value.
    assert server_values(server, rid)["data.tre_noi_sinh"] == "Tại nhà"
    assert server.conflict(edit)["resolved_by"] == "Lò Thị Hoa"
    assert server.history(rid)[-1]["clerk"] == "Lò Thị Hoa"
    with pytest.raises(ApiError) as again:
        server.resolve_choices(edit, {"data.tre_ten": {"take": "current"}}, "x")
    assert again.value.status == 409
    decided = server.decide_duplicate(duplicate, "b_duplicate_of_a", "02702 đăng ký trước")
    assert decided["change_id"] is not None
    assert server_values(server, first)["duplicate_of"] == second
    a.sync_all()
    assert a.records[rid]["values"]["data.tre_ten"] == "Pàng"
    assert server.device_infos("02702")[0]["commune"] == "02702"
    assert done["version"] == 3


def test_the_console_over_real_http(sqlite_url: str) -> None:
    with start_server(sqlite_url) as running:
        server = running.server
        device = FakeDevice(http_post(running.url))
        device.enrol(server.issue_code("02701"))
        device.create({"procedure": "khai_sinh", "status": "tiep_nhan"})
        device.sync()
        console = FakeOperator(http_post(running.url))
        console.enrol(server.issue_operator_code("Nguyễn Văn An")["code"])
        [listed] = console.call("devices.list")
        assert listed["device_id"] == device.device_id
        health = console.call("health.communes")
        assert next(h for h in health if h["commune"] == "02701")["dossiers"] == 1
