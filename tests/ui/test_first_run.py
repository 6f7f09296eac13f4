"""The installer's first-run wizard, completed with the keyboard in a real window."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.ui.first_run import FirstRunWizard, check_account, check_server
from desktop.ui.session import AppSession

pytestmark = pytest.mark.gui


@pytest.fixture
def session(root, tasks, tmp_path: Path):
    app = AppSession(root, tmp_path / "new-profile", tasks=tasks)
    app.start()
    yield app
    app.close()


def test_wizard_completes_by_keyboard_and_opens_the_dashboard(gui, session, tmp_path) -> None:
    wizard = session.frame
    assert isinstance(wizard, FirstRunWizard)
    gui.wait_until(lambda: wizard.commune_entry.winfo_viewable())
    gui.screenshot("first_run_1_commune_empty")

    # Step 1: type part of the name without diacritics, go down into the list, Enter.
    gui.type_text(wizard.commune_entry, "mu cang")
    gui.wait_until(lambda: wizard.commune_list.size() >= 1)
    assert "Mù Cang Chải" in wizard.commune_list.get(0)
    gui.press_keys("Down", "Return")
    gui.wait_until(lambda: wizard.step == 1)
    assert wizard.commune.code == "04456"

    # Step 2: a bad address is refused, then both fields are skipped (optional).
    gui.type_text(wizard.server_entry, "dongbo laocai")
    gui.press_keys("Return")
    gui.wait_until(lambda: "https://" in wizard.message.cget("text"))
    assert wizard.step == 1
    gui.screenshot("first_run_2_server_error")
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(wizard.server_entry, "https://dongbo.laocai.example")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 2)

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
    assert wizard.step == 2
    gui.screenshot("first_run_3_account_error")
    gui.focus(wizard.account_entries["confirm"])
    gui.press_keys("ctrl+a", "BackSpace")
    gui.type_text(wizard.account_entries["confirm"], "matkhau1")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 3)
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
    gui.type_text(wizard.commune_entry, "khao")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.step == 1)
    gui.press_keys("Escape")
    gui.wait_until(lambda: wizard.step == 0)
    assert wizard.commune_var.get() == "khao"
    assert wizard.commune.name == "Xã Khao Mang"


def test_no_match_keeps_the_wizard_on_the_commune_step(gui, session) -> None:
    wizard = session.frame
    gui.type_text(wizard.commune_entry, "zzzz")
    gui.press_keys("Return")
    gui.wait_until(lambda: wizard.message.cget("text"))
    assert wizard.step == 0 and wizard.commune is None


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
        wizard.commune_var.set("Khao Mang")
        wizard.next()
        wizard.next()
        wizard.account_vars["full_name"].set("Lò Văn Sơn")
        wizard.account_vars["username"].set("son")
        wizard.account_vars["password"].set("matkhau1")
        wizard.account_vars["confirm"].set("matkhau1")
        wizard.next()
        gui.wait_until(lambda: wizard.step == 3)
        wizard.next()
        gui.wait_until(lambda: "ổ đĩa đầy" in wizard.message.cget("text"))
        assert "thử lại" in wizard.message.cget("text")
        assert app.state == "first_run"
        wizard.next()
        gui.wait_until(lambda: app.state == "shell", timeout=20)
        assert len(attempts) == 2
    finally:
        app.close()


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
