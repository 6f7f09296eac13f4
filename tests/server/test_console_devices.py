"""Devices and sync health through ``POST /admin``: what each PC reports of itself, codes,
revocation with a reason, and all 99 communes of the province at a glance (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from desktop.forms.reference import communes
from server.console.devices import STALE_MS
from server.service import SyncServer
from tests.server.fake_device import FakeDevice, SyncFailed, asgi_post
from tests.server.fake_operator import FakeOperator
from tests.server.test_console_conflicts import field_conflict
from tests.server.test_sync import BIRTH

NewDevice = Callable[..., FakeDevice]
NewOperator = Callable[..., FakeOperator]

Y_TY, KHAO_MANG = "02701", "04465"


def test_devices_show_what_they_report_and_what_the_server_holds_against_them(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    a, b, _rid = field_conflict(new_device)
    report = {"pending": 3, "app_version": "0.2.0", "last_error": "offline"}
    a.sync(report=report)
    a.records["gone"] = {"values": {}, "version": 4, "deleted": False}
    a.edit("gone", status="dang_xu_ly")  # a record the server never had: rejected
    assert a.sync()["results"][0]["status"] == "rejected"  # no report: the last one stays
    other = new_device(commune=KHAO_MANG, label="PC Khao Mang")
    other.sync()
    console = new_operator()
    devices = {d["device_id"]: d for d in console.call("devices.list")}
    assert set(devices) == {a.device_id, b.device_id, other.device_id}
    mine = devices[a.device_id]
    assert (mine["pending_reported"], mine["app_version"], mine["last_error"]) == (
        3,
        "0.2.0",
        "offline",
    )
    assert (mine["rejected"], mine["conflicts_open"]) == (1, 0)
    assert (devices[b.device_id]["rejected"], devices[b.device_id]["conflicts_open"]) == (0, 1)
    assert devices[b.device_id]["pending_reported"] is None  # b never reported
    assert mine["commune_name"] == "Xã Y Tý"
    assert devices[other.device_id]["commune_name"] == "Xã Khao Mang"
    assert mine["last_sync"] is not None and mine["clock_offset_ms"] is not None
    assert not mine["flagged_skew"] and mine["status"] == "active"
    only = console.call("devices.list", commune=KHAO_MANG)
    assert [d["device_id"] for d in only] == [other.device_id]
    a.sync(report={"pending": 0, "app_version": "0.2.1", "last_error": None})
    mine = {d["device_id"]: d for d in console.call("devices.list")}[a.device_id]
    assert (mine["pending_reported"], mine["app_version"], mine["last_error"]) == (
        0,
        "0.2.1",
        None,
    )


def test_a_code_from_the_console_enrols_a_pc_and_a_revoked_pc_is_told_why(
    server: SyncServer, client: Any, new_operator: NewOperator
) -> None:
    console = new_operator()
    issued = console.call("devices.issue_code", commune=Y_TY, ttl_hours=2)
    assert issued["commune"] == Y_TY
    assert issued["expires_at"] == pytest.approx(server.clock() + 2 * 3600_000, abs=5000)
    pc = FakeDevice(asgi_post(client), commune=Y_TY)
    pc.enrol(issued["code"])
    pc.sync()
    assert console.call("devices.revoke", device_id=pc.device_id, reason="PC bị mất trộm") is None
    with pytest.raises(SyncFailed) as refused:
        pc.sync()
    assert refused.value.status == 403
    assert refused.value.body == {"error": "device revoked: PC bị mất trộm", "code": "revoked"}
    [listed] = console.call("devices.list")
    assert (listed["status"], listed["status_reason"]) == ("revoked", "PC bị mất trộm")


def test_sync_health_covers_every_commune_of_the_province(
    server: SyncServer, new_device: NewDevice, new_operator: NewOperator
) -> None:
    t0 = 1_800_000_000_000
    server.clock = lambda: t0
    a, b, _rid = field_conflict(new_device)  # Y Tý: two PCs, one open conflict
    a.sync(report={"pending": 2, "app_version": "0.2.0", "last_error": None})
    b.sync(report={"pending": 5, "app_version": "0.2.0", "last_error": "timeout"})
    quiet = new_device(commune=KHAO_MANG)
    quiet.create(dict(BIRTH, **{"data.me_so_dinh_danh": "010199009999"}))
    quiet.sync()
    server.clock = lambda: t0 + STALE_MS - 1000
    a.sync()  # Y Tý synced within the day
    server.revoke(quiet.device_id, "thay máy mới")
    server.clock = lambda: t0 + STALE_MS + 1000
    health = new_operator().call("health.communes")
    codes = [c["commune"] for c in health]
    assert codes == [c.code for c in communes()] and len(codes) == 99
    by_code = {c["commune"]: c for c in health}
    y_ty = by_code[Y_TY]
    assert (y_ty["name"], y_ty["devices"], y_ty["stale"]) == ("Xã Y Tý", 2, False)
    assert y_ty["last_sync"] == t0 + STALE_MS - 1000
    assert (y_ty["conflicts_open"], y_ty["errors"], y_ty["pending"], y_ty["dossiers"]) == (
        1,
        1,  # b reported an error
        7,
        1,
    )
    khao_mang = by_code[KHAO_MANG]
    assert (khao_mang["devices"], khao_mang["stale"], khao_mang["errors"]) == (0, True, 1)
    assert khao_mang["dossiers"] == 1 and khao_mang["pending"] == 0
    never = next(c for c in health if c["commune"] not in (Y_TY, KHAO_MANG))
    assert (never["devices"], never["last_sync"], never["stale"]) == (0, None, True)
