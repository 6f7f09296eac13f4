"""The console demo: commune PCs, a conflict and a duplicate on the server, an enrolled console."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.demo.devices import DemoDevice, open_device, provincial_server
from desktop.demo.dossiers import DEMO_COMMUNE, DEMO_PASSWORD, DEMO_USER, demo_birth

if TYPE_CHECKING:
    from server.embedded import RunningServer

log = logging.getLogger(__name__)


CONSOLE_PROFILE = "demo-console-profile"
CONSOLE_USER = CONSOLE_PASSWORD = "tinh"
CONSOLE_FULL_NAME = "Cán bộ CNTT Tỉnh"
DEVICES_DIR = "demo-devices"
SECOND_COMMUNE = "04456"  # Xã Mù Cang Chải, tỉnh Lào Cai


def make_field_conflict(demo: DemoDevice, other: DemoDevice) -> None:
    """Let two PCs of one commune edit the same dossier's fields offline, then sync."""
    received = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=3)
    dossier = other.store.register_dossier(
        "khai_sinh", demo_birth(41), received_at=received, allow_duplicate=True
    )
    other.sync()
    demo.sync()  # the demo PC now holds the dossier too
    place, phone = "tre_noi_sinh", "nguoi_yeu_cau_dien_thoai"
    demo.store.update_dossier(
        dossier.id, {place: "Bệnh viện Đa khoa khu vực Nghĩa Lộ", phone: "0987000111"}
    )
    other.store.update_dossier(dossier.id, {place: "Tại nhà, bản Hồ Bốn", phone: "0987000222"})
    other.sync()
    demo.sync()  # the second edit of the same fields: a conflict for provincial IT


def make_duplicate_birth(demo: DemoDevice, elsewhere: DemoDevice) -> None:
    """Register the same birth in two communes, each syncing: a duplicate for provincial IT."""
    data = demo_birth(77)
    received = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=2)
    demo.store.register_dossier("khai_sinh", data, received_at=received, allow_duplicate=True)
    demo.sync()
    later = received + dt.timedelta(minutes=40)
    elsewhere.store.register_dossier("khai_sinh", data, received_at=later, allow_duplicate=True)
    elsewhere.sync()


def prepare_server_material(demo_profile: Path, server: RunningServer) -> dict[str, int]:
    """Make the console's conflict and duplicate unless the server holds those kinds already.

    The demo PC and a second Khao Mang PC make the field conflict; the demo PC and a PC of
    Xã Mù Cang Chải the duplicate (both under ``demo-devices``); then every PC syncs.

    Returns:
        The server's open conflicts by kind (``field``, ``duplicate``, …).
    """
    devices: list[DemoDevice] = []
    try:
        others = demo_profile.parent / DEVICES_DIR
        for folder, commune, label in (
            (demo_profile, DEMO_COMMUNE, "Máy một cửa Khao Mang"),
            (others / "xa-khao-mang-may-2", DEMO_COMMUNE, "Máy một cửa Khao Mang số 2"),
            (others / "xa-mu-cang-chai", SECOND_COMMUNE, "Máy một cửa Mù Cang Chải"),
        ):
            devices.append(open_device(folder, commune, server, label))
        demo, second, elsewhere = devices
        kinds = {row["kind"] for row in provincial_server(server).conflicts(None)}
        if "field" not in kinds:
            make_field_conflict(demo, second)
        if "duplicate" not in kinds:
            make_duplicate_birth(demo, elsewhere)
        for _round in range(2):  # what each PC wrote reaches the server and the other PCs
            for device in devices:
                device.sync()
    finally:
        for device in devices:
            device.close()
    open_kinds = [row["kind"] for row in provincial_server(server).conflicts("open")]
    return {kind: open_kinds.count(kind) for kind in set(open_kinds)}


def ensure_console_profile(folder: Path) -> bool:
    """Create the provincial demo profile ("tinh" / "tinh") unless it exists; True when made."""
    from desktop.store import profile
    from desktop.store.store import Store

    if profile.exists(folder):
        return False
    Store.create(
        folder,
        commune="",
        username=CONSOLE_USER,
        password=CONSOLE_PASSWORD,
        full_name=CONSOLE_FULL_NAME,
        role=profile.ROLE_PROVINCE,
    ).close()
    return True


def enrol_console(folder: Path, server: RunningServer) -> bool:
    """Enrol the provincial demo profile as an operator unless the server knows it; True if now."""
    from desktop.console.enrolment import enrol_operator, is_enrolled
    from desktop.store.store import Store

    provincial = provincial_server(server)
    store = Store.open(folder, CONSOLE_USER, CONSOLE_PASSWORD)
    try:
        active = {o["operator_id"] for o in provincial.operators() if o["status"] == "active"}
        if is_enrolled(store) and store.device_id in active:
            if store.config.server_url != server.url:  # the same database on another port
                store.update_config(server_url=server.url)
            return False
        code = provincial.issue_operator_code(CONSOLE_FULL_NAME)["code"]
        enrol_operator(store, server.url, code, label="Máy trình diễn CNTT tỉnh")
        return True
    finally:
        store.close()


def prepare_console_demo(demo_profile: Path, server: RunningServer | None) -> Path:
    """Prepare the console demo (see the module docstring); return the console's profile.

    A failure is told on the console and the demo goes on: the console then opens without
    the server or without the material, as on a real first day.
    """
    console_dir = demo_profile.parent / CONSOLE_PROFILE
    created = ensure_console_profile(console_dir)
    if server is None:
        print("Không có máy chủ nhúng: bảng quản trị mở mà chưa kết nối máy chủ tỉnh.")
    else:
        try:
            waiting = prepare_server_material(demo_profile, server)
            print(
                f"Chờ CNTT tỉnh trên máy chủ nhúng: {waiting.get('field', 0)} xung đột giữa hai "
                f"máy của xã, {waiting.get('duplicate', 0)} hồ sơ khai sinh nghi trùng."
            )
        except Exception as exc:  # the console's screens show whatever the server holds
            log.exception("console demo material failed")
            print(f"Chưa tạo được xung đột và hồ sơ trùng trình diễn ({exc}).")
        try:
            if enrol_console(console_dir, server):
                print(f"Đã đăng ký bảng quản trị với máy chủ tỉnh nhúng tại {server.url}")
        except Exception as exc:
            log.exception("console demo enrolment failed")
            print(f"Chưa đăng ký được bảng quản trị với máy chủ nhúng ({exc}).")
    print("=" * 60)
    print(f"Bảng quản trị CNTT tỉnh: {console_dir}{' (mới tạo)' if created else ''}")
    print(f"Đăng nhập:  tên «{CONSOLE_USER}», mật khẩu «{CONSOLE_PASSWORD}»")
    others = demo_profile.parent / DEVICES_DIR
    print(f"Các máy xã trình diễn khác: {others} (tên «{DEMO_USER}», mật khẩu «{DEMO_PASSWORD}»)")
    print("=" * 60)
    return console_dir
