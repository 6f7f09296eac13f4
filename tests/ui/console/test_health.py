"""The sync health screen against the real server, with real commune PCs.

Two PCs of Xã Y Tý and one of Xã Khao Mang register dossiers and sync with a real
``motcua-server``; the two Y Tý PCs edit one birth offline (a conflict) and provincial IT
revokes one of them (an error); the Khao Mang PC then goes quiet for two days with changes
unsent (its last sync is moved back in the server's database: nothing else can age a sync).
What provincial IT checks on "Tình trạng đồng bộ": all 99 communes are listed, the two with PCs
with what they did and the rest as never synced; the summary line counts the problems; the
most urgent communes come first and problem rows are coloured; a heading sorts (again
reverses, an arrow says which); "Chỉ xã có vấn đề" leaves the two; Enter opens the commune's
devices; F5 shows a commune that synced again as fine, and says so when the server is down.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest

from desktop.forms.reference import communes
from desktop.forms.vietnamese import collation_key
from desktop.ui.console.health import SyncHealthScreen
from tests.forms.samples import DEATH, MARRIAGE, RECEIVED
from tests.store.factory import birth
from tests.ui.console.conftest import COMMUNE, Device, ServerProcess, sync_all

pytestmark = pytest.mark.gui

Y_TY, KHAO_MANG = COMMUNE, "04465"
DAY_MS = 24 * 3600 * 1000


def _went_quiet(server: ServerProcess, device: Device, *, days: int, pending: int) -> int:
    """Move the device's last sync ``days`` back, with ``pending`` changes reported unsent."""
    assert server.db.path is not None, "the console GUI tests run on SQLite"
    last = int(time.time() * 1000) - days * DAY_MS
    with sqlite3.connect(server.db.path, timeout=10) as conn:
        conn.execute(
            "UPDATE devices SET last_sync = ?, last_seen = ?, pending_reported = ? "
            "WHERE device_id = ?",
            (last, last, pending, device.store.device_id),
        )
    return last


def _province_with_two_communes(
    server: ServerProcess, make_device: Callable[..., Device], admin: Any
) -> tuple[Device, Device, Device, int]:
    a, a2 = make_device(server, "a", commune=Y_TY), make_device(server, "a2", commune=Y_TY)
    b = make_device(server, "b", commune=KHAO_MANG)
    first = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    a.store.register_dossier("khai_tu", DEATH, received_at=RECEIVED)
    b.store.register_dossier("ket_hon", MARRIAGE, received_at=RECEIVED)
    sync_all(a, a2, b, rounds=1)
    a.store.update_dossier(first.id, {"tre_noi_sinh": "Bệnh viện Đa khoa Bắc Hà"})
    a2.store.update_dossier(first.id, {"tre_noi_sinh": "Tại nhà, bản Hồ Bốn"})
    assert a.sync().applied == 1
    assert a2.sync().conflicts == 1
    assert a.sync().ok  # its last report: nothing waiting
    admin.revoke(a2.store.device_id, "PC hỏng ổ cứng")
    quiet_since = _went_quiet(server, b, days=2, pending=5)
    return a, a2, b, quiet_since


def _loaded(screen: SyncHealthScreen) -> bool:
    return not screen.loading and len(screen.tree.get_children()) > 0


def _by_commune(screen: SyncHealthScreen) -> dict[str, tuple[str, ...]]:
    return {iid: tuple(screen.tree.item(iid, "values")) for iid in screen.tree.get_children()}


def _click_heading(gui: Any, tree: Any, column: str) -> None:
    """Click the middle of a column heading (the heading row is the tree's first 20 px)."""
    columns = list(tree["columns"])
    x = sum(int(tree.column(c, "width")) for c in columns[: columns.index(column)])
    x += int(tree.column(column, "width")) // 2
    assert tree.identify_region(x, 8) == "heading"
    tree.event_generate("<ButtonPress-1>", x=x, y=8)
    tree.event_generate("<ButtonRelease-1>", x=x, y=8)
    gui.pump()


def test_every_commune_is_listed_with_its_problems_most_urgent_first(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    _a, _a2, _b, quiet_since = _province_with_two_communes(server, make_device, admin)
    screen = open_screen(console_shell, "health")
    assert isinstance(screen, SyncHealthScreen)
    gui.wait_until(lambda: _loaded(screen), 10)

    rows = _by_commune(screen)
    assert set(rows) == {c.code for c in communes()} and len(rows) == 99
    y_ty = rows[Y_TY]
    assert y_ty[:2] == ("Xã Y Tý", "1")  # the revoked PC no longer counts
    assert y_ty[2] != "chưa bao giờ" and y_ty[3] == "—"
    assert y_ty[4:] == ("1", "1", "0", "2")  # one conflict, one PC in error, 2 dossiers
    quiet = dt.datetime.fromtimestamp(quiet_since / 1000).strftime("%d/%m/%Y %H:%M")
    assert rows[KHAO_MANG] == ("Xã Khao Mang", "1", quiet, "✓", "0", "0", "5", "1")
    others = [values for code, values in rows.items() if code not in (Y_TY, KHAO_MANG)]
    assert {values[1:] for values in others} == {("0", "chưa bao giờ", "✓", "0", "0", "0", "0")}
    assert screen.summary_label.cget("text") == (
        "1 xã quá một ngày chưa đồng bộ · 1 xã có xung đột · 1 xã có lỗi · 5 thay đổi chờ gửi"
    )
    assert "97 xã chưa có máy nào đồng bộ" in screen.coverage_label.cget("text")
    assert "Máy chủ đang giữ 3 hồ sơ" in screen.coverage_label.cget("text")
    assert screen.updated_label.cget("text").startswith("Cập nhật lúc ")

    # Most urgent first: the commune with an error (and a conflict), then the quiet one.
    order = list(screen.tree.get_children())
    assert order[:2] == [Y_TY, KHAO_MANG]
    names = [rows[code][0] for code in order[2:]]
    assert names == sorted(names, key=collation_key)  # Vietnamese order
    assert screen.tree.item(Y_TY, "tags") == ("danger",)
    assert screen.tree.item(KHAO_MANG, "tags") == ("warning",)
    assert screen.sort_box.get() == "Cần xử lý trước"
    gui.screenshot("console-health")

    # "Chỉ xã có vấn đề": the two communes; again: all of them.
    gui.click(screen.problems_box)
    gui.wait_until(lambda: len(screen.tree.get_children()) == 2)
    assert list(screen.tree.get_children()) == [Y_TY, KHAO_MANG]
    assert screen.count_label.cget("text") == "2 xã có vấn đề trên 99 xã"
    gui.click(screen.problems_box)
    gui.wait_until(lambda: len(screen.tree.get_children()) == 99)

    # The server is down: F5 says so in Vietnamese and keeps what was shown.
    server.stop()
    screen.refresh()
    gui.wait_until(lambda: not screen.loading, 15)
    assert screen.error_label.winfo_ismapped()
    assert screen.error_label.cget("text").startswith("Không kết nối được máy chủ tỉnh.")
    assert len(screen.tree.get_children()) == 99
    server.start()
    screen.refresh()
    gui.wait_until(lambda: not screen.loading and not screen.error_label.winfo_ismapped(), 15)


def test_a_heading_sorts_again_reverses_and_enter_opens_the_devices(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _a, _a2, b, _quiet = _province_with_two_communes(server, make_device, admin)
    screen = open_screen(console_shell, "health")
    gui.wait_until(lambda: _loaded(screen), 10)
    tree = screen.tree

    _click_heading(gui, tree, "dossiers")  # most dossiers first
    assert list(tree.get_children())[:2] == [Y_TY, KHAO_MANG]
    assert tree.heading("dossiers", "text") == "Hồ sơ ▼"
    assert screen.sort_box.get() == "Hồ sơ"
    _click_heading(gui, tree, "dossiers")  # again: fewest first
    assert list(tree.get_children())[-2:] == [KHAO_MANG, Y_TY]
    assert tree.heading("dossiers", "text") == "Hồ sơ ▲"
    _click_heading(gui, tree, "name")
    names = [tree.item(i, "values")[0] for i in tree.get_children()]
    assert names == sorted(names, key=collation_key) and tree.heading("name", "text") == "Xã ▲"
    assert tree.heading("dossiers", "text") == "Hồ sơ"
    # The same from the keyboard: the "Sắp xếp theo" box.
    screen.sort_box.set("Lần đồng bộ cuối")
    screen.sort_box.event_generate("<<ComboboxSelected>>")
    gui.pump()
    order = list(tree.get_children())
    assert order[-2:] == [KHAO_MANG, Y_TY]  # never synced first, the latest sync last
    assert tree.heading("last_sync", "text") == "Lần đồng bộ cuối ▲"

    # Enter on a commune opens its devices.
    opened: list[tuple[str, dict[str, Any]]] = []
    navigate = console_shell.services.navigate
    devices_screen = importlib.util.find_spec("desktop.ui.console.devices") is not None

    def recording(name: str, **kwargs: Any) -> None:
        opened.append((name, kwargs))
        if devices_screen:  # the devices screen is another helper's: use it when it is there
            navigate(name, **kwargs)

    monkeypatch.setattr(console_shell.services, "navigate", recording)
    tree.selection_set(KHAO_MANG)
    tree.focus(KHAO_MANG)
    gui.focus(tree)
    gui.press_keys("Return")
    gui.wait_until(lambda: opened)
    assert opened == [("devices", {"commune": KHAO_MANG})]
    if devices_screen:
        gui.wait_until(lambda: console_shell.current == "devices")

    # Khao Mang's PC syncs again: F5 shows it fine.
    console_shell.navigate("health")
    gui.wait_until(lambda: _loaded(screen), 10)
    assert b.sync().ok
    gui.focus(tree)
    gui.press_keys("F5")
    gui.wait_until(lambda: not screen.loading and _by_commune(screen)[KHAO_MANG][3] == "—", 10)
    assert screen.summary_label.cget("text").startswith("0 xã quá một ngày chưa đồng bộ")
    assert not screen.tree.item(KHAO_MANG, "tags")  # no colour: nothing wrong
