"""The statistics screen against the real server, with real commune PCs, and its Excel export.

A PC of Xã Y Tý and one of Xã Khao Mang register dossiers of every procedure (some in March and
April, some today), move some along their lifecycle (finished late, finished on time, cancelled)
and sync with a real ``motcua-server``. What provincial IT checks on "Thống kê": the counts per
commune and procedure, per status, on time against late and per month or week are those of the
dossiers the PCs registered; each table has its chart; dates are checked in Vietnamese and
narrow the figures; "Xuất Excel…" writes a workbook that openpyxl opens and whose every sheet
holds the cells of the screen's table, under the same Vietnamese headers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desktop.forms.procedures import procedure_title
from desktop.store.records import DossierRecord
from desktop.ui.console.statistics_screen import StatisticsScreen, cell_text
from tests.forms.samples import DEATH, MARITAL_STATUS, MARRIAGE, RECEIVED
from tests.store.factory import birth
from tests.ui.console.conftest import COMMUNE, Device, ServerProcess, sync_all

pytestmark = pytest.mark.gui

Y_TY, KHAO_MANG = COMMUNE, "04465"
PROCEDURES = ("Khai sinh", "Khai tử", "Xác nhận TTHN", "Kết hôn")
APRIL = RECEIVED + dt.timedelta(days=30)


def _moves(device: Device, record: DossierRecord, *statuses: str) -> DossierRecord:
    for status in statuses:
        record = device.store.transition(record.id, status)
    return record


def _dossiers_of_two_communes(
    server: ServerProcess, make_device: Callable[..., Device]
) -> list[DossierRecord]:
    """Register seven dossiers on two PCs, move some along, sync; return them as the PCs hold them."""
    a, b = make_device(server, "a", commune=Y_TY), make_device(server, "b", commune=KHAO_MANG)
    register_a, register_b = a.store.register_dossier, b.store.register_dossier
    late_birth = {**birth(2), "tre_ngay_sinh": "2025-11-01"}  # registered after 60 days
    other_person = {
        **MARITAL_STATUS,
        "nguoi_duoc_xac_nhan_so_dinh_danh": "015300006666",
        "nguoi_yeu_cau_so_dinh_danh": "015300006666",
        "nguoi_duoc_xac_nhan_ten": "Mỷ",
    }
    made = [
        # Finished in December, promised in March: returned late.
        _moves(a, register_a("khai_sinh", birth(1), received_at=RECEIVED), "cho_ky", "hoan_thanh"),
        register_a("khai_sinh", late_birth, received_at=RECEIVED),  # open, past its date
        _moves(a, register_a("khai_tu", DEATH, received_at=APRIL), "dang_xu_ly"),
        # Received today and finished today, days before the promised date: on time.
        _moves(
            a, register_a("xac_nhan_hon_nhan", MARITAL_STATUS), "dang_xu_ly", "cho_ky", "hoan_thanh"
        ),
        register_b("xac_nhan_hon_nhan", other_person),  # received today: not due yet
        register_b("ket_hon", MARRIAGE, received_at=RECEIVED),  # past its date
        _moves(b, register_b("khai_sinh", birth(4), received_at=RECEIVED), "huy"),
    ]
    sync_all(a, b)
    return made


def _loaded(screen: StatisticsScreen) -> bool:
    return not screen.loading and bool(screen.pages)


def _rows(screen: StatisticsScreen, key: str) -> dict[str, tuple[str, ...]]:
    return {cells[0]: cells[1:] for cells in screen.page(key).cells()}


def _month(record: DossierRecord) -> str:
    received = dt.datetime.fromisoformat(str(record.record["received_at"]))
    return f"Tháng {received:%m/%Y}"


def _per_procedure(records: list[DossierRecord]) -> tuple[str, ...]:
    """The cells of a row of a per-procedure table: a count per procedure, then the total."""
    counts = Counter(procedure_title(r.procedure, short=True) for r in records)
    return (*(str(counts[p]) for p in PROCEDURES), str(len(records)))


def test_the_tables_show_what_the_communes_registered_with_a_chart_each(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    made = _dossiers_of_two_communes(server, make_device)
    late = [r.record["late"] for r in made]
    assert late == [False, True, True, False, False, False, False]  # as the PCs computed it
    screen = open_screen(console_shell, "statistics")
    assert isinstance(screen, StatisticsScreen)
    gui.wait_until(lambda: _loaded(screen), 10)
    assert screen.message.cget("text").startswith("Tổng cộng 7 hồ sơ")

    # Per commune and procedure: every procedure, both communes, the province's total.
    page = screen.page("xa_thu_tuc")
    assert page.headers() == ("Xã", *PROCEDURES, "Tổng")
    y_ty = [r for r in made if r.record["commune"] == Y_TY]
    khao_mang = [r for r in made if r.record["commune"] == KHAO_MANG]
    assert _rows(screen, "xa_thu_tuc") == {
        "Xã Khao Mang": _per_procedure(khao_mang),
        "Xã Y Tý": _per_procedure(y_ty),
        "Tổng": _per_procedure(made),
    }
    assert _per_procedure(made) == ("3", "1", "2", "1", "7")
    assert page.chart.bars == [
        ("Khai sinh", 3),
        ("Khai tử", 1),
        ("Xác nhận TTHN", 2),
        ("Kết hôn", 1),
    ]
    assert len(page.chart.find_withtag("bar")) == 4
    gui.screenshot("console-statistics")

    # Per status, in lifecycle order.
    by_status = _rows(screen, "trang_thai")
    assert list(by_status) == ["Tiếp nhận", "Đang xử lý", "Hoàn thành", "Huỷ", "Tổng"]
    for label, status in (("Tiếp nhận", "tiep_nhan"), ("Hoàn thành", "hoan_thanh")):
        assert by_status[label] == _per_procedure([r for r in made if r.status == status])
    assert by_status["Huỷ"] == ("1", "0", "0", "0", "1")

    # On time against late: registration against the event's deadline, processing against
    # the date promised on the slip.
    screen.notebook.select(screen.page("dung_han"))
    timeliness = screen.page("dung_han")
    assert timeliness.headers() == (
        "Thủ tục",
        "Đăng ký đúng hạn",
        "Đăng ký quá hạn",
        "Trả đúng hẹn",
        "Trả trễ hẹn",
        "Đang giải quyết (chưa đến hẹn)",
        "Quá hẹn chưa trả",
        "Đã huỷ",
        "Tổng",
    )
    rows = _rows(screen, "dung_han")
    assert rows["Đăng ký khai sinh"] == ("2", "1", "0", "1", "0", "1", "1", "3")
    assert rows["Đăng ký khai tử"] == ("0", "1", "0", "0", "0", "1", "0", "1")
    assert rows["Cấp Giấy xác nhận tình trạng hôn nhân"] == ("2", "0", "1", "0", "1", "0", "0", "2")
    assert rows["Tổng"] == ("5", "2", "1", "1", "1", "3", "1", "7")
    assert dict(timeliness.chart.bars)["Quá hẹn chưa trả"] == 3
    gui.pump(0.1)
    gui.screenshot("console-statistics-timeliness")

    # Per month, oldest first, drawn as columns.
    months = _rows(screen, "theo_thang")
    per_month = Counter(_month(r) for r in made)
    assert list(months)[:-1] == sorted(per_month, key=lambda m: (m[-4:], m[-7:-5]))
    assert {m: cells[-1] for m, cells in months.items()} == {
        **{m: str(n) for m, n in per_month.items()},
        "Tổng": "7",
    }
    assert screen.page("theo_thang").chart.orientation == "vertical"
    assert [n for _label, n in screen.page("theo_thang").chart.bars] == [4, 1, 2]


def test_weeks_dates_and_the_excel_export_hold_the_numbers_of_the_screen(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _dossiers_of_two_communes(server, make_device)
    screen = open_screen(console_shell, "statistics")
    gui.wait_until(lambda: _loaded(screen), 10)

    # A date that does not exist is refused in Vietnamese; nothing is asked of the server.
    asked = screen._asked
    gui.type_text(screen.since_entry, "31/02/2026")
    gui.press_keys("Return")
    assert "không có thật" in screen.message.cget("text") and screen._asked == asked
    assert "«Từ ngày»" in screen.message.cget("text")
    screen.since_entry.delete(0, "end")
    gui.type_text(screen.since_entry, "01/04/2026")
    gui.type_text(screen.until_entry, "01/03/2026")
    gui.press_keys("Return")
    assert screen.message.cget("text") == "Hãy nhập «Từ ngày» trước hoặc bằng «Đến ngày»."

    # From 1 April on: the death of April and the two of today.
    screen.until_entry.delete(0, "end")
    gui.focus(screen.since_entry)
    gui.press_keys("Return")
    gui.wait_until(
        lambda: not screen.loading and "Tổng cộng 3 hồ sơ" in screen.message.cget("text")
    )
    since_april = [r for r in made if str(r.record["received_at"]) >= "2026-04-01"]
    page = screen.page("xa_thu_tuc")
    assert page.headers() == ("Xã", "Khai tử", "Xác nhận TTHN", "Tổng")  # only those received
    counts = Counter(procedure_title(r.procedure, short=True) for r in since_april)
    assert _rows(screen, "xa_thu_tuc")["Tổng"] == (
        str(counts["Khai tử"]),
        str(counts["Xác nhận TTHN"]),
        str(len(since_april)),
    )

    # By week, everything: a row per Monday.
    screen.since_entry.delete(0, "end")
    screen.period_box.set("Theo tuần")
    screen.period_box.event_generate("<<ComboboxSelected>>")
    gui.wait_until(lambda: not screen.loading and "theo_tuan" in screen.pages)
    weeks = {}
    for record in made:
        day = dt.date.fromisoformat(str(record.record["received_at"])[:10])
        monday = day - dt.timedelta(days=day.weekday())
        weeks[f"Tuần từ {monday:%d/%m/%Y}"] = weeks.get(f"Tuần từ {monday:%d/%m/%Y}", 0) + 1
    rows = _rows(screen, "theo_tuan")
    assert {w: int(cells[-1]) for w, cells in rows.items() if w != "Tổng"} == weeks
    assert screen.default_file_name() == f"thong-ke-theo-tuan-{dt.date.today():%Y-%m}.xlsx"

    # The export: the same numbers, the same Vietnamese headers, sheet by sheet.
    path = tmp_path / "thong-ke.xlsx"
    screen.export_to(path)
    gui.wait_until(lambda: not screen.exporting, 10)
    assert console_shell.toasts[-1] == (f"Đã xuất thống kê ra {path}", "success")
    book = load_workbook(path)
    assert book.sheetnames == list(screen.pages)
    for key, page in screen.pages.items():
        sheet = book[key]
        assert sheet["A1"].value == page.table.title
        assert tuple(c.value for c in sheet[3]) == page.headers()
        written = [tuple(cell_text(c.value) for c in row) for row in sheet.iter_rows(min_row=4)]
        assert written == page.cells(), key
    assert book["theo_tuan"]["A2"].value.startswith("Theo tuần · toàn bộ hồ sơ")

    # "Xuất Excel…" asks where (the save dialog), proposing this month's name, then writes.
    chosen = tmp_path / "chon" / "bao-cao.xlsx"
    chosen.parent.mkdir()
    proposed: dict[str, Any] = {}

    def dialog(**options: Any) -> str:
        proposed.update(options)
        return str(chosen)

    monkeypatch.setattr("tkinter.filedialog.asksaveasfilename", dialog)
    gui.click(screen.export_button)
    gui.wait_until(lambda: not screen.exporting and chosen.exists(), 10)
    assert proposed["initialfile"] == screen.default_file_name()
    assert proposed["defaultextension"] == ".xlsx"
    assert load_workbook(chosen).sheetnames == list(screen.pages)

    # The server is down: "Xem" says so in Vietnamese; the tables shown stay.
    server.stop()
    gui.focus(screen.since_entry)
    gui.press_keys("Return")
    gui.wait_until(lambda: not screen.loading, 15)
    assert screen.message.cget("text").startswith("Không kết nối được máy chủ tỉnh.")
    assert "danger" in str(screen.message.cget("style"))
    assert "theo_tuan" in screen.pages
    server.start()
