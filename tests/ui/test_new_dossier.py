"""The "Hồ sơ mới" screen on a real encrypted store: pick, fill, validate, duplicates, drafts."""

from __future__ import annotations

import pytest

from desktop.ui.dialogs import DuplicateReviewDialog
from desktop.ui.screen_dossier_detail import DossierDetailScreen
from desktop.ui.screen_new_dossier import DRAFT_PREFIX, NewDossierScreen
from tests.ui.dossier_support import (  # noqa: F401
    birth_data,
    shell,
    store,
    type_vietnamese,
    wait_dialog,
    wait_idle,
)

pytestmark = pytest.mark.gui


def open_new(gui, shell) -> NewDossierScreen:  # noqa: F811
    gui.focus(shell.nav_buttons["search"])
    gui.press_keys("ctrl+n")
    gui.wait_until(lambda: shell.current == "new_dossier")
    screen = shell.current_screen
    assert isinstance(screen, NewDossierScreen)
    return screen


def open_form(gui, screen: NewDossierScreen, code: str = "khai_sinh"):
    """Open a procedure's form and wait until it has the focus (as the clerk sees it)."""
    form = screen.open_form(code)
    gui.wait_until(lambda: gui.root.focus_get() == form.first_input())
    return form


def save_by_keyboard(gui, screen: NewDossierScreen) -> None:
    """Press Ctrl+S with the focus in the form, as a clerk does."""
    gui.focus(screen.form.first_input())
    gui.press_keys("ctrl+s")


def fill_birth(screen: NewDossierScreen, **overrides: str) -> None:
    assert screen.form is not None
    screen.form.set_values(birth_data(**overrides))


def test_ctrl_n_shows_the_procedures_and_key_1_opens_the_birth_form(gui, shell):  # noqa: F811
    screen = open_new(gui, shell)
    assert [b.cget("text").split("\n")[0] for b in screen.procedure_buttons.values()] == [
        "1. Đăng ký khai sinh",
        "2. Đăng ký khai tử",
        "3. Cấp Giấy xác nhận tình trạng hôn nhân",
        "4. Đăng ký kết hôn",
    ]
    gui.wait_until(lambda: gui.root.focus_get() == screen.procedure_buttons["khai_sinh"])
    gui.screenshot("new_dossier_picker")
    gui.press_keys("1")
    gui.wait_until(lambda: screen.form is not None)
    assert screen.procedure.code == "khai_sinh"
    gui.wait_until(lambda: gui.root.focus_get() == screen.form.first_input())
    gui.screenshot("new_dossier_form")


def test_save_registers_the_dossier_toasts_and_opens_its_detail(gui, shell, store, tasks):  # noqa: F811
    screen = open_new(gui, shell)
    open_form(gui, screen)
    fill_birth(screen)
    save_by_keyboard(gui, screen)
    gui.wait_until(lambda: shell.current == "dossier_detail", 10)
    assert shell.toasts[-1][0].startswith("Đã lưu hồ sơ")
    assert shell.toasts[-1][1] == "success"
    saved = screen.last_saved
    assert store.get_dossier(saved.id).dossier_no == saved.dossier_no
    detail = shell.current_screen
    assert isinstance(detail, DossierDetailScreen)
    assert detail.dossier_id == saved.id
    wait_idle(gui, tasks)
    assert not [d for d in store.list_drafts() if d.key.startswith(DRAFT_PREFIX)]
    assert screen.form is None  # the next Ctrl+N starts afresh


def test_invalid_form_is_not_saved_and_bad_field_gets_focus(gui, shell, store):  # noqa: F811
    screen = open_new(gui, shell)
    form = open_form(gui, screen)
    fill_birth(screen, nguoi_yeu_cau_so_dinh_danh="12345")
    save_by_keyboard(gui, screen)
    bad = form.rows["nguoi_yeu_cau_so_dinh_danh"]
    gui.wait_until(lambda: gui.root.focus_get() == bad.widget)
    assert "12" in bad.message.cget("text")  # says what a personal ID looks like
    assert screen.status.cget("text").startswith("Chưa lưu")
    assert store.count_dossiers() == 0
    gui.screenshot("new_dossier_validation_error")


def test_likely_duplicate_is_shown_and_the_clerk_decides(gui, shell, store, tasks):  # noqa: F811
    existing = store.register_dossier("khai_sinh", birth_data(me_so_dinh_danh="015190001234"))
    screen = open_new(gui, shell)
    open_form(gui, screen)
    fill_birth(screen, me_so_dinh_danh="015190001234")

    save_by_keyboard(gui, screen)
    dialog = wait_dialog(gui, lambda: screen.duplicate_dialog, 10)
    assert isinstance(dialog, DuplicateReviewDialog)
    rows = [dialog.tree.item(i, "values") for i in dialog.tree.get_children()]
    assert rows[0][0] == existing.dossier_no
    assert rows[0][1] == "Giàng A Xà"
    gui.screenshot("new_dossier_duplicate")
    gui.press_keys("Return")  # the default is the safe choice: back to the form
    gui.wait_until(lambda: screen.duplicate_dialog is None)
    assert store.count_dossiers() == 1
    assert screen.form is not None

    save_by_keyboard(gui, screen)
    gui.wait_until(lambda: screen.duplicate_dialog is not None, 10)
    gui.click(screen.duplicate_dialog.save_button)
    gui.wait_until(lambda: shell.current == "dossier_detail", 10)
    assert store.count_dossiers() == 2


def test_duplicate_review_can_open_the_existing_dossier(gui, shell, store):  # noqa: F811
    existing = store.register_dossier("khai_sinh", birth_data())
    screen = open_new(gui, shell)
    open_form(gui, screen)
    fill_birth(screen)
    screen.save()
    gui.wait_until(lambda: screen.duplicate_dialog is not None, 10)
    gui.click(screen.duplicate_dialog.open_button)
    gui.wait_until(lambda: shell.current == "dossier_detail")
    assert shell.current_screen.dossier_id == existing.id
    assert store.count_dossiers() == 1


def test_typing_saves_a_draft_that_the_picker_offers_again(gui, shell, store):  # noqa: F811
    screen = open_new(gui, shell)
    form = open_form(gui, screen)
    type_vietnamese(gui, form.rows["tre_ho"].widget, "Giàng")
    type_vietnamese(gui, form.rows["tre_ten"].widget, "Xà")
    assert form.get_data()["tre_ten"] == "Xà", form.get_data()
    gui.wait_until(lambda: any(d.data.get("tre_ten") == "Xà" for d in store.list_drafts()), 5)
    screen.close_form()
    tree = screen.drafts_tree
    assert len(tree.get_children()) == 1
    assert tree.item(tree.get_children()[0], "values")[1] == "Giàng Xà"
    gui.screenshot("new_dossier_drafts")
    gui.focus(tree)
    gui.press_keys("Return")
    gui.wait_until(lambda: screen.form is not None)
    assert screen.form.get_data()["tre_ho"] == "Giàng"
    assert screen.form.get_data()["tre_ten"] == "Xà"


def test_lock_saves_the_draft_at_once(gui, shell, store):  # noqa: F811
    screen = open_new(gui, shell)
    form = open_form(gui, screen)
    type_vietnamese(gui, form.rows["tre_ho"].widget, "Sùng")
    shell.lock()  # within the second: the draft must still be written
    assert any(d.data.get("tre_ho") == "Sùng" for d in store.list_drafts())


def test_failed_save_keeps_what_was_typed(gui, shell, store, monkeypatch):  # noqa: F811
    screen = open_new(gui, shell)
    open_form(gui, screen)
    fill_birth(screen)

    def broken(*args, **kwargs):
        raise OSError("đĩa đầy")

    monkeypatch.setattr(store, "register_prepared", broken)
    screen.save()
    gui.wait_until(lambda: shell.toasts and shell.toasts[-1][1] == "danger", 10)
    assert "Bản nháp vẫn được giữ" in shell.toasts[-1][0]
    assert "vẫn được giữ" in screen.status.cget("text")
    drafts = [d for d in store.list_drafts() if d.key == screen.draft_key]
    assert drafts and drafts[0].data["tre_ten"] == "Xà"
    assert screen.form is not None and screen.form.get_data()["tre_ten"] == "Xà"


def test_the_next_dossier_starts_from_an_empty_form(gui, shell, store, tasks):  # noqa: F811
    screen = open_new(gui, shell)
    form = open_form(gui, screen)
    fill_birth(screen)
    save_by_keyboard(gui, screen)
    gui.wait_until(lambda: shell.current == "dossier_detail", 10)
    wait_idle(gui, tasks)
    screen = open_new(gui, shell)
    again = open_form(gui, screen)
    assert again is form  # built once, reset for the next dossier
    data = again.get_data()
    assert "tre_ho" not in data and "nguoi_yeu_cau_ho_ten" not in data
    assert data["tre_quoc_tich"] == "Việt Nam"  # defaults are back
    assert not again.errors and not again.dirty


def test_saving_validates_once_in_the_store(gui, shell, store, monkeypatch):  # noqa: F811
    from desktop.forms import validation

    screen = open_new(gui, shell)
    form = open_form(gui, screen)
    fill_birth(screen, nguoi_yeu_cau_so_dinh_danh="12345")
    checks: list[str] = []
    validate = validation.validate

    def counted(procedure, data, **kwargs):
        checks.append(procedure.code)
        return validate(procedure, data, **kwargs)

    monkeypatch.setattr(validation, "validate", counted)
    screen.save()
    gui.wait_until(lambda: screen.status.cget("text").startswith("Chưa lưu"), 10)
    assert checks == ["khai_sinh"]  # the store's prepare_dossier, and nothing else
    bad = form.rows["nguoi_yeu_cau_so_dinh_danh"]
    assert "12" in bad.message.cget("text")
    gui.wait_until(lambda: gui.root.focus_get() == bad.widget)
