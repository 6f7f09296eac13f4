"""Sign-in per clerk, wrong then right password, lock and idle lock keeping the open form."""

from __future__ import annotations

from pathlib import Path

import pytest
import ttkbootstrap as ttk

from desktop.ui.session import AppSession
from desktop.ui.settings import Settings
from desktop.ui.sign_in import WRONG_PASSWORD, SignInScreen
from tests.ui.conftest import CLERK_PASSWORD, CLERK_USER

pytestmark = pytest.mark.gui


@pytest.fixture
def closed_profile(store, profile_dir: Path) -> Path:
    """A profile with clerk lan, plus a second clerk hoa; closed so it must be unlocked."""
    store.add_clerk("hoa", "matkhau2", "Hà Thị Hoa")
    store.close()
    return profile_dir


class DraftForm(ttk.Frame):
    """A stand-in form that saves its text as a draft before a lock, like the dossier form."""

    def __init__(self, master, services, **_kwargs) -> None:
        super().__init__(master)
        self.services = services
        self.entry = ttk.Entry(self, width=40)
        self.entry.pack()

    def before_lock(self) -> None:
        self.services.store.save_draft("form-1", "khai_sinh", {"tre_ten": self.entry.get()})


@pytest.fixture
def session(root, tasks, closed_profile):
    app = AppSession(root, closed_profile, tasks=tasks, idle_check_ms=50)
    app.start()
    yield app
    app.close()


def test_wrong_then_right_password(gui, session) -> None:
    screen = session.frame
    assert isinstance(screen, SignInScreen)
    assert session.state == "sign_in"
    gui.pump(0.1)
    gui.screenshot("sign_in_empty")
    gui.type_text(screen.username_box, CLERK_USER)
    gui.press_keys("Tab")
    gui.type_text(screen.password_entry, "saimatkhau")
    gui.press_keys("Return")
    gui.wait_until(lambda: screen.message.cget("text") == WRONG_PASSWORD, timeout=10)
    assert session.state == "sign_in"
    assert screen.password_var.get() == ""  # cleared, focus back on the password
    gui.wait_until(lambda: gui.root.focus_get() == screen.password_entry)
    gui.screenshot("sign_in_wrong_password")

    gui.type_text(screen.password_entry, CLERK_PASSWORD)
    gui.press_keys("Return")
    gui.wait_until(lambda: session.state == "shell", timeout=10)
    assert session.store.clerk == CLERK_USER
    assert "Nguyễn Thị Lan" in session.shell.clerk_label.cget("text")


def test_unknown_clerk_gets_the_same_message(gui, session) -> None:
    screen = session.frame
    screen.username_var.set("nobody")
    screen.password_var.set("x")
    screen.submit()
    gui.wait_until(lambda: screen.message.cget("text") == WRONG_PASSWORD, timeout=10)


def test_each_clerk_signs_in_with_their_own_password(gui, session) -> None:
    screen = session.frame
    gui.wait_until(lambda: screen.profile_loaded)
    assert set(screen.username_box.cget("values")) == {"lan", "hoa"}
    assert screen.commune_label.cget("text") == "Xã Khao Mang (04465)"
    screen.username_var.set("hoa")
    screen.password_var.set(CLERK_PASSWORD)  # lan's password does not open hoa's slot
    screen.submit()
    gui.wait_until(lambda: screen.message.cget("text") == WRONG_PASSWORD, timeout=10)
    screen.password_var.set("matkhau2")
    screen.submit()
    gui.wait_until(lambda: session.state == "shell", timeout=10)
    assert session.store.clerk == "hoa"


def _sign_in(gui, session, username=CLERK_USER, password=CLERK_PASSWORD) -> None:
    screen = session.frame
    screen.username_var.set(username)
    screen.password_var.set(password)
    screen.submit()
    gui.wait_until(lambda: session.state == "shell", timeout=10)


def test_idle_lock_keeps_the_open_form_and_its_draft(gui, session) -> None:
    _sign_in(gui, session)
    shell = session.shell
    shell.register_screen("new_dossier", DraftForm)
    shell.navigate("new_dossier")
    form = shell.screen("new_dossier")
    gui.type_text(form.entry, "Giàng A Páo")
    store = session.store

    session.settings.idle_lock_minutes = 0.6 / 60  # lock after 0.6 s without input
    gui.wait_until(lambda: session.state == "locked", timeout=5)
    lock_screen = session.frame
    assert isinstance(lock_screen, SignInScreen)
    assert lock_screen.username_var.get() == CLERK_USER  # pre-filled for the clerk
    assert not shell.winfo_ismapped()
    drafts = store.list_drafts()
    assert [d.data for d in drafts] == [{"tre_ten": "Giàng A Páo"}]
    gui.screenshot("sign_in_locked_idle")

    # A wrong password does not unlock; the right one brings back the same form.
    lock_screen.password_var.set("sai")
    lock_screen.submit()
    gui.wait_until(lambda: lock_screen.message.cget("text") == WRONG_PASSWORD, timeout=10)
    session.settings.idle_lock_minutes = 10
    gui.type_text(lock_screen.password_entry, CLERK_PASSWORD)
    gui.press_keys("Return")
    gui.wait_until(lambda: session.state == "shell", timeout=10)
    assert session.shell is shell and session.store is store
    assert shell.current == "new_dossier"
    assert shell.screen("new_dossier").entry.get() == "Giàng A Páo"


def test_ctrl_l_locks_and_another_clerk_can_take_over(gui, session) -> None:
    _sign_in(gui, session)
    first_store = session.store
    shell = session.shell
    gui.focus(shell.nav_buttons["dashboard"])
    gui.press_keys("ctrl+l")
    gui.wait_until(lambda: session.state == "locked")
    screen = session.frame
    screen.username_var.set("hoa")
    screen.password_var.set("matkhau2")
    screen.submit()
    gui.wait_until(lambda: session.state == "shell", timeout=10)
    assert session.store is not first_store and session.store.clerk == "hoa"
    assert "Hà Thị Hoa" in session.shell.clerk_label.cget("text")


def test_no_idle_lock_when_disabled(gui, root, tasks, closed_profile) -> None:
    settings = Settings.load(closed_profile)
    settings.idle_lock_minutes = 0
    settings.save()
    app = AppSession(root, closed_profile, tasks=tasks, idle_check_ms=20)
    app.start()
    try:
        _sign_in(gui, app)
        gui.pump(0.5)
        assert app.state == "shell"
    finally:
        app.close()


def test_a_single_clerk_is_filled_in(gui, root, tasks, store, profile_dir) -> None:
    store.close()
    app = AppSession(root, profile_dir, tasks=tasks)
    app.start()
    try:
        screen = app.frame
        # Before the first event is processed: a clerk who types at once types the password.
        assert screen.username_var.get() == CLERK_USER
        gui.wait_until(lambda: gui.root.focus_get() == screen.password_entry)
        gui.type_text(screen.password_entry, CLERK_PASSWORD)
        gui.press_keys("Return")
        gui.wait_until(lambda: app.state == "shell", timeout=10)
    finally:
        app.close()


def test_sync_is_built_off_the_tk_thread_and_attached(gui, root, tasks, closed_profile) -> None:
    import threading

    from desktop.sync.status import SyncState, SyncStatus
    from tests.ui.fakes import FakeSync

    built_on: list[threading.Thread] = []
    sync = FakeSync(SyncStatus(state=SyncState.OFFLINE, pending=4))

    def make_sync(store, settings, runner):
        built_on.append(threading.current_thread())
        return sync

    app = AppSession(root, closed_profile, tasks=tasks, make_sync=make_sync)
    app.start()
    try:
        _sign_in(gui, app)
        gui.wait_until(lambda: app.shell.sync_indicator.text == "Ngoại tuyến · 4 chờ gửi")
        assert built_on and built_on[0] is not threading.main_thread()
        assert app.shell.services.sync is sync
        sync.publish(SyncStatus(state=SyncState.SYNCED, pending=0))
        gui.wait_until(lambda: app.shell.sync_indicator.text == "Đã đồng bộ")
    finally:
        app.close()
