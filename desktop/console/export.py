"""Export statistics tables to an Excel workbook (.xlsx) with Vietnamese headers.

One sheet per :class:`~desktop.console.statistics.Table`, a bold title row and header row,
frozen headers and sensible column widths; numbers are written as numbers so the province's
own spreadsheets can sum them. openpyxl is imported only when a clerk of provincial IT exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from desktop.console.statistics import TOTAL, Table
from desktop.store.fileio import atomic_write

__all__ = ["write_xlsx"]


def write_xlsx(tables: Sequence[Table], path: Path, *, subtitle: str = "") -> Path:
    """Write ``tables`` to an .xlsx file at ``path`` (replaced atomically); return the path.

    Args:
        tables: the tables, one sheet each, in order.
        path: where to write (``.xlsx`` is added when missing).
        subtitle: a line under each title (e.g. the period the figures cover).
    """
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(title=table.key[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([subtitle])
        sheet.append(list(table.columns))
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        if table.rows and table.rows[-1][0] == TOTAL:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        sheet.freeze_panes = "B4"
        for index, header in enumerate(table.columns, start=1):
            width = max([len(str(header))] + [len(str(r[index - 1])) for r in table.rows])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 45)
    buffer = BytesIO()
    book.save(buffer)
    atomic_write(path, buffer.getvalue())
    return path
