"""The console's "Thống kê" screen: dossier counts as tables and bar charts, exported to Excel.

Provincial IT picks weeks or months and, optionally, a range of receipt dates (dd/mm/yyyy;
empty means every dossier), then "Xem" (Enter). The server's count cube
(``services.console.statistics``) is fetched and folded into tables on a worker by
:func:`desktop.console.statistics.build_tables`; each table gets a tab with its rows (and its
totals row) and a bar chart under it. "Xuất Excel…" writes those same :class:`Table` objects
with :func:`desktop.console.export.write_xlsx`, so the file holds exactly the numbers on the
screen, under the same Vietnamese headers.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import tkinter
import tkinter.font
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ttkbootstrap as ttk

from desktop.console.export import write_xlsx
from desktop.console.service import ConsoleError
from desktop.console.statistics import TOTAL, Table, build_tables
from desktop.forms.dates import format_date_vn, format_datetime_vn, parse_date_vn
from desktop.ui.console.charts import BarChart, bold_font, format_count
from desktop.ui.services import Services

if TYPE_CHECKING:
    from desktop.console.service import ConsoleService
    from protocol.admin import StatsRow

log = logging.getLogger(__name__)

#: The period box: label → the server's period.
PERIODS = {"Theo tháng": "month", "Theo tuần": "week"}
#: Short tab names (the tables' titles are too long for tabs side by side).
TAB_NAMES = {
    "xa_thu_tuc": "Theo xã",
    "trang_thai": "Theo trạng thái",
    "dung_han": "Đúng hạn / trễ hạn",
    "theo_thang": "Theo tháng",
    "theo_tuan": "Theo tuần",
}
MSG_EMPTY_RANGE = "Hãy nhập «Từ ngày» trước hoặc bằng «Đến ngày»."
MSG_FAILED = "Không tải được thống kê. Hãy thử lại (F5); nếu vẫn lỗi, xem nhật ký."
MSG_NOTHING = "Chưa có số liệu để xuất: hãy bấm «Xem» trước."


def fetch_tables(
    console: ConsoleService, period: str, since: str | None, until: str | None
) -> list[Table]:
    """Fetch the count cube and fold it into the tables (runs on a worker thread)."""
    rows: list[StatsRow] = console.statistics(period, since, until)
    return build_tables(rows, period)


def cell_text(value: str | int) -> str:
    """Return a table cell as the screen writes it (counts with a dot between thousands)."""
    return format_count(value) if isinstance(value, int) else str(value)


def range_text(since: dt.date | None, until: dt.date | None) -> str:
    """Return the receipt dates covered, in words: "từ 01/03/2026 đến 31/03/2026"."""
    if since and until:
        return f"tiếp nhận từ {format_date_vn(since)} đến {format_date_vn(until)}"
    if since:
        return f"tiếp nhận từ {format_date_vn(since)}"
    if until:
        return f"tiếp nhận đến {format_date_vn(until)}"
    return "toàn bộ hồ sơ"


def export_file_name(period: str, today: dt.date) -> str:
    """Return the export's default file name, e.g. ``thong-ke-2026-12.xlsx``."""
    kind = "-theo-tuan" if period == "week" else ""
    return f"thong-ke{kind}-{today:%Y-%m}.xlsx"


def _short_period(label: str) -> str:
    """Return a period row's label short enough for under a bar ("03/2026", "02/03/2026")."""
    for prefix in ("Tháng ", "Tuần từ "):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label


def chart_of(table: Table) -> tuple[str, str, list[tuple[str, float]]]:
    """Return what a table's chart draws: (title, orientation, bars).

    Per procedure for the commune table (its totals row), per status, on time against late
    (the totals row of the timeliness table), per period (vertical, oldest first); any other
    table draws its ``chart_column`` per row.
    """
    body = [row for row in table.rows if row[0] != TOTAL]
    totals = next((row for row in table.rows if row[0] == TOTAL), None)
    last = len(table.columns) - 1
    if table.key in ("xa_thu_tuc", "dung_han") and totals is not None:
        title = "Số hồ sơ theo thủ tục" if table.key == "xa_thu_tuc" else "Đúng hạn và trễ hạn"
        bars = [(table.columns[i], float(totals[i])) for i in range(1, last)]
        return title, "horizontal", bars
    if table.key in ("theo_thang", "theo_tuan"):
        bars = [(_short_period(str(r[0])), float(r[last])) for r in body]
        return table.title, "vertical", bars
    column = last if table.chart_column is None else table.chart_column
    return table.title, "horizontal", [(str(r[0]), float(r[column])) for r in body]


def _autohide(bar: ttk.Scrollbar) -> Any:
    """Return a scroll command for ``bar`` that hides it while everything is in view."""

    def scrolled(first: str, last: str) -> None:
        if float(first) <= 0.0 and float(last) >= 1.0:
            bar.grid_remove()
        else:
            bar.grid()
        bar.set(first, last)

    return scrolled


class TablePage(ttk.Frame):
    """One notebook tab: a table's title, its rows (totals in bold) and its chart."""

    def __init__(self, master: tkinter.Misc, table: Table, subtitle: str) -> None:
        """Build the tree and the chart of ``table``."""
        super().__init__(master, padding=(8, 6))
        self.table = table
        ttk.Label(self, text=table.title, font="-size 12 -weight bold").pack(anchor="w")
        ttk.Label(self, text=subtitle, bootstyle="secondary").pack(anchor="w", pady=(0, 4))
        title, orientation, bars = chart_of(table)
        self.chart = BarChart(self, orientation=orientation, height=190)
        self.chart.pack(side="bottom", fill="x", pady=(6, 0))
        self.chart.show(bars, title=title)
        self.tree = self._build_tree()

    def _build_tree(self) -> ttk.Treeview:
        holder = ttk.Frame(self)
        holder.pack(fill="both", expand=True)
        ids = [f"c{i}" for i in range(len(self.table.columns))]
        tree = ttk.Treeview(holder, columns=ids, show="headings", selectmode="browse", height=6)
        font = tkinter.font.nametofont("TkDefaultFont")
        heading_font = tkinter.font.nametofont("TkHeadingFont")
        for index, (column, header) in enumerate(zip(ids, self.table.columns)):
            texts = [cell_text(row[index]) for row in self.table.rows]
            widest = max([font.measure(t) for t in texts] + [heading_font.measure(header)])
            anchor: Literal["w", "e"] = "w" if index == 0 else "e"
            tree.heading(column, text=header, anchor=anchor)
            # Counts are narrow: their columns are as wide as their headers, so that the long
            # timeliness table fits the window as far as it can.
            width = min(widest + 16, 320) if index == 0 else widest + 12
            tree.column(column, width=width, minwidth=50, anchor=anchor, stretch=index == 0)
        tree.tag_configure("total", font=bold_font(self))
        for row in self.table.rows:
            tags = ("total",) if row[0] == TOTAL else ()
            tree.insert("", "end", values=[cell_text(v) for v in row], tags=tags)
        down = ttk.Scrollbar(holder, orient="vertical", command=tree.yview)
        across = ttk.Scrollbar(holder, orient="horizontal", command=tree.xview)
        tree.configure(yscrollcommand=_autohide(down), xscrollcommand=_autohide(across))
        tree.grid(row=0, column=0, sticky="nsew")
        down.grid(row=0, column=1, sticky="ns")
        across.grid(row=1, column=0, sticky="ew")
        holder.rowconfigure(0, weight=1)
        holder.columnconfigure(0, weight=1)
        return tree

    def headers(self) -> tuple[str, ...]:
        """Return the column headings as shown."""
        return tuple(str(self.tree.heading(c, "text")) for c in self.tree["columns"])

    def cells(self) -> list[tuple[str, ...]]:
        """Return the rows' cell texts as shown, top to bottom."""
        return [
            tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()
        ]


class StatisticsScreen(ttk.Frame):
    """Dossier statistics (see the module docstring).

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` answers ``statistics()``).
        today: a fixed "today" for the export's file name (tests); the real date by default.
        **kwargs: ignored.
    """

    def __init__(
        self, master: tkinter.Misc, services: Services, today: dt.date | None = None, **kwargs: Any
    ) -> None:
        """Build the controls and an empty notebook; the figures load with ``on_show``."""
        super().__init__(master)
        self.services = services
        self._today = today
        self.tables: list[Table] = []
        self.pages: dict[str, TablePage] = {}
        self.period = "month"
        self.subtitle = ""
        self.last_export: Path | None = None
        self.exporting = False
        self._asked = 0
        self._answered = 0
        self._build_controls()
        self.message = ttk.Label(self, text="", bootstyle="secondary")
        self.message.pack(anchor="w", pady=(4, 4))
        self.notebook = ttk.Notebook(self)
        self.notebook.pack(fill="both", expand=True)
        self.notebook.enable_traversal()  # Ctrl+Tab between the tables

    def _build_controls(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x")
        self.period_box = ttk.Combobox(bar, values=list(PERIODS), state="readonly", width=12)
        self.period_box.set("Theo tháng")
        self.period_box.pack(side="left")
        self.period_box.bind("<<ComboboxSelected>>", lambda _e: self.load())
        ttk.Label(bar, text="Từ ngày").pack(side="left", padx=(14, 4))
        self.since_entry = ttk.Entry(bar, width=12)
        self.since_entry.pack(side="left")
        ttk.Label(bar, text="Đến ngày").pack(side="left", padx=(10, 4))
        self.until_entry = ttk.Entry(bar, width=12)
        self.until_entry.pack(side="left")
        self.view_button = ttk.Button(
            bar, text="Xem (Enter)", bootstyle="primary", command=self.load
        )
        self.view_button.pack(side="left", padx=(10, 0))
        for widget in (self.period_box, self.since_entry, self.until_entry, self.view_button):
            widget.bind("<Return>", self._enter)
            widget.bind("<KP_Enter>", self._enter)
        # The export sits on the hint's line: one row of controls must fit a 960 px window.
        hint = ttk.Frame(self)
        hint.pack(fill="x", pady=(4, 0))
        ttk.Label(
            hint, text="Ngày viết dd/mm/yyyy; để trống là toàn bộ hồ sơ.", bootstyle="secondary"
        ).pack(side="left")
        self.export_button = ttk.Button(
            hint,
            text="Xuất Excel…",
            bootstyle="success-outline",
            command=self.choose_export_path,
            state="disabled",
        )
        self.export_button.pack(side="right")

    def _enter(self, _event: object) -> str:
        self.load()
        return "break"

    # -- loading --------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        """Whether an answer from the server is still awaited."""
        return self._answered < self._asked

    def _dates(self) -> tuple[dt.date | None, dt.date | None]:
        """Return the typed dates (None when empty).

        Raises:
            ValueError: a Vietnamese message naming the box; that box gets the focus.
        """
        found: list[dt.date | None] = []
        for entry, name in ((self.since_entry, "Từ ngày"), (self.until_entry, "Đến ngày")):
            text = entry.get().strip()
            try:
                found.append(parse_date_vn(text) if text else None)
            except ValueError as error:
                entry.focus_set()
                raise ValueError(f"«{name}»: {error}") from None
        since, until = found
        if since and until and since > until:
            self.since_entry.focus_set()
            raise ValueError(MSG_EMPTY_RANGE)
        return since, until

    def load(self) -> None:
        """Check the controls, then fetch the figures on a worker ("Xem", Enter, F5)."""
        try:
            since, until = self._dates()
        except ValueError as error:
            self._say(str(error), "danger")
            return
        console = self.services.console
        if console is None:
            self._say("Máy này chưa kết nối với máy chủ tỉnh.", "danger")
            return
        period = PERIODS.get(self.period_box.get(), "month")
        self._asked += 1
        number = self._asked
        self._say("Đang tải thống kê…", "secondary")
        self.services.tasks.run(
            fetch_tables,
            console,
            period,
            since.isoformat() if since else None,
            until.isoformat() if until else None,
            on_done=lambda tables: self._loaded(number, period, since, until, tables),
            on_error=lambda error: self._failed(number, error),
            description="Đang tải thống kê",
        )

    def _loaded(
        self,
        number: int,
        period: str,
        since: dt.date | None,
        until: dt.date | None,
        tables: list[Table],
    ) -> None:
        if number != self._asked:
            return  # an older request answered late: a newer one is on its way
        self._answered = number
        self.tables, self.period = list(tables), period
        label = next(text for text, p in PERIODS.items() if p == period)
        stamp = format_datetime_vn(dt.datetime.now())
        self.subtitle = f"{label} · {range_text(since, until)} · số liệu lúc {stamp}"
        self._show_tables()
        total = self.tables[0].rows[-1][-1] if self.tables and self.tables[0].rows else 0
        self._say(f"Tổng cộng {cell_text(total)} hồ sơ ({range_text(since, until)}).", "secondary")
        self.export_button.configure(state="normal" if self.tables else "disabled")

    def _show_tables(self) -> None:
        chosen = self.notebook.index("current") if self.pages else 0
        for page in self.pages.values():
            page.destroy()
        self.pages = {}
        for table in self.tables:
            page = TablePage(self.notebook, table, self.subtitle)
            self.notebook.add(page, text=TAB_NAMES.get(table.key, table.title), underline=-1)
            self.pages[table.key] = page
        if self.pages:
            self.notebook.select(min(chosen, len(self.pages) - 1))

    def _failed(self, number: int, error: BaseException) -> None:
        if number != self._asked:
            return
        self._answered = number
        if isinstance(error, ConsoleError):
            self._say(error.clerk_message, "danger")
        else:
            log.error("loading the statistics failed", exc_info=error)
            self._say(MSG_FAILED, "danger")

    def _say(self, text: str, style: str) -> None:
        self.message.configure(text=text, bootstyle=style)

    # -- export ---------------------------------------------------------------------------------

    def default_file_name(self) -> str:
        """Return the file name the save dialog proposes."""
        return export_file_name(self.period, self._today or dt.date.today())

    def choose_export_path(self) -> None:
        """Ask where to save (the save dialog), then export there ("Xuất Excel…")."""
        if not self.tables:
            self._say(MSG_NOTHING, "danger")
            return
        from tkinter import filedialog

        folder = self.last_export.parent if self.last_export else Path.home()
        path = filedialog.asksaveasfilename(
            parent=self,
            title="Xuất thống kê ra tệp Excel",
            defaultextension=".xlsx",
            filetypes=[("Tệp Excel", "*.xlsx")],
            initialdir=str(folder),
            initialfile=self.default_file_name(),
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the tables shown to an .xlsx file at ``path`` on a worker; a toast says where."""
        if not self.tables:
            self._say(MSG_NOTHING, "danger")
            return
        self.exporting = True
        self.export_button.configure(state="disabled")
        self.services.tasks.run(
            functools.partial(write_xlsx, subtitle=self.subtitle),
            list(self.tables),
            Path(path),
            on_done=self._exported,
            on_error=lambda error: self._export_failed(Path(path), error),
            description="Đang xuất Excel",
        )

    def _exported(self, path: Path) -> None:
        self.exporting = False
        self.last_export = path
        self.export_button.configure(state="normal")
        self._say(f"Đã lưu thống kê vào {path}", "success")
        self.services.toast(f"Đã xuất thống kê ra {path}")

    def _export_failed(self, path: Path, error: BaseException) -> None:
        self.exporting = False
        self.export_button.configure(state="normal")
        log.error("exporting the statistics failed", exc_info=error)
        self._say(
            f"Không ghi được tệp {path}. Hãy chọn thư mục khác, hoặc đóng tệp nếu nó đang mở "
            "trong Excel.",
            "danger",
        )

    # -- shell hooks ----------------------------------------------------------------------------

    def on_show(self, **_kwargs: Any) -> None:
        """Load the figures the first time; put the cursor in the first date box."""
        if not self.tables and not self.loading:
            self.load()
        self.since_entry.focus_set()

    def refresh(self) -> None:
        """Fetch the figures again with the same choices (F5)."""
        self.load()

    def page(self, key: str) -> TablePage:
        """Return the tab of the table ``key`` (``xa_thu_tuc``, ``trang_thai``, …)."""
        return self.pages[key]
