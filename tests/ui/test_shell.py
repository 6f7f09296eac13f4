"""The main window: navigation, shortcuts, status bar, sync indicator, lock, toasts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import ttkbootstrap as ttk

from desktop.sync.status import SyncState, SyncStatus
from desktop.ui.services import Clerk
from desktop.ui.settings import Settings
from desktop.ui.shell import SHORTCUTS, Shell
from tests.ui.fakes import FakeSync

pytestmark = pytest.mark.gui


class RecordingScreen(ttk.Frame):
    """A screen that records the hooks the shell calls."""

    def __init__(self, master, services, **kwargs) -> None:
        super().__init__(master)
        self.calls: list[tuple[str, dict]] = [("init", kwargs)]
        self.entry = ttk.Entry(self)
        self.entry.pack()
        ttk.Label(self, text=f"Màn hình {kwargs}").pack()

    def on_show(self, **kwargs) -> None:
        self.calls.append(("on_show", kwargs))

    def on_hide(self) -> None:
        self.calls.append(("on_hide", {}))

    def on_save(self) -> None:
        self.calls.append(("on_save", {}))

    def before_lock(self) -> None:
        self.calls.append(("before_lock", {}))


@pytest.fixture
def make_shell(root, tasks):
    shells: list[Shell] = []

    def make(sync=None, settings=None, on_lock=None, idle_check_ms=5000) -> Shell:
        shell = Shell(
            root,
            store=None,
            tasks=tasks,
            settings=settings or Settings(),
            clerk=Clerk("lan", "Nguyễn Thị Lan"),
            sync=sync,
            on_lock=on_lock,
            idle_check_ms=idle_check_ms,
            register_default_screens=False,
        )
        for name in ("dashboard", "new_dossier", "search", "dossier_detail", "sync", "settings"):
            shell.register_screen(name, RecordingScreen)
        shell.register_screen("help", _help_factory)
        shell.show()
        shells.append(shell)
        return shell

    yield make
    for shell in shells:
        if shell.winfo_exists():
            shell.destroy()


def _help_factory(master, services, **kwargs):
    from desktop.ui.help_screen import HelpScreen

    return HelpScreen(master, services, **kwargs)


def test_shell_opens_on_the_dashboard_with_clerk_and_sync_state_visible(gui, make_shell) -> None:
    shell = make_shell(sync=FakeSync(SyncStatus(state=SyncState.OFFLINE, pending=3)))
    gui.pump(0.1)
    assert shell.current == "dashboard"
    assert shell.title_label.cget("text") == "Bảng điều khiển"
    assert "Nguyễn Thị Lan" in shell.clerk_label.cget("text")
    assert shell.sync_indicator.text == "Ngoại tuyến · 3 chờ gửi"
    assert shell.sync_indicator.winfo_viewable()
    gui.screenshot("shell_dashboard_placeholder")


def test_clicking_the_navigation_opens_each_screen(gui, make_shell) -> None:
    shell = make_shell()
    gui.click(shell.nav_buttons["search"])
    gui.wait_until(lambda: shell.current == "search")
    assert shell.title_label.cget("text") == "Tìm kiếm"
    gui.click(shell.nav_buttons["settings"])
    gui.wait_until(lambda: shell.current == "settings")
    dashboard = shell.screen("dashboard")
    assert ("on_hide", {}) in dashboard.calls
    gui.click(shell.nav_buttons["dashboard"])
    gui.wait_until(lambda: shell.current == "dashboard")
    # Built once, shown twice: the screen keeps what the clerk typed.
    assert [c for c, _ in dashboard.calls].count("init") == 1
    assert [c for c, _ in dashboard.calls].count("on_show") == 2


def test_navigate_passes_kwargs_to_on_show(gui, make_shell) -> None:
    shell = make_shell()
    shell.navigate("dossier_detail", dossier_id="abc")
    shell.navigate("dashboard")
    shell.navigate("dossier_detail", dossier_id="xyz")
    screen = shell.screen("dossier_detail")
    shows = [kw for call, kw in screen.calls if call == "on_show"]
    assert shows == [{"dossier_id": "abc"}, {"dossier_id": "xyz"}]


def test_unknown_screen_shows_a_placeholder_instead_of_failing(gui, make_shell) -> None:
    shell = make_shell()
    shell.navigate("thong_ke")
    gui.pump()
    assert shell.current == "thong_ke"
    assert type(shell.current_screen).__name__ == "PlaceholderScreen"


def test_keyboard_shortcuts(gui, make_shell) -> None:
    sync = FakeSync()
    shell = make_shell(sync=sync)
    entry = shell.screen("dashboard").entry
    gui.focus(entry)
    gui.press_keys("ctrl+n")
    gui.wait_until(lambda: shell.current == "new_dossier")
    gui.press_keys("ctrl+f")
    gui.wait_until(lambda: shell.current == "search")
    search = shell.screen("search")
    gui.focus(search.entry)
    gui.press_keys("ctrl+s")
    gui.wait_until(lambda: ("on_save", {}) in search.calls)
    gui.press_keys("F5")
    gui.wait_until(lambda: sync.sync_now_calls == 1)
    gui.press_keys("F1")
    gui.wait_until(lambda: shell.current == "help")
    gui.screenshot("help")


def test_help_menu_lists_every_shortcut(gui, make_shell) -> None:
    shell = make_shell()
    menu = shell.help_menu
    listed = {
        menu.entrycget(i, "accelerator")
        for i in range(menu.index("end") + 1)
        if menu.type(i) == "command"
    }
    assert {keys for _seq, keys, _label in SHORTCUTS} <= listed


def test_ctrl_l_locks_after_screens_saved_their_drafts(gui, make_shell) -> None:
    locked: list[bool] = []
    shell = make_shell(on_lock=lambda: locked.append(True))
    shell.navigate("new_dossier")
    form = shell.screen("new_dossier")
    gui.focus(form.entry)
    gui.press_keys("ctrl+l")
    gui.wait_until(lambda: locked == [True])
    assert ("before_lock", {}) in form.calls
    assert shell.locked and not shell.winfo_ismapped()
    shell.show()
    gui.pump()
    assert shell.current == "new_dossier"  # unlocking returns to the open form


def test_idle_lock_after_the_configured_minutes(gui, make_shell) -> None:
    locked: list[bool] = []
    settings = Settings(idle_lock_minutes=0.5 / 60)  # half a second
    shell = make_shell(settings=settings, on_lock=lambda: locked.append(True), idle_check_ms=50)
    gui.wait_until(lambda: locked, timeout=3)
    assert shell.locked


def test_activity_postpones_the_idle_lock(gui, make_shell) -> None:
    locked: list[bool] = []
    settings = Settings(idle_lock_minutes=0.6 / 60)
    shell = make_shell(settings=settings, on_lock=lambda: locked.append(True), idle_check_ms=50)
    entry = shell.screen("dashboard").entry
    for _ in range(3):
        gui.type_text(entry, "a")
        gui.pump(0.3)
    assert locked == []
    gui.wait_until(lambda: locked, timeout=3)


def test_sync_status_published_from_a_thread_reaches_the_indicator(gui, make_shell) -> None:
    sync = FakeSync(SyncStatus(state=SyncState.SYNCED, last_sync=dt.datetime(2026, 11, 26, 9, 5)))
    shell = make_shell(sync=sync)
    assert shell.sync_indicator.text == "Đã đồng bộ lúc 09:05"
    sync.publish(SyncStatus(state=SyncState.SYNCING, progress=0.4, pending=12))
    gui.wait_until(lambda: shell.sync_indicator.text.startswith("Đang đồng bộ 40%"))
    gui.screenshot("shell_syncing")
    sync.publish(SyncStatus(state=SyncState.SYNCED, conflicts=2, clock_offset_s=900.0))
    gui.wait_until(lambda: "2 xung đột" in shell.sync_indicator.text)
    assert "Đồng hồ máy sai" in shell.sync_indicator.text
    assert shell.sync_indicator.bootstyle == "danger"


def test_long_task_shows_a_busy_indicator(gui, make_shell, tasks) -> None:
    shell = make_shell()
    gate = threading.Event()
    tasks.run(gate.wait, 10, description="Đang in giấy khai sinh")
    gui.wait_until(shell.busy_bar.winfo_ismapped, timeout=3)
    assert "Đang in giấy khai sinh" in shell.busy_label.cget("text")
    gui.screenshot("shell_busy")
    gate.set()
    gui.wait_until(lambda: not shell.busy_bar.winfo_ismapped(), timeout=3)


def test_failed_task_without_handler_is_told_to_the_clerk(gui, make_shell, tasks) -> None:
    shell = make_shell()

    def fail() -> None:
        raise OSError("máy in không trả lời")

    tasks.run(fail, description="In giấy biên nhận")
    gui.wait_until(lambda: shell.toasts)
    message, kind = shell.toasts[-1]
    assert kind == "danger"
    assert "In giấy biên nhận không thành công" in message and "thử lại" in message


def test_toast_is_shown_inside_the_window_and_hides_itself(gui, make_shell) -> None:
    shell = make_shell()
    shell.toast("Đã lưu hồ sơ KS-2026-0001")
    gui.pump(0.1)
    assert shell.toast_label.winfo_viewable()
    assert shell.toast_label.cget("text") == "Đã lưu hồ sơ KS-2026-0001"
    gui.screenshot("shell_toast")
    gui.wait_until(lambda: not shell.toast_label.winfo_ismapped(), timeout=5)


def test_f5_without_sync_tells_the_clerk_what_to_do(gui, make_shell) -> None:
    shell = make_shell(sync=None)
    gui.focus(shell.screen("dashboard").entry)
    gui.press_keys("F5")
    gui.wait_until(lambda: shell.toasts)
    assert "Cài đặt" in shell.toasts[-1][0]


def test_destroy_removes_global_shortcuts(gui, make_shell, root) -> None:
    shell = make_shell()
    shell.destroy()
    assert root.bind_all("<F5>") == ""
    assert root.bind_all("<Control-n>") == ""
