"""End to end, as a clerk works: sign in, register a birth by keyboard, find it, print it.

One real window under Xvfb, the real app session (sign-in → shell), a real encrypted store,
real X key events (xdotool). The clerk:

1. signs in with her password;
2. opens a new birth (Ctrl+N, 1) and fills it entirely from the keyboard, field after field
   with Tab; the mother comes from her chip ID card's QR, typed as the scanner's keystroke
   burst; a mistyped personal ID gets a red message and is fixed;
3. saves with Enter on the last field and sees "Đã lưu" and the dossier;
4. finds it again from the search box by the unaccented name "giang a xa";
5. prints the receipt slip and, after sending it for signature, the birth certificate; the
   PDFs exist, render with pdftoppm, and pdftotext shows the right Vietnamese text.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from desktop.forms.vietnamese import date_in_words
from desktop.ui.screen_dossier_detail import DossierDetailScreen
from desktop.ui.screen_new_dossier import NewDossierScreen
from desktop.ui.screen_search import SearchScreen
from tests.ui.dossier_support import (
    CLERK,
    COMMUNE,
    MOTHER_QR,
    PASSWORD,
    type_vietnamese,
    wait_dialog,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def session(root, tasks, tmp_path):
    """A created profile (closed again) and the app session over it, at the sign-in screen."""
    from desktop.store.store import Store
    from desktop.ui.session import AppSession

    profile = tmp_path / "profile"
    Store.create(
        profile, commune=COMMUNE, username=CLERK[0], password=PASSWORD, full_name=CLERK[1]
    ).close()
    app = AppSession(root, profile, tasks=tasks)
    app.start()
    yield app
    app.close()


def focused(gui, form) -> str:
    """Return the form field name (or ``scan:<person>``) that has the keyboard focus."""
    return form._name_of.get(str(gui.root.focus_get()), str(gui.root.focus_get()))


def tab_to(gui, form, name: str, limit: int = 12) -> None:
    """Press Tab until the field ``name`` has the focus (skipping fields left as they are)."""
    for _ in range(limit):
        if focused(gui, form) == name:
            return
        gui.press_keys("Tab")
    assert focused(gui, form) == name


def fill(gui, form, name: str, text: str) -> None:
    """Type into the focused field ``name`` and move on with Tab."""
    assert focused(gui, form) == name, f"expected focus in {name}, got {focused(gui, form)}"
    type_vietnamese(gui, gui.root.focus_get(), text)
    gui.press_keys("Tab")


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def render_png(path: Path, out_dir: Path) -> Path:
    prefix = out_dir / f"flow_pdf_{path.stem.split('-')[-2]}-{path.stem.split('-')[-1]}"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", str(path), str(prefix)], check=True
    )
    png = prefix.with_suffix(".png")
    assert png.stat().st_size > 5000  # a rendered page, not an empty image
    return png


def test_a_clerk_registers_finds_and_prints_a_birth(gui, session, tasks, tmp_path):
    # 1. Sign in.
    sign_in = session.frame
    gui.wait_until(lambda: getattr(sign_in, "profile_loaded", False), 10)
    if sign_in.username_var.get() != CLERK[0]:
        sign_in.username_var.set("")
        type_vietnamese(gui, sign_in.username_box, CLERK[0])
    type_vietnamese(gui, sign_in.password_entry, PASSWORD)
    gui.press_keys("Return")
    gui.wait_until(lambda: session.state == "shell", 15)
    shell = session.shell
    store = session.store

    # 2. A new birth, entirely by keyboard.
    gui.focus(shell.nav_buttons["dashboard"])
    gui.press_keys("ctrl+n")
    gui.wait_until(lambda: shell.current == "new_dossier")
    screen = shell.current_screen
    assert isinstance(screen, NewDossierScreen)
    gui.wait_until(lambda: gui.root.focus_get() is not None)
    gui.press_keys("1")
    gui.wait_until(lambda: screen.form is not None)
    form = screen.form
    gui.wait_until(lambda: focused(gui, form) == "scan:nguoi_yeu_cau")
    gui.press_keys("Tab")

    fill(gui, form, "nguoi_yeu_cau_ho_ten", "Giàng A Pao")
    fill(gui, form, "nguoi_yeu_cau_so_dinh_danh", "01508800123")  # one digit short
    id_row = form.rows["nguoi_yeu_cau_so_dinh_danh"]
    gui.wait_until(lambda: "12" in id_row.message.cget("text") and id_row.field.name in form.errors)
    gui.screenshot("flow_validation_error")
    gui.press_keys("shift+Tab", "End")  # back to the ID, add the missing digit
    fill(gui, form, "nguoi_yeu_cau_so_dinh_danh", "4")
    gui.wait_until(lambda: "nguoi_yeu_cau_so_dinh_danh" not in form.errors)
    fill(gui, form, "nguoi_yeu_cau_cu_tru", "Bản Khao Mang, xã Khao Mang, tỉnh Lào Cai")
    fill(gui, form, "nguoi_yeu_cau_quan_he", "Cha")
    tab_to(gui, form, "tre_ho")
    fill(gui, form, "tre_ho", "Giàng")
    fill(gui, form, "tre_chu_dem", "A")
    fill(gui, form, "tre_ten", "Xà")
    fill(gui, form, "tre_gioi_tinh", "nam")
    born = form.today().replace(day=1)
    fill(gui, form, "tre_ngay_sinh", f"{born.day}/{born.month}/{born.year}")
    fill(gui, form, "tre_noi_sinh", "Trạm y tế xã Khao Mang")
    tab_to(gui, form, "tre_dan_toc")  # the province of birth is already Lào Cai
    fill(gui, form, "tre_dan_toc", "mong")
    assert form.rows["tre_dan_toc"].input.get() == "Mông"

    # The mother from her chip ID card: the scanner types the QR payload and Enter.
    tab_to(gui, form, "scan:me")
    type_vietnamese(gui, form.scan_inputs["me"], MOTHER_QR)
    gui.press_keys("Return")
    wait_dialog(gui, lambda: form.scan_dialog)
    gui.press_keys("Return")  # "Điền vào mẫu"
    gui.wait_until(lambda: form.scan_dialog is None and focused(gui, form) == "me_ho_ten")
    assert form.rows["me_ngay_sinh"].input.get() == "12/04/1990"
    tab_to(gui, form, "me_dan_toc")
    fill(gui, form, "me_dan_toc", "mong")
    tab_to(gui, form, "giay_chung_sinh_so", limit=14)
    fill(gui, form, "giay_chung_sinh_so", "CS-0158/2025")
    tab_to(gui, form, "ghi_chu")
    words = form.rows["tre_ngay_sinh_bang_chu"].input.get()
    settings = session.settings  # the date-in-words style comes from the settings
    assert words == date_in_words(
        born, mung=settings.date_words_mung, zero_tens=settings.date_words_zero_tens
    )
    gui.screenshot("flow_form_filled")

    # 3. Enter on the last field saves.
    gui.press_keys("Return")
    gui.wait_until(lambda: shell.current == "dossier_detail", 15)
    assert shell.toasts[-1][0].startswith("Đã lưu hồ sơ")
    detail = shell.current_screen
    assert isinstance(detail, DossierDetailScreen)
    gui.wait_until(lambda: detail.record is not None and not tasks.running(), 10)
    record = store.get_dossier(detail.dossier_id)
    data = record.data
    assert data["tre_ho"] == "Giàng" and data["tre_ten"] == "Xà"
    assert data["me_ho_ten"] == "Sùng Thị Mỷ"
    assert data["me_so_dinh_danh"] == "015190001234"
    assert data["nguoi_yeu_cau_so_dinh_danh"] == "015088001234"
    assert data["tre_dan_toc"] == "Mông"
    gui.screenshot("flow_saved_detail")

    # 4. Find it again by the name typed without accents.
    gui.press_keys("ctrl+f")
    gui.wait_until(lambda: shell.current == "search")
    search = shell.current_screen
    assert isinstance(search, SearchScreen)
    gui.wait_until(lambda: gui.root.focus_get() == search.entry)
    gui.type_text(search.entry, "giang a xa")
    gui.wait_until(lambda: search.idle and search.tree.get_children() == (record.id,), 5)
    gui.screenshot("flow_search")
    gui.press_keys("Return")
    gui.wait_until(lambda: shell.current == "dossier_detail" and detail.dossier_id == record.id)
    gui.wait_until(lambda: detail.record is not None and not tasks.running(), 10)

    # 5. Print the receipt slip, send for signature, print the certificate.
    opened: list[Path] = []
    detail.printing.open_pdf = lambda path: opened.append(path) or True
    detail.printing.to_printer.set(False)
    gui.click(detail.printing.print_receipt_button)
    gui.wait_until(lambda: "receipt" in detail.printing.printouts and not tasks.running(), 30)
    gui.click(detail.transition_buttons["cho_ky"])
    gui.wait_until(lambda: detail.status_badge.cget("text") == "Chờ ký", 10)
    gui.click(detail.printing.print_certificate_button)
    gui.wait_until(lambda: "certificate" in detail.printing.printouts and not tasks.running(), 30)
    assert opened == [
        detail.printing.printouts["receipt"],
        detail.printing.printouts["certificate"],
    ]
    gui.screenshot("flow_printed")

    record = store.get_dossier(record.id)
    pngs = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
    pngs.mkdir(parents=True, exist_ok=True)
    receipt = pdf_text(detail.printing.printouts["receipt"])
    assert "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in receipt
    assert "GIÀNG A PAO" in receipt or "Giàng A Pao" in receipt
    assert record.dossier_no in receipt
    assert "Đăng ký khai sinh" in receipt
    assert "XÃ KHAO MANG" in receipt
    assert "Lò Thị Lan" in receipt
    render_png(detail.printing.printouts["receipt"], pngs)

    certificate = pdf_text(detail.printing.printouts["certificate"])
    assert "GIẤY KHAI SINH" in certificate
    assert "GIÀNG A XÀ" in certificate
    assert "Sùng Thị Mỷ" in certificate
    flat = " ".join(certificate.split())
    assert " ".join(words.split()) in flat  # the date of birth in words
    assert f"Số: {record.book_number}" in flat
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in certificate
    render_png(detail.printing.printouts["certificate"], pngs)
