"""Statistics tables from the server's count cube, and their Excel export."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from desktop.console.export import write_xlsx
from desktop.console.statistics import TOTAL, build_tables, by_commune_and_procedure, timeliness
from protocol.admin import StatsRow


def _row(commune: str, procedure: str, count: int, **extra: object) -> StatsRow:
    row: dict[str, object] = {
        "commune": commune,
        "procedure": procedure,
        "status": "tiep_nhan",
        "period": "2026-11-01",
        "late_registration": False,
        "processing": "open",
        "count": count,
    }
    row.update(extra)
    return row  # type: ignore[return-value]


CUBE = [
    _row("02701", "khai_sinh", 5),
    _row(
        "02701", "khai_sinh", 2, late_registration=True, processing="on_time", status="hoan_thanh"
    ),
    _row("02701", "khai_tu", 1, processing="overdue"),
    _row("04465", "ket_hon", 3, period="2026-10-01", processing="late", status="hoan_thanh"),
]


def test_per_commune_and_procedure_with_totals() -> None:
    table = by_commune_and_procedure(CUBE)
    assert table.columns[0] == "Xã" and table.columns[-1] == TOTAL
    assert "Khai sinh" in table.columns and "Kết hôn" in table.columns
    rows = {r[0]: r for r in table.rows}
    batxat = next(name for name in rows if name != TOTAL and rows[name][-1] == 8)
    assert rows[batxat][table.columns.index("Khai sinh")] == 7
    assert rows[TOTAL][-1] == 11


def test_communes_are_listed_in_vietnamese_alphabetical_order() -> None:
    # Vietnamese order puts "Dền" (e) before "Dương" (ư) and Đ after D; code-point order puts
    # ư (U+01B0) before ề (U+1EC1).
    cube = [_row(code, "khai_sinh", 1) for code in ("04399", "03106", "04543", "02707")]
    names = [row[0] for row in by_commune_and_procedure(cube).rows[:-1]]
    assert names == ["Phường Âu Lâu", "Xã Dền Sáng", "Xã Dương Quỳ", "Xã Đông Cuông"]


def test_timeliness_counts_registration_and_processing() -> None:
    table = timeliness(CUBE)
    total = table.rows[-1]
    assert total[0] == TOTAL
    assert table.column("Đăng ký quá hạn")[-1] == 2
    assert table.column("Đăng ký đúng hạn")[-1] == 9
    assert table.column("Trả trễ hẹn")[-1] == 3
    assert table.column("Quá hẹn chưa trả")[-1] == 1


def test_export_holds_the_same_numbers_as_the_tables(tmp_path: Path) -> None:
    tables = build_tables(CUBE, "month")
    path = write_xlsx(tables, tmp_path / "thong-ke", subtitle="Tháng 10-11/2026")
    assert path.suffix == ".xlsx"
    book = load_workbook(path)
    assert book.sheetnames == [t.key for t in tables]
    for table in tables:
        sheet = book[table.key]
        assert sheet["A1"].value == table.title
        assert tuple(c.value for c in sheet[3]) == table.columns
        written = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=4)]
        assert written == list(table.rows)
    months = book["theo_thang"]
    assert months["A4"].value == "Tháng 10/2026"
