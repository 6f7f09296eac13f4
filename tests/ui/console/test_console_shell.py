"""The console's window: a provincial profile signs in to the console, connects, keeps its habits.

What provincial IT would check: signing in on a provincial profile opens the console (not the
clerk's dashboard); before it is connected every screen leads to "Kết nối máy chủ"; a wrong code
is refused in Vietnamese and changes nothing; the right operator code from the real server
connects it and opens the conflict inbox; the shortcuts move between screens; Ctrl+L locks and
the same shell comes back; the next start opens the console already connected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.console.enrolment import is_enrolled
from desktop.store.store import Store
from desktop.ui.console.connect import ConnectScreen
from desktop.ui.console.shell import ConsoleShell
from desktop.ui.session import AppSession
from tests.console.conftest import OPERATOR, PASSWORD
from tests.ui.console.conftest import ServerProcess, operator_code

pytestmark = pytest.mark.gui


@pytest.fixture
def province_dir(province: Store, tmp_path: Path) -> Path:
    """The provincial profile, closed (the session opens it with the password)."""
    province.close()
    return tmp_path / "province"


def sign_in(gui, session: AppSession) -> None:
    screen = session.frame
    screen.username_var.set("an")
    screen.password_var.set(PASSWORD)
    screen.submit()
    gui.wait_until(lambda: session.state == "shell", timeout=10)


def test_a_provincial_profile_connects_with_an_operator_code_and_keeps_it(
    gui, root, tasks, province_dir: Path, server: ServerProcess
) -> None:
    session = AppSession(root, province_dir, tasks=tasks, idle_check_ms=50)
    session.start()
    try:
        sign_in(gui, session)
        shell = session.shell
        assert isinstance(shell, ConsoleShell)
        assert OPERATOR in shell.clerk_label.cget("text")
        assert shell.current == "connect"  # not enrolled yet: the inbox cannot load
        assert shell.server_label.cget("text") == "Chưa kết nối máy chủ tỉnh"
        shell.navigate("statistics")
        assert shell.current == "connect"
        screen = shell.current_screen
        assert isinstance(screen, ConnectScreen)

        gui.type_text(screen.url_entry, server.url)
        gui.type_text(screen.code_entry, "AAAAA-AAAAA")
        gui.press_keys("Return")
        gui.wait_until(lambda: not screen.working and screen.message.cget("text"), 15)
        assert "không đúng" in screen.message.cget("text")
        assert not is_enrolled(session.store)

        screen.code_entry.delete(0, "end")
        gui.type_text(screen.code_entry, operator_code(server))
        gui.press_keys("Return")
        gui.wait_until(lambda: shell.current == "conflicts", 15)
        assert shell.services.console is not None
        assert shell.server_label.cget("text") == f"Máy chủ tỉnh: {server.url}"
        operators = json.loads(server.cli("operators", "--json"))
        assert [o["name"] for o in operators] == [OPERATOR]
        gui.screenshot("console-connected")

        for keys, name in (
            ("ctrl+3", "devices"),
            ("ctrl+5", "statistics"),
            ("ctrl+1", "conflicts"),
        ):
            gui.focus(shell.nav_buttons["help"])
            gui.press_keys(keys)
            gui.wait_until(lambda name=name: shell.current == name)

        gui.press_keys("ctrl+l")
        gui.wait_until(lambda: session.state == "locked")
        sign_in(gui, session)
        assert session.shell is shell and shell.current == "conflicts"
    finally:
        session.close()

    again = AppSession(root, province_dir, tasks=tasks)
    again.start()
    try:
        sign_in(gui, again)
        assert isinstance(again.shell, ConsoleShell)
        assert again.shell.current == "conflicts" and again.shell.services.console is not None
    finally:
        again.close()


def test_the_console_locks_when_idle(gui, root, tasks, province_dir: Path) -> None:
    from desktop.ui.settings import Settings

    settings = Settings.load(province_dir)
    settings.idle_lock_minutes = 0.02
    settings.save()
    session = AppSession(root, province_dir, tasks=tasks, idle_check_ms=50)
    session.start()
    try:
        sign_in(gui, session)
        assert isinstance(session.shell, ConsoleShell)
        gui.wait_until(lambda: session.state == "locked", 10)
        assert session.frame.commune_label.cget("text") in ("", "Quản trị của CNTT tỉnh")
        gui.wait_until(lambda: session.frame.commune_label.cget("text"), 5)
        assert session.frame.commune_label.cget("text") == "Quản trị của CNTT tỉnh"
        gui.screenshot("console-locked")
    finally:
        session.close()
