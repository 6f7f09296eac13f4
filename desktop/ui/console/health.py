"""The console's "Tình trạng đồng bộ" screen: every commune of the province at a glance, no map.

One line says what needs provincial IT (communes gone quiet for more than a day, with open
conflicts, with devices in error, changes still waiting on the PCs); the table below lists all
99 communes (the server's ``health.communes``: communes with no PC are there too), most urgent
first, sortable by any heading (again = reverse) or by the "Sắp xếp theo" box from the keyboard.
Enter or a double-click opens the commune's devices.

A commune with no PC that never synced is "chưa có máy": the server counts it as not synced
for more than a day, and the table says so, but it is greyed and the "Chỉ xã có vấn đề" filter
leaves it out — while the PCs are rolled out it is a plan, not an alarm, and 97 yellow rows
would hide the two communes that really went quiet.
"""

from __future__ import annotations

import datetime as dt
import logging
import tkinter
import tkinter.font
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError
from desktop.forms.dates import format_datetime_vn
from desktop.forms.vietnamese import collation_key
from desktop.ui.services import Services

if TYPE_CHECKING:
    from protocol.admin import CommuneHealth

log = logging.getLogger(__name__)

Anchor = Literal["w", "e", "center"]
#: The table's columns: (column id, heading, width in pixels, anchor).
COLUMNS: tuple[tuple[str, str, int, Anchor], ...] = (
    ("name", "Xã", 160, "w"),
    ("devices", "Số máy", 50, "e"),
    ("last_sync", "Lần đồng bộ cuối", 125, "w"),
    ("stale", "Quá 1 ngày", 70, "center"),
    ("conflicts", "Xung đột", 50, "e"),
    ("errors", "Lỗi", 40, "e"),
    ("pending", "Chờ gửi", 50, "e"),
    ("dossiers", "Hồ sơ", 50, "e"),
)

#: The default order: most urgent first (errors, conflicts, gone quiet, no PC yet, fine).
URGENCY = "urgency"
#: The "Sắp xếp theo" choices: (label, column).
SORT_CHOICES: tuple[tuple[str, str], ...] = (
    ("Cần xử lý trước", URGENCY),
    *((text, column) for column, text, _w, _a in COLUMNS),
)
#: Columns whose first sort is biggest first (counts and "yes" before "no").
DESCENDING_FIRST = frozenset({"devices", "stale", "conflicts", "errors", "pending", "dossiers"})

NEVER = "chưa bao giờ"
YES, NO = "✓", "—"
ARROW_UP, ARROW_DOWN = " ▲", " ▼"
MSG_FAILED = "Không tải được tình trạng đồng bộ. Hãy thử lại (F5); nếu vẫn lỗi, xem nhật ký."


# -- what a commune's row says (no Tk) ----------------------------------------------------------


def commune_label(health: CommuneHealth) -> str:
    """Return the commune's name, or its code when the reference does not know it."""
    return health["name"] or health["commune"]


def without_pc(health: CommuneHealth) -> bool:
    """Whether the commune has no PC yet: no active device, never synced, nothing wrong."""
    return (
        health["devices"] == 0
        and health["last_sync"] is None
        and not health["errors"]
        and not health["conflicts_open"]
    )


def gone_quiet(health: CommuneHealth) -> bool:
    """Whether the commune has not synced for more than a day while it has (or had) a PC."""
    return health["stale"] and not without_pc(health)


def has_problem(health: CommuneHealth) -> bool:
    """Whether the commune needs provincial IT: gone quiet, open conflicts or devices in error."""
    return gone_quiet(health) or health["conflicts_open"] > 0 or health["errors"] > 0


def format_last_sync(ms: int | None) -> str:
    """Return the server time ``ms`` (Unix ms) as local ``dd/mm/yyyy HH:MM``; "chưa bao giờ"."""
    if ms is None:
        return NEVER
    return format_datetime_vn(dt.datetime.fromtimestamp(ms / 1000))


def row_cells(health: CommuneHealth) -> tuple[str, ...]:
    """Return the texts of a commune's row, in the order of :data:`COLUMNS`."""
    return (
        commune_label(health),
        str(health["devices"]),
        format_last_sync(health["last_sync"]),
        YES if health["stale"] else NO,
        str(health["conflicts_open"]),
        str(health["errors"]),
        str(health["pending"]),
        str(health["dossiers"]),
    )


def row_tags(health: CommuneHealth) -> tuple[str, ...]:
    """Return the row's colour tag: ``danger`` (errors), ``warning`` (quiet, conflicts), ``idle``."""
    if health["errors"]:
        return ("danger",)
    if gone_quiet(health) or health["conflicts_open"]:
        return ("warning",)
    if without_pc(health):
        return ("idle",)
    return ()


def urgency_key(health: CommuneHealth) -> tuple[Any, ...]:
    """Sort key of the default order: errors, conflicts, gone quiet, no PC yet, then fine."""
    if health["errors"]:
        rank = 0
    elif health["conflicts_open"]:
        rank = 1
    elif gone_quiet(health):
        rank = 2
    elif without_pc(health):
        rank = 3
    else:
        rank = 4
    return (
        rank,
        -health["errors"],
        -health["conflicts_open"],
        health["last_sync"] or 0,  # the longest silence first
        name_key(health),
    )


def name_key(health: CommuneHealth) -> tuple[Any, ...]:
    """Sort key of the commune's name in Vietnamese order (Âu Lâu after An, not after Yên)."""
    return collation_key(commune_label(health))


#: Sort key of each column (ties are broken by the commune's name).
SORT_KEYS: dict[str, Callable[[CommuneHealth], Any]] = {
    URGENCY: urgency_key,
    "name": name_key,
    "devices": lambda h: h["devices"],
    "last_sync": lambda h: h["last_sync"] or 0,  # never synced sorts as the oldest
    "stale": lambda h: h["stale"],
    "conflicts": lambda h: h["conflicts_open"],
    "errors": lambda h: h["errors"],
    "pending": lambda h: h["pending"],
    "dossiers": lambda h: h["dossiers"],
}


def sorted_communes(
    communes: Sequence[CommuneHealth], column: str, descending: bool
) -> list[CommuneHealth]:
    """Return ``communes`` sorted by ``column`` (ties by name, always A→Z)."""
    by_name = sorted(communes, key=name_key)
    return sorted(by_name, key=SORT_KEYS[column], reverse=descending)


def health_summary(communes: Sequence[CommuneHealth]) -> str:
    """Return the big line: communes gone quiet, with conflicts, with errors; changes waiting."""
    quiet = sum(1 for h in communes if gone_quiet(h))
    conflicts = sum(1 for h in communes if h["conflicts_open"])
    errors = sum(1 for h in communes if h["errors"])
    pending = sum(h["pending"] for h in communes)
    return (
        f"{quiet} xã quá một ngày chưa đồng bộ · {conflicts} xã có xung đột · "
        f"{errors} xã có lỗi · {pending} thay đổi chờ gửi"
    )


def coverage_line(communes: Sequence[CommuneHealth]) -> str:
    """Return the small line under it: how many communes have no PC yet, dossiers held."""
    idle = sum(1 for h in communes if without_pc(h))
    dossiers = sum(h["dossiers"] for h in communes)
    return (
        f"{len(communes)} xã, {len(communes) - idle} xã đã có máy; {idle} xã chưa có máy nào "
        f"đồng bộ (không tính ở dòng trên). Máy chủ đang giữ {dossiers} hồ sơ."
    )


def _tint(color: str, background: str, amount: float) -> str:
    """Return ``color`` mixed into ``background`` (``amount`` of it): a pale row background."""
    mixed = (
        round(int(background[i : i + 2], 16) * (1 - amount) + int(color[i : i + 2], 16) * amount)
        for i in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02x}" for c in mixed)


# -- the screen ---------------------------------------------------------------------------------


class SyncHealthScreen(ttk.Frame):
    """Sync health of every commune (see the module docstring).

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` answers ``health()``).
        **kwargs: ignored.
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the summary, the controls and the table; the data comes with ``on_show``."""
        super().__init__(master)
        self.services = services
        self.communes: list[CommuneHealth] = []
        self.sort_column = URGENCY
        self.descending = False
        self.loaded_at: dt.datetime | None = None
        self._asked = 0
        self._answered = 0
        self.problems_only = tkinter.BooleanVar(master=self, value=False)
        self._build_summary()
        self._build_controls()
        self._build_table()

    def _build_summary(self) -> None:
        self.summary_label = ttk.Label(
            self, text="Đang tải tình trạng đồng bộ…", font="-size 13 -weight bold"
        )
        self.summary_label.pack(anchor="w", fill="x")
        self.coverage_label = ttk.Label(self, text="", bootstyle="secondary", justify="left")
        self.coverage_label.pack(anchor="w", pady=(2, 6))
        # The summary wraps to the screen's width (the window may be as narrow as 960 px).
        self.bind("<Configure>", self._rewrap, add="+")

    def _build_controls(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        ttk.Label(bar, text="Sắp xếp theo").pack(side="left")
        self.sort_box = ttk.Combobox(
            bar, values=[label for label, _c in SORT_CHOICES], state="readonly", width=20
        )
        self.sort_box.set(SORT_CHOICES[0][0])
        self.sort_box.pack(side="left", padx=(6, 16))
        self.sort_box.bind("<<ComboboxSelected>>", self._sort_chosen)
        self.problems_box = ttk.Checkbutton(
            bar, text="Chỉ xã có vấn đề", variable=self.problems_only, command=self.render
        )
        self.problems_box.pack(side="left")
        self.reload_button = ttk.Button(
            bar, text="Tải lại (F5)", bootstyle="secondary-outline", command=self.refresh
        )
        self.reload_button.pack(side="right")
        self.error_label = ttk.Label(self, text="", bootstyle="danger", wraplength=900)
        counts = ttk.Frame(self)
        counts.pack(fill="x", pady=(0, 2))
        self.count_label = ttk.Label(counts, text="", bootstyle="secondary")
        self.count_label.pack(side="left")
        self.updated_label = ttk.Label(counts, text="", bootstyle="secondary")
        self.updated_label.pack(side="right")
        self._counts_row = counts

    def _build_table(self) -> None:
        holder = ttk.Frame(self)
        holder.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(
            holder, columns=[c for c, _t, _w, _a in COLUMNS], show="headings", selectmode="browse"
        )
        for column, _text, _width, anchor in COLUMNS:
            self.tree.heading(column, anchor=anchor, command=self._heading(column))
            self.tree.column(column, minwidth=40, anchor=anchor, stretch=column == "name")
        self._show_headings()
        scrollbar = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        colors = ttk.Style.get_instance().colors
        self.tree.tag_configure("danger", background=_tint(colors.danger, colors.bg, 0.16))
        self.tree.tag_configure("warning", background=_tint(colors.warning, colors.bg, 0.22))
        self.tree.tag_configure("idle", foreground=colors.secondary)
        self.tree.bind("<Return>", self._open_event)
        self.tree.bind("<KP_Enter>", self._open_event)
        self.tree.bind("<Double-1>", self._double_click)

    def _heading(self, column: str) -> Callable[[], None]:
        return lambda: self.sort_by(column)

    def _rewrap(self, event: tkinter.Event[tkinter.Misc]) -> None:
        if event.widget is self:
            for label in (self.summary_label, self.coverage_label, self.error_label):
                label.configure(wraplength=max(event.width - 10, 300))

    # -- loading --------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        """Whether an answer from the server is still awaited."""
        return self._answered < self._asked

    def refresh(self) -> None:
        """Reload every commune's health from the server (F5), on a worker."""
        console = self.services.console
        if console is None:
            self._show_error("Máy này chưa kết nối với máy chủ tỉnh.")
            return
        self._asked += 1
        number = self._asked
        self.updated_label.configure(text="Đang tải…")
        self.services.tasks.run(
            console.health,
            on_done=lambda communes: self._loaded(number, communes),
            on_error=lambda error: self._failed(number, error),
            description="Đang tải tình trạng đồng bộ",
        )

    def _loaded(self, number: int, communes: list[CommuneHealth]) -> None:
        if number != self._asked:
            return  # an older request answered late: a newer one is on its way
        self._answered = number
        self.communes = list(communes)
        self.loaded_at = dt.datetime.now()
        self.updated_label.configure(text=f"Cập nhật lúc {self.loaded_at:%H:%M}")
        self.error_label.pack_forget()
        self.summary_label.configure(text=health_summary(self.communes))
        self.coverage_label.configure(text=coverage_line(self.communes))
        self.render()

    def _failed(self, number: int, error: BaseException) -> None:
        if number != self._asked:
            return
        self._answered = number
        if isinstance(error, ConsoleError):
            self._show_error(error.clerk_message)
        else:
            log.error("loading the sync health failed", exc_info=error)
            self._show_error(MSG_FAILED)
        self.updated_label.configure(
            text=f"Cập nhật lúc {self.loaded_at:%H:%M}" if self.loaded_at else ""
        )

    def _show_error(self, text: str) -> None:
        self.error_label.configure(text=text)
        self.error_label.pack(anchor="w", pady=(0, 6), before=self._counts_row)

    # -- sorting and showing -------------------------------------------------------------------

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        """Sort by ``column``; the same column again reverses (heading clicks, the sort box).

        Args:
            column: a column id of :data:`COLUMNS` or :data:`URGENCY`.
            descending: force a direction; None picks the column's natural one, or flips it.
        """
        if descending is None:
            if column == self.sort_column:
                descending = not self.descending
            else:
                descending = column in DESCENDING_FIRST
        self.sort_column, self.descending = column, descending
        self._show_headings()
        label = next(label for label, c in SORT_CHOICES if c == column)
        self.sort_box.set(label)
        self.render()

    def _show_headings(self) -> None:
        """Write the headings, the sorted one with its arrow, each column wide enough for it."""
        # Treeview headings use the default font (the theme sets none of their own).
        font = tkinter.font.nametofont("TkDefaultFont")
        for name, text, width, _anchor in COLUMNS:
            if name == self.sort_column:
                text += ARROW_DOWN if self.descending else ARROW_UP
            self.tree.heading(name, text=text)
            self.tree.column(name, width=max(width, font.measure(text) + 14))

    def _sort_chosen(self, _event: object = None) -> None:
        label = self.sort_box.get()
        column = next((c for text, c in SORT_CHOICES if text == label), URGENCY)
        self.sort_by(column)
        self.sort_box.selection_clear()

    def render(self) -> None:
        """Show the loaded communes in the chosen order and filter (keeps the selected one)."""
        tree = self.tree
        keep = tree.focus()
        tree.delete(*tree.get_children())
        shown = sorted_communes(self.communes, self.sort_column, self.descending)
        if self.problems_only.get():
            shown = [h for h in shown if has_problem(h)]
        for health in shown:
            code = health["commune"]
            tree.insert("", "end", iid=code, values=row_cells(health), tags=row_tags(health))
        children = tree.get_children()
        if children:
            target = keep if keep in children else children[0]
            tree.selection_set(target)
            tree.focus(target)
            tree.see(target)
        if not self.communes:
            self.count_label.configure(text="")
        elif self.problems_only.get():
            self.count_label.configure(
                text=f"{len(shown)} xã có vấn đề trên {len(self.communes)} xã"
                if shown
                else "Không xã nào có vấn đề."
            )
        else:
            self.count_label.configure(text=f"{len(shown)} xã")

    def rows(self) -> list[tuple[str, ...]]:
        """Return the shown rows' cell texts, top to bottom (tests and screen readers)."""
        return [
            tuple(str(v) for v in self.tree.item(i, "values")) for i in self.tree.get_children()
        ]

    # -- opening a commune ---------------------------------------------------------------------

    def open_selected(self) -> None:
        """Open the selected commune's devices (the devices screen, filtered to it)."""
        code = self.tree.focus() or next(iter(self.tree.selection()), "")
        if code:
            self.services.navigate("devices", commune=code)

    def _open_event(self, _event: object) -> str:
        self.open_selected()
        return "break"

    def _double_click(self, event: tkinter.Event[tkinter.Misc]) -> str | None:
        if self.tree.identify_region(event.x, event.y) != "cell":
            return None  # a double-click on a heading sorts twice; it opens nothing
        self.open_selected()
        return "break"

    # -- shell hooks ----------------------------------------------------------------------------

    def on_show(self, **_kwargs: Any) -> None:
        """Reload (a commune may have synced since) and put the focus in the table."""
        self.refresh()
        self.tree.focus_set()
