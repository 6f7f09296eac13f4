"""The dossier detail screen: fields, timeline, transitions, scans, printing, audit trail."""

from __future__ import annotations

import io
import random
import subprocess

import pytest

from desktop.ui.dialogs import ReasonDialog
from desktop.ui.screen_dossier_detail import DossierDetailScreen
from tests.ui.dossier_support import birth_data, shell, store, wait_idle  # noqa: F401

pytestmark = pytest.mark.gui


@pytest.fixture
def dossier(store):  # noqa: F811
    return store.register_dossier("khai_sinh", birth_data())


@pytest.fixture
def detail(gui, shell, tasks, dossier):  # noqa: F811
    shell.navigate("dossier_detail", dossier_id=dossier.id)
    screen = shell.current_screen
    assert isinstance(screen, DossierDetailScreen)
    screen.opened: list = []
    screen.printed: list = []
    screen.printing.open_pdf = lambda path: screen.opened.append(path) or True
    screen.printing.print_pdf = lambda path, printer: screen.printed.append((path, printer)) or True
    gui.wait_until(lambda: screen.record is not None and not tasks.running(), 10)
    return screen


def label_texts(widget) -> list[str]:
    texts = []
    for child in widget.winfo_children():
        try:
            texts.append(str(child.cget("text")))
        except Exception:
            pass
        texts.extend(label_texts(child))
    return texts


def test_header_and_every_field_by_section(gui, detail, dossier):
    assert detail.name_label.cget("text") == "Giàng A Xà"
    assert detail.status_badge.cget("text") == "Tiếp nhận"
    facts = detail.facts_label.cget("text")
    assert f"Số hồ sơ: {dossier.dossier_no}" in facts
    assert "Đăng ký khai sinh" in facts
    assert "Chưa vào sổ" in facts
    texts = label_texts(detail.fields_area.body)
    assert "Người được khai sinh" in texts and "Mẹ" in texts
    assert "Sùng Thị Mỷ" in texts
    assert "Mông" in texts
    assert "Tỉnh Lào Cai" in texts  # province shown by name, not code "15"
    born = dossier.record["data.tre_ngay_sinh"]
    assert f"{born[8:10]}/{born[5:7]}/{born[:4]}" in texts
    assert detail.printing.print_certificate_button.cget("text") == "In giấy khai sinh"
    gui.screenshot("dossier_detail")


def test_transitions_follow_the_lifecycle_and_fill_the_timeline(gui, detail, tasks, store, dossier):  # noqa: F811
    assert set(detail.transition_buttons) == {"dang_xu_ly", "cho_ky", "tra_lai", "huy"}
    gui.click(detail.transition_buttons["cho_ky"])
    gui.wait_until(lambda: detail.status_badge.cget("text") == "Chờ ký", 10)
    assert set(detail.transition_buttons) == {"hoan_thanh", "tra_lai", "huy"}
    assert "Quyển số" in detail.facts_label.cget("text")  # book number given on chờ ký
    gui.click(detail.transition_buttons["hoan_thanh"])
    gui.wait_until(lambda: detail.status_badge.cget("text") == "Hoàn thành", 10)
    assert detail.transition_buttons == {}
    steps = [detail.timeline.tree.item(i, "values")[2] for i in detail.timeline.tree.get_children()]
    assert steps == ["Tiếp nhận", "Chờ ký", "Hoàn thành"]
    assert store.get_dossier(dossier.id).status == "hoan_thanh"
    detail.tabs.select(1)
    gui.screenshot("dossier_detail_timeline")


def test_cancel_needs_a_reason(gui, detail, tasks, store, dossier):  # noqa: F811
    detail.request_transition("huy")
    dialog = next(w for w in gui.root.winfo_children() if isinstance(w, ReasonDialog))
    gui.wait_until(lambda: gui.root.focus_get() == dialog.entry)
    gui.pump(0.1)  # the dialog's delayed focus request has run too
    gui.press_keys("Return")
    assert "lý do" in dialog.error.cget("text")
    assert store.get_dossier(dossier.id).status == "tiep_nhan"
    gui.type_text(dialog.entry, "Nop nham ho so")
    gui.press_keys("Return")
    gui.wait_until(lambda: detail.status_badge.cget("text") == "Huỷ", 10)
    notes = [detail.timeline.tree.item(i, "values")[4] for i in detail.timeline.tree.get_children()]
    assert "Nop nham ho so" in notes


def _noisy_scan(width: int = 1400, height: int = 1980) -> bytes:
    """A colour A4 "scan" at 170 dpi: paper tint, text-like strokes, sensor noise."""
    from PIL import Image, ImageDraw

    rng = random.Random(7)
    image = Image.new("RGB", (width, height), (236, 230, 214))
    draw = ImageDraw.Draw(image)
    for y in range(200, height - 200, 60):
        x = 180
        while x < width - 300:
            w = rng.randint(20, 120)
            draw.rectangle((x, y, x + w, y + 22), fill=(30, 30, 60))
            x += w + rng.randint(15, 40)
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_imported_scan_is_compacted_and_shows_sizes_before_and_after(gui, detail, tasks, tmp_path):
    path = tmp_path / "giay-chung-sinh.png"
    path.write_bytes(_noisy_scan())
    detail.scans.ask_scan_path = lambda: str(path)
    detail.tabs.select(2)
    gui.click(detail.scans.import_button)
    gui.wait_until(lambda: detail.scans.last_scan is not None and not tasks.running(), 30)
    scan = detail.scans.last_scan
    assert scan.size_after < scan.size_before / 3
    text = detail.scans.scan_label.cget("text")
    assert "→" in text and "MB" in text and "KB" in text
    rows = [
        detail.scans.attachment_tree.item(i, "values")
        for i in detail.scans.attachment_tree.get_children()
    ]
    assert len(rows) == 1
    assert rows[0][0] == "giay-chung-sinh.jpg" or rows[0][0].startswith("giay-chung-sinh")
    gui.screenshot("dossier_detail_attachments")


def test_a_file_that_is_no_scan_is_refused_with_a_message(gui, detail, tasks, tmp_path):
    path = tmp_path / "ghi-chu.jpg"
    path.write_bytes(b"day khong phai anh")
    detail.scans.import_scan(str(path))
    gui.wait_until(lambda: not tasks.running(), 10)
    assert detail.scans.scan_label.cget("text").startswith("Không nhập được")
    assert detail.scans.attachment_tree.get_children() == ()


def test_print_receipt_and_certificate_make_pdfs_and_hand_them_over(gui, detail, tasks):
    detail.printing.print_receipt()
    gui.wait_until(lambda: "receipt" in detail.printing.printouts and not tasks.running(), 30)
    receipt = detail.printing.printouts["receipt"]
    assert receipt.read_bytes().startswith(b"%PDF")
    assert detail.opened == [receipt]
    text = subprocess.run(
        ["pdftotext", "-layout", str(receipt), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Giàng A Xà" in text or "Giàng A Pao" in text

    detail.printing.to_printer.set(True)
    detail.services.settings.printer = "may-in-mot-cua"
    detail.printing.print_certificate()
    gui.wait_until(lambda: "certificate" in detail.printing.printouts and not tasks.running(), 30)
    assert detail.printed == [(detail.printing.printouts["certificate"], "may-in-mot-cua")]
    assert detail.message.cget("text").startswith("Đã gửi tới máy in")


def test_audit_trail_lists_who_did_what(gui, detail):
    rows = [detail.audit.tree.item(i, "values") for i in detail.audit.tree.get_children()]
    assert rows and rows[0][1] == "lan"
    assert rows[0][2] == "dossier.create"
    detail.tabs.select(3)
    gui.screenshot("dossier_detail_audit")


def test_values_are_written_the_way_clerks_read_them():
    from desktop.forms.dates import format_date_vn, format_datetime_vn
    from desktop.ui.display import book_entry, format_size

    assert format_date_vn("2025-03-05") == "05/03/2025"
    assert format_datetime_vn("2025-03-05T14:07:00") == "05/03/2025 14:07"
    assert format_size(812) == "812 B"
    assert format_size(46_000) == "45 KB"
    assert format_size(2_400_000) == "2,3 MB"
    assert book_entry(None, "KS", 2025) == "Chưa vào sổ"
    assert book_entry(12, "KS", 2025) == "Số 12, Quyển số 01/2025 (sổ KS)"
