"""The installer's first-run wizard, completed with the keyboard in a real window.

A commune's PC (the default role) and provincial IT's console, the latter also against a real
``motcua-server`` process: the operator code typed in the wizard enrols the console in the
background.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.store import profile
from desktop.store.store import Store
from desktop.ui.first_run import FirstRunWizard, check_account, check_server
from desktop.ui.session import AppSession
from tests.sync.conftest import fast_kdf, sqlite_db, sqlite_server  # noqa: F401 - fixtures
from tests.ui.console.conftest import operator_code, server  # noqa: F401 - ``server`` fixture

pytestmark = pytest.mark.gui


@pytest.fixture
def session(root, tasks, tmp_path: Path):
    app = AppSession(root, tmp_path / "new-profile", tasks=tasks)
    app.start()
    yield app
    app.close()


def keep_the_commune_role(gui, wizard) -> None:
    """Press Enter on the first step («Vai trò»): the commune's PC is the default."""
    gui.wait_until(lambda: wizard.page == "role" and wizard.winfo_viewable())
    gui.focus(wizard.role_choice.buttons["commune"])
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.page == "commune")


def test_wizard_completes_by_keyboard_and_opens_the_dashboard(gui, session, tmp_path) -> None:
    wizard = session.frame
    assert isinstance(wizard, FirstRunWizard)
    keep_the_commune_role(gui, wizard)
    gui.wait_until(lambda: wizard.commune_entry.winfo_viewable())
    gui.screenshot("first_run_1_commune_empty")

    # Step 1: type part of the name without diacritics, go down into the list, Enter.
    gui.type_text(wizard.commune_entry, "mu cang")
    gui.wait_until(lambda: wizard.commune_list.size() >= 1)
    assert "Mù Cang Chải" in wizard.commune_list.get(0)
    gui.press_keys("Down", "Return")
    gui.wait_until(lambda: wizard.step == 2)
    assert wizard.commune.code == "04456"

    # Step 2: a bad address is refused, then both fields are skipped (optional).
    gui.type_text(wizard.server_entry, "dongbo laocai")
    gui.press_keys("Return")
    gui.wait_until(lambda: "https://" in wizard.message.cget("text"))
    assert wizard.step == 2
    gui.screenshot("first_run_2_server_error")
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(wizard.server_entry, "https://dongbo.laocai.example")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 3)

    # Step 3: the account, Tab between fields; a mismatched confirmation is caught.
    gui.type_text(wizard.account_entries["full_name"], "Nguyễn Thị Lan")
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["username"], "lan.nt")
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["password"], "matkhau1")
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["confirm"], "matkhau2")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.account_errors["confirm"].cget("text"))
    assert wizard.step == 3
    gui.screenshot("first_run_3_account_error")
    gui.focus(wizard.account_entries["confirm"])
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(wizard.account_entries["confirm"], "matkhau1")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 4)
    summary = wizard.summary.cget("text")
    assert "Xã Mù Cang Chải (04456)" in summary and "lan.nt" in summary
    gui.screenshot("first_run_4_summary")

    # Step 4: Enter creates the encrypted profile and opens the shell for the clerk.
    gui.press_keys("Return")
    gui.wait_until(lambda: session.state == "shell", timeout=20)
    shell = session.shell
    assert shell.current == "dashboard"
    assert "Nguyễn Thị Lan" in shell.clerk_label.cget("text")
    assert session.store.commune == "04456"
    assert (tmp_path / "new-profile" / "store.db").exists()
    assert session.store.config.server_url == "https://dongbo.laocai.example"
    gui.screenshot("first_run_5_done_dashboard")


def test_escape_goes_back_without_losing_what_was_typed(gui, session) -> None:
    wizard = session.frame
    keep_the_commune_role(gui, wizard)
    gui.type_text(wizard.commune_entry, "khao")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 2)
    gui.press_keys("Escape")
    gui.wait_until(lambda: wizard.step == 1)
    assert wizard.commune_var.get() == "khao"
    assert wizard.commune.name == "Xã Khao Mang"


def test_no_match_keeps_the_wizard_on_the_commune_step(gui, session) -> None:
    wizard = session.frame
    keep_the_commune_role(gui, wizard)
    gui.type_text(wizard.commune_entry, "zzzz")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.message.cget("text"))
    assert wizard.step == 1 and wizard.commune is None


def test_a_failed_creation_is_explained_and_can_be_retried(gui, root, tasks, tmp_path) -> None:
    attempts: list[int] = []

    def flaky_create(profile_dir, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("ổ đĩa đầy")
        from desktop.ui.first_run import default_create_store

        return default_create_store(profile_dir, **kwargs)

    app = AppSession(root, tmp_path / "p", tasks=tasks, create_store=flaky_create)
    app.start()
    try:
        wizard = app.frame
        wizard.next()  # the role step: the commune's PC
        wizard.commune_var.set("Khao Mang")
        wizard.next()
        wizard.next()
        wizard.account_vars["full_name"].set("Lò Văn Sơn")
        wizard.account_vars["username"].set("son")
        wizard.account_vars["password"].set("matkhau1")
        wizard.account_vars["confirm"].set("matkhau1")
        wizard.next()
        gui.wait_until(lambda: wizard.step == 4)
        wizard.next()
        gui.wait_until(lambda: "ổ đĩa đầy" in wizard.message.cget("text"))
        assert "thử lại" in wizard.message.cget("text")
        assert app.state == "first_run"
        wizard.next()
        gui.wait_until(lambda: app.state == "shell", timeout=20)
        assert len(attempts) == 2
    finally:
        app.close()


def fill_account(gui, wizard, full_name: str, username: str, password: str) -> None:
    """Type the account step's four fields, Tab between them, and press Enter."""
    gui.type_text(wizard.account_entries["full_name"], full_name)
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["username"], username)
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["password"], password)
    gui.press_keys("Tab")
    gui.type_text(wizard.account_entries["confirm"], password)
    gui.press_keys("Return")


def choose_the_province(gui, wizard) -> None:
    """On the role step, move with the arrows and the digits, ending on the province; Enter."""
    gui.wait_until(lambda: wizard.page == "role" and wizard.winfo_viewable())
    gui.focus(wizard.role_choice.buttons["commune"])
    assert wizard.step_label.cget("text") == "Bước 1/5: Vai trò"
    gui.press_keys("Down")
    gui.wait_until(lambda: wizard.role == "province")
    assert wizard.step_label.cget("text") == "Bước 1/4: Vai trò"  # no commune step
    gui.press_keys("Up")
    gui.wait_until(lambda: wizard.role == "commune")
    gui.press_keys("2")
    gui.wait_until(lambda: wizard.role == "province")
    assert gui.root.focus_get() is wizard.role_choice.buttons["province"]
    gui.screenshot("first-run-role")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.page == "server")


def test_the_province_role_makes_a_provincial_profile_without_a_commune(
    gui, session, tmp_path
) -> None:
    wizard = session.frame
    choose_the_province(gui, wizard)
    assert wizard.step_label.cget("text") == "Bước 2/4: Máy chủ tỉnh"
    assert wizard.server_label.cget("text") == "Địa chỉ máy chủ tỉnh"
    assert "motcua-server operator-code" in wizard.code_label.cget("text")
    gui.screenshot("first-run-province-server")
    gui.press_keys("Return")  # both optional: the console's "Kết nối máy chủ" connects later
    gui.wait_until(lambda: wizard.page == "account")
    assert "cán bộ CNTT tỉnh" in wizard.account_intro.cget("text")
    fill_account(gui, wizard, "Cán bộ CNTT Tỉnh", "tinh", "matkhau1")
    gui.wait_until(lambda: wizard.page == "summary")
    summary = wizard.summary.cget("text")
    assert "Máy của CNTT tỉnh" in summary and "Cán bộ CNTT:  Cán bộ CNTT Tỉnh" in summary
    assert "hồ sơ quản trị của CNTT tỉnh" in summary and "Xã/phường" not in summary
    gui.screenshot("first-run-province-summary")

    gui.press_keys("Return")
    gui.wait_until(lambda: session.state == "shell", timeout=20)
    from desktop.ui.console.shell import ConsoleShell

    shell = session.shell
    assert isinstance(shell, ConsoleShell) and shell.services.console is None
    assert shell.current == "connect"  # not enrolled: the console asks for the server first
    session.close()
    folder = tmp_path / "new-profile"
    assert profile.load_config(folder).role == "province"
    store = Store.open(folder, "tinh", "matkhau1")
    try:
        assert store.config.role == "province" and store.commune == ""
        assert [c.full_name for c in store.clerks()] == ["Cán bộ CNTT Tỉnh"]
    finally:
        store.close()


def test_the_operator_code_typed_in_the_wizard_enrols_the_console(
    gui,
    session,
    server,  # noqa: F811 - the fixture imported above
) -> None:
    wizard = session.frame
    code = operator_code(server)
    choose_the_province(gui, wizard)
    gui.type_text(wizard.server_entry, server.url)
    gui.press_keys("Tab")
    gui.type_text(wizard.code_entry, code)
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.page == "account")
    fill_account(gui, wizard, "Nguyễn Văn An", "an", "matkhau1")
    gui.wait_until(lambda: wizard.page == "summary")
    assert "kết nối với máy chủ tỉnh ngay sau khi tạo" in wizard.summary.cget("text")
    gui.press_keys("Return")

    gui.wait_until(lambda: session.state == "shell", timeout=20)
    shell = session.shell
    gui.wait_until(lambda: shell.services.console is not None, timeout=30)
    assert shell.services.console.server_url == server.url
    gui.wait_until(lambda: shell.current == "conflicts" and shell.current_screen, timeout=10)
    operators = json.loads(server.cli("operators", "--json"))
    assert [(o["operator_id"], o["name"], o["status"]) for o in operators] == [
        (session.store.device_id, "Nguyễn Văn An", "active")
    ]
    assert session.store.config.server_url == server.url
    gui.screenshot("first-run-province-enrolled")


def test_account_rules() -> None:
    assert check_account("lan.nt", "Nguyễn Thị Lan", "matkhau1", "matkhau1") == {}
    errors = check_account("Lan Nguyen", "Lan", "123", "123")
    assert set(errors) == {"username", "full_name", "password"}
    assert "confirm" in check_account("lan", "Nguyễn Lan", "matkhau1", "khac")


def test_server_rules() -> None:
    assert check_server("") == ""
    assert check_server("https://dongbo.laocai.gov.vn") == ""
    assert check_server("http://10.0.0.5:8080") == ""
    assert check_server("dongbo.laocai.gov.vn")
