"""The devices screen against the real server, with real commune PCs.

What provincial IT checks: every enrolled PC is listed by commune with what it reported at its
last sync (changes waiting, app version, clock offset — a wrong clock highlighted — and its
last error in words); a code issued from the screen is shown large with a QR code that scans to
that code, and the code enrols a new PC; a PC revoked from the screen with a reason is refused
at its next sync and its clerk reads why, in Vietnamese, in the sync indicator and panel.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import tkinter
import tkinter.font
from collections.abc import Callable
from typing import Any

import pytest
import ttkbootstrap as ttk

from desktop.sync.device_report import app_version
from desktop.sync.status import SyncState
from desktop.ui.console.devices import SKEW_BG
from desktop.ui.console.enrolment_code import CODE_FONT_SIZE
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.ui.conftest import screenshot
from tests.ui.console.conftest import COMMUNE, OTHER_COMMUNE, Device, ServerProcess, sync_all

pytestmark = pytest.mark.gui

REASON = "PC bị mất trộm"
TEN_MINUTES_AHEAD = 600.0


def _rows(screen: Any) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    tree = screen.tree
    return {
        tree.item(i, "values")[1]: (tuple(tree.item(i, "values")), tuple(tree.item(i, "tags")))
        for i in tree.get_children()
    }


def _decode_qr(canvas: tkinter.Canvas) -> str:
    """Photograph the QR canvas off the screen and decode it (as a phone would)."""
    import zxingcpp
    from PIL import ImageGrab

    x, y = canvas.winfo_rootx(), canvas.winfo_rooty()
    bbox = (x, y, x + canvas.winfo_width(), y + canvas.winfo_height())
    image = ImageGrab.grab(bbox=bbox, xdisplay=os.environ["DISPLAY"])
    found = zxingcpp.read_barcode(image)
    assert found is not None, "no QR code found on the screen"
    return str(found.text)


def test_devices_show_what_they_report_and_an_issued_code_enrols_a_new_one(
    server: ServerProcess,
    make_device: Callable[..., Device],
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    a = make_device(server, "a", commune=COMMUNE)
    b = make_device(
        server, "b", commune=OTHER_COMMUNE, clock=lambda: time.time() + TEN_MINUTES_AHEAD
    )
    a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    assert a.sync().ok  # reports the one change it had waiting
    server.stop()
    assert b.sync().error_code == "offline"
    server.start()
    assert b.sync().ok  # reports the "offline" it met

    screen = open_screen(console_shell, "devices")
    gui.wait_until(lambda: len(screen.tree.get_children()) == 2, 10)
    rows = _rows(screen)
    version = app_version() or "—"
    today = dt.date.today().strftime("%d/%m/%Y")
    # Sorted by commune: "Xã mã 02704" (a code the reference data does not know) before "Xã Y Tý".
    assert list(rows) == ["PC b", "PC a"]
    (commune, _, status, last, pending, shown_version, clock, trouble), tags = rows["PC a"]
    assert (commune, status, pending, shown_version, clock, trouble) == (
        "Xã Y Tý",
        "Đang dùng",
        "1",
        version,
        "đúng giờ",
        "—",
    )
    assert re.fullmatch(rf"{today} \d\d:\d\d", last) and "skew" not in tags
    b_cells, b_tags = rows["PC b"]
    assert b_cells[0] == "Xã mã 02704" and b_cells[3].startswith(today)
    assert b_cells[6] == "+10 phút" and b_cells[7] == "Mất kết nối"
    assert "skew" in b_tags and str(screen.tree.tag_configure("skew", "background")) == SKEW_BG
    screen.tree.selection_set(b.store.device_id)
    gui.wait_until(lambda: "nhanh 10 phút" in screen.detail.cget("text"))
    assert "Lỗi máy báo lần cuối: Mất kết nối." in screen.detail.cget("text")
    screen.tree.selection_set(a.store.device_id)  # b's row shows its highlight unselected
    gui.wait_until(lambda: "PC a" in screen.detail.cget("text"))
    gui.screenshot("console-devices")

    # The sync health screen opens it filtered to one commune.
    console_shell.navigate("devices", commune=COMMUNE)
    gui.wait_until(lambda: list(_rows(screen)) == ["PC a"], 10)
    assert screen.commune_box.get() == "Xã Y Tý"

    # A code for the filter's commune, shown large with a QR code that scans to it.
    gui.click(screen.issue_button)
    gui.wait_until(lambda: screen.pick_dialog is not None)
    assert screen.pick_dialog.commune == COMMUNE
    gui.wait_until(lambda: screen.pick_dialog.focus_get() is not None)
    gui.press_keys("Return")
    gui.wait_until(lambda: screen.code_dialog is not None, 10)
    dialog = screen.code_dialog
    code = dialog.code_label.cget("text")
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    font = tkinter.font.Font(font=dialog.code_label.cget("font"))
    assert font.actual("size") == CODE_FONT_SIZE >= 32 and font.metrics("fixed") == 1
    expires = (dt.datetime.now() + dt.timedelta(hours=72)).strftime("%d/%m/%Y")
    assert f"Hết hạn lúc {expires}" in dialog.expiry_label.cget("text")
    assert dialog.qr.side >= 200 and dialog.qr.quiet == 4
    gui.wait_until(dialog.qr.winfo_viewable)
    gui.pump(0.3)
    assert _decode_qr(dialog.qr) == code
    screenshot(dialog, "console-enrolment-code")
    gui.click(dialog.close_button)
    gui.wait_until(lambda: not dialog.winfo_exists())

    # The code enrols a new PC of that commune, which the screen then lists.
    c = make_device(server, "c", commune=COMMUNE, enrol=False)
    c.engine.enrol(server.url, code, label="PC c")
    sync_all(c, rounds=1)
    console_shell.refresh_current()
    gui.wait_until(lambda: list(_rows(screen)) == ["PC a", "PC c"], 10)
    assert _rows(screen)["PC c"][0][2] == "Đang dùng"


class _ClerkView(ttk.Toplevel):
    """What the revoked PC's clerk sees: the status bar's sync indicator and the sync panel."""

    def __init__(self, device: Device, tasks: Any) -> None:
        from desktop.ui.services import Clerk, Services
        from desktop.ui.settings import Settings
        from desktop.ui.sync_panel import SyncPanel
        from desktop.ui.widgets.sync_indicator import SyncIndicator

        super().__init__(title="Một Cửa Xã — máy của xã", size=(900, 460), position=(40, 60))
        bar = ttk.Frame(self, padding=(10, 4))
        bar.pack(side="bottom", fill="x")
        ttk.Label(bar, text="Cán bộ: Lò Thị Lan").pack(side="left")
        self.indicator = SyncIndicator(bar)
        self.indicator.pack(side="right")
        ttk.Separator(self).pack(side="bottom", fill="x")
        services = Services(
            store=device.store,
            tasks=tasks,
            settings=Settings(),
            sync=device.engine,  # type: ignore[arg-type]
            clerk=Clerk("lan", "Lò Thị Lan"),
        )
        self.panel = SyncPanel(self, services)
        self.panel.pack(fill="both", expand=True, padx=16, pady=12)
        status = device.engine.status()
        self.panel.on_sync_status(status)
        self.indicator.show(status)


def test_a_device_revoked_in_the_console_is_told_why_at_its_next_sync(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
    tasks: Any,
) -> None:
    a = make_device(server, "a", commune=COMMUNE)
    keep = make_device(server, "keep", commune=COMMUNE)
    sync_all(a, keep, rounds=1)
    screen = open_screen(console_shell, "devices")
    gui.wait_until(lambda: len(screen.tree.get_children()) == 2, 10)
    screen.tree.selection_set(a.store.device_id)
    gui.wait_until(lambda: str(screen.revoke_button.cget("state")) == "normal")

    gui.click(screen.revoke_button)
    gui.wait_until(lambda: screen.reason_dialog is not None)
    dialog = screen.reason_dialog
    assert "PC a" in dialog.body.winfo_children()[0].cget("text")
    gui.click(dialog.ok_button)  # no reason: refused
    assert "lý do" in dialog.error.cget("text") and dialog.winfo_exists()
    gui.type_text(dialog.entry, REASON)
    gui.click(dialog.ok_button)
    gui.wait_until(lambda: _rows(screen)["PC a"][0][2] == f"Đã thu hồi: {REASON}", 10)
    assert "revoked" in _rows(screen)["PC a"][1]
    assert _rows(screen)["PC keep"][0][2] == "Đang dùng"
    assert f"Lý do: {REASON}" in screen.message.cget("text")
    screen.tree.selection_set(a.store.device_id)
    gui.wait_until(lambda: "Máy sẽ bị từ chối" in screen.detail.cget("text"))
    assert str(screen.revoke_button.cget("state")) == "disabled"
    (info,) = [d for d in admin.devices(COMMUNE) if d["label"] == "PC a"]
    assert info["status"] == "revoked" and info["status_reason"] == REASON
    screen.tree.selection_set(keep.store.device_id)  # a's row shows its colour unselected
    gui.pump(0.1)
    gui.screenshot("console-devices-revoked")

    # The PC's next sync is refused, and its clerk is told why in Vietnamese.
    a.store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    report = a.sync()
    assert not report.ok and report.error_code == "revoked"
    assert keep.sync().ok
    status = a.engine.status()
    assert status.state is SyncState.REVOKED and status.pending == 1
    view = _ClerkView(a, tasks)
    gui.wait_until(view.winfo_viewable)
    assert view.indicator.text == "Máy đã bị thu hồi — liên hệ CNTT tỉnh"
    explained = view.panel.explanation.cget("text")
    assert "đã bị tỉnh thu hồi quyền đồng bộ" in explained
    assert f"Lý do: {REASON}." in explained and "hồ sơ trên máy vẫn còn nguyên" in explained
    history = view.panel.history_rows()
    assert history[0][1] == "Lỗi" and f"Lý do: {REASON}." in history[0][2]
    gui.pump(0.3)
    screenshot(view, "device-revoked")
    view.destroy()
