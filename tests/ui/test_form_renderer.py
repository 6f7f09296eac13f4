"""The generic form renderer: every procedure's form from its declaration, driven by keys."""

from __future__ import annotations

import datetime as dt

import pytest
import ttkbootstrap as ttk

from desktop.forms.fields import FieldKind
from desktop.forms.procedures import all_procedures, get_procedure
from desktop.ui.form_renderer import FormRenderer
from desktop.ui.form_widgets import DateInput, SearchCombobox
from tests.ui.dossier_support import MOTHER_QR, type_vietnamese, wait_dialog

pytestmark = pytest.mark.gui

TODAY = dt.date(2025, 3, 25)


@pytest.fixture
def make_form(root):
    """Build a FormRenderer for a procedure in the session window; record saves and drafts."""

    def make(code: str = "khai_sinh", **kwargs) -> FormRenderer:
        form = FormRenderer(
            root,
            get_procedure(code),
            on_save=lambda: form.saves.append(form.get_data()),  # type: ignore[attr-defined]
            on_draft=lambda data: form.drafts.append(data),  # type: ignore[attr-defined]
            today=lambda: TODAY,
            **kwargs,
        )
        form.saves = []  # type: ignore[attr-defined]
        form.drafts = []  # type: ignore[attr-defined]
        form.pack(fill="both", expand=True)
        root.update()
        return form

    return make


@pytest.mark.parametrize("code", [p.code for p in all_procedures()])
def test_every_procedure_renders_its_sections_and_fields_in_paper_order(gui, make_form, code):
    procedure = get_procedure(code)
    form = make_form(code)

    titles = [frame.cget("text") for frame in form.section_frames.values()]
    assert titles == [s.title for s in procedure.sections]
    assert list(form.rows) == list(procedure.field_names)
    for name, row in form.rows.items():
        field = procedure.field(name)
        assert row.label.cget("text").startswith(field.label)
        assert row.label.cget("text").endswith(" *") == field.required
        if field.kind is FieldKind.DATE:
            assert isinstance(row.input, DateInput)
        if field.kind in (FieldKind.ETHNICITY, FieldKind.PROVINCE, FieldKind.SEX):
            assert isinstance(row.input, SearchCombobox)

    # Tab visits the inputs in declaration order (scan entries sit before their person).
    names = [form._name_of[str(w)] for w in form.tab_order()]
    fields_only = [n for n in names if not n.startswith("scan:")]
    assert fields_only == [f.name for f in procedure.fields if not f.read_only]
    gui.screenshot(f"form_{code}")


def test_tab_key_moves_through_the_form_in_paper_order(gui, make_form):
    form = make_form("khai_sinh")
    order = form.tab_order()
    gui.focus(order[0])
    visited = [form._name_of[str(gui.root.focus_get())]]
    for _ in range(6):
        gui.press_keys("Tab")
        visited.append(form._name_of[str(gui.root.focus_get())])
    assert visited == [form._name_of[str(w)] for w in order[:7]]
    assert visited[0] == "scan:nguoi_yeu_cau"
    assert visited[1:5] == [
        "nguoi_yeu_cau_ho_ten",
        "nguoi_yeu_cau_so_dinh_danh",
        "nguoi_yeu_cau_cu_tru",
        "nguoi_yeu_cau_quan_he",
    ]


def test_date_is_typed_dd_mm_yyyy_and_birth_date_in_words_is_filled(gui, make_form):
    form = make_form("khai_sinh")
    born = form.rows["tre_ngay_sinh"]
    words = form.rows["tre_ngay_sinh_bang_chu"]
    gui.type_text(born.widget, "5/3/2025")
    assert words.input.get() == "Ngày năm tháng ba năm hai nghìn không trăm hai mươi lăm"
    gui.press_keys("Tab")
    assert born.input.get() == "05/03/2025"
    assert form.get_data()["tre_ngay_sinh"] == "2025-03-05"
    # Read-only, out of the Tab order.
    assert str(words.input.cget("state")) == "readonly"
    assert words.widget not in form.tab_order()
    form.set_date_words_style(mung=True, zero_tens="lẻ")
    assert words.input.get().startswith("Ngày mùng năm tháng ba năm hai nghìn")


def test_impossible_date_gets_a_red_message_under_the_field(gui, make_form):
    form = make_form("khai_sinh")
    born = form.rows["tre_ngay_sinh"]
    gui.type_text(born.widget, "31/02/2025")
    gui.press_keys("Tab")
    gui.wait_until(lambda: "không có thật" in born.message.cget("text"))
    assert "danger" in str(born.message.cget("style")).lower()
    assert form.rows["tre_ngay_sinh_bang_chu"].input.get() == ""


def test_dropdowns_search_as_you_type_without_diacritics(gui, make_form):
    form = make_form("khai_sinh")
    ethnic = form.rows["tre_dan_toc"]
    gui.type_text(ethnic.widget, "mong")
    assert "Mông" in ethnic.input.cget("values")
    assert len(ethnic.input.cget("values")) < 5
    gui.press_keys("Tab")
    assert ethnic.input.get() == "Mông"
    assert form.get_data()["tre_dan_toc"] == "Mông"

    province = form.rows["tre_noi_sinh_tinh"]
    province.input.set_value("")
    gui.type_text(province.widget, "lao cai")
    assert list(province.input.cget("values"))[0] == "Tỉnh Lào Cai"
    gui.press_keys("Tab")
    assert province.input.get() == "Tỉnh Lào Cai"
    assert form.get_data()["tre_noi_sinh_tinh"] == "15"

    sex = form.rows["tre_gioi_tinh"]
    gui.type_text(sex.widget, "nu")
    gui.press_keys("Tab")
    assert sex.input.get() == "Nữ"


def test_commune_dropdown_finds_old_and_variant_names():
    from desktop.ui.form_options import commune_options

    options = commune_options()
    assert options.search("mu cang chai")[0].label == "Xã Mù Cang Chải"
    # The statistics office's spelling "Mù Căng Chải" is an alias of the same unit.
    assert options.search("mu cang chai")[0].value == options.exact("Mù Căng Chải").value


def test_required_field_left_empty_shows_its_error_only_after_the_clerk_visits_it(gui, make_form):
    form = make_form("khai_sinh")
    name = form.rows["nguoi_yeu_cau_ho_ten"]
    other = form.rows["tre_ho"]
    gui.focus(name.widget)
    gui.press_keys("Tab")
    gui.wait_until(lambda: "bắt buộc" in name.message.cget("text"))
    assert "bắt buộc" not in other.message.cget("text")  # not visited: no red yet
    type_vietnamese(gui, name.widget, "Giàng A Pao")
    gui.press_keys("Tab")
    gui.wait_until(lambda: "bắt buộc" not in name.message.cget("text"))
    gui.screenshot("form_live_validation")


def test_validate_all_marks_every_error_and_focuses_the_first(gui, make_form):
    form = make_form("khai_sinh")
    errors = form.validate_all()
    assert errors
    assert errors[0].field == "nguoi_yeu_cau_ho_ten"
    assert form.focus_first_error()
    gui.wait_until(lambda: gui.root.focus_get() == form.rows["nguoi_yeu_cau_ho_ten"].widget)


def test_draft_is_handed_over_a_second_after_typing_stops(gui, make_form):
    form = make_form("khai_sinh")
    type_vietnamese(gui, form.rows["tre_ho"].widget, "Giàng")
    assert form.drafts == []  # not while typing
    gui.wait_until(lambda: form.drafts, 3)
    assert form.drafts[-1]["tre_ho"] == "Giàng"
    assert form.drafts[-1]["tre_quoc_tich"] == "Việt Nam"  # defaults come along


def test_scanned_cccd_fills_the_mother_after_confirmation(gui, make_form):
    form = make_form("khai_sinh")
    scan = form.scan_inputs["me"]
    assert "tre" not in form.scan_inputs  # a newborn has no ID card
    type_vietnamese(gui, scan, MOTHER_QR)
    gui.press_keys("Return")
    dialog = wait_dialog(gui, lambda: form.scan_dialog)
    texts = [w.cget("text") for w in dialog.body.winfo_children()[1].winfo_children()]
    assert "Sùng Thị Mỷ" in texts
    assert "12/04/1990" in texts
    gui.screenshot("form_cccd_confirm")
    gui.press_keys("Return")
    gui.wait_until(lambda: form.scan_dialog is None)
    data = form.get_data()
    assert data["me_ho_ten"] == "Sùng Thị Mỷ"
    assert data["me_ngay_sinh"] == "1990-04-12"
    assert data["me_so_dinh_danh"] == "015190001234"
    assert data["me_cu_tru"] == "Bản Khao Mang, Xã Khao Mang, Tỉnh Lào Cai"
    assert form.rows["me_ngay_sinh"].input.get() == "12/04/1990"
    assert scan.get() == ""


def test_cancelled_scan_fills_nothing(gui, make_form):
    form = make_form("khai_sinh")
    form.scan_card("me", MOTHER_QR)
    wait_dialog(gui, lambda: form.scan_dialog)
    gui.press_keys("Escape")
    gui.wait_until(lambda: form.scan_dialog is None)
    assert "me_ho_ten" not in form.get_data()


def test_unreadable_scan_says_so_and_opens_no_dialog(gui, make_form):
    form = make_form("khai_sinh")
    scan = form.scan_inputs["me"]
    gui.type_text(scan, "xin chao|123")
    gui.press_keys("Return")
    message = form.scan_messages["me"].cget("text")
    assert message.startswith("Không đọc được mã QR")
    assert "nhập tay" in message
    assert form.scan_dialog is None


def test_scan_of_a_mans_card_into_the_mother_warns(gui, make_form):
    form = make_form("khai_sinh")
    form.scan_card("me", "015088001234||Giàng A Pao|01011988|Nam|Bản Khao Mang|01012022")
    gui.wait_until(lambda: form.scan_dialog is not None)
    warnings = [w.cget("text") for w in form.scan_dialog.warning_labels]
    assert any("giới tính Nam" in w for w in warnings)
    form.scan_dialog.close(False)


def test_enter_on_the_last_field_and_ctrl_s_save(gui, make_form):
    form = make_form("khai_sinh")
    last = form.input_rows()[-1]
    gui.focus(last.widget)
    gui.press_keys("Return")
    assert len(form.saves) == 1
    gui.focus(form.rows["tre_ho"].widget)
    gui.press_keys("Return")  # Enter elsewhere moves on
    assert len(form.saves) == 1
    assert gui.root.focus_get() == form.rows["tre_chu_dem"].widget
    gui.press_keys("ctrl+s")
    assert len(form.saves) == 2


def test_set_data_restores_values_and_words_without_marking_a_change(gui, make_form):
    form = make_form("khai_sinh")
    form.set_data({"tre_ho": "Giàng", "tre_ngay_sinh": "2025-03-15", "tre_dan_toc": "Mông"})
    assert form.rows["tre_ngay_sinh"].input.get() == "15/03/2025"
    assert form.rows["tre_ngay_sinh_bang_chu"].input.get().startswith("Ngày mười lăm tháng ba")
    assert form.get_data()["tre_dan_toc"] == "Mông"
    assert not form.dirty


def test_form_is_usable_standalone_in_any_window(gui):
    top = ttk.Toplevel(title="Mẫu")
    try:
        form = FormRenderer(top, get_procedure("ket_hon"), today=lambda: TODAY)
        form.pack(fill="both", expand=True)
        gui.pump(0.1)
        assert set(form.scan_inputs) == {"vo", "chong"}
    finally:
        top.destroy()


def test_pasted_card_text_is_taken_without_enter(gui, make_form):
    form = make_form("khai_sinh")
    scan = form.scan_inputs["nguoi_yeu_cau"]
    gui.focus(scan)
    gui.root.clipboard_clear()
    gui.root.clipboard_append("015088001234||Giàng A Pao|01011988|Nam|Bản Khao Mang|01012022")
    scan.event_generate("<<Paste>>")
    dialog = wait_dialog(gui, lambda: form.scan_dialog)
    gui.press_keys("Return")
    gui.wait_until(lambda: form.scan_dialog is None)
    assert dialog.result is True
    assert form.get_data()["nguoi_yeu_cau_ho_ten"] == "Giàng A Pao"
    assert form.get_data()["nguoi_yeu_cau_so_dinh_danh"] == "015088001234"
