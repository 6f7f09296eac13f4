"""The console's "Xung đột" screen: every open conflict of the province, a page at a time.

Filters (commune — typing narrows the list —, procedure, kind, age, status) are sent to the
server, which pages the list (``services.console.conflicts``, 200 rows a page, newest first);
provincial IT moves between pages with the buttons or PageUp / PageDown (Ctrl+Home / Ctrl+End
for the first and the last page, where the oldest conflicts are). Every change of a filter
starts again at page 1. Each load runs on a worker; an answer to an older request than the last
one asked is dropped, so quick clicking never shows a stale page.

Enter or a double-click opens the selected conflict side by side (screen "conflict"); a
suspected duplicate opens in the duplicate review instead (screen "duplicates").
"""

from __future__ import annotations

import dataclasses
import logging
import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError, ConsoleService
from desktop.forms.procedures import PROCEDURES, procedure_title
from desktop.forms.reference import communes
from desktop.forms.vietnamese import collation_key, fold
from desktop.ui.console.conflict_text import (
    KIND_LABELS,
    STATUS_LABELS,
    age_text,
    commune_name,
    count_text,
    field_label,
    page_text,
)
from desktop.ui.console.conflict_widgets import ScreenKeys
from desktop.ui.services import Services
from protocol.admin import ConflictSummary, Page

log = logging.getLogger(__name__)

#: Rows on one page (the server allows up to 500).
PAGE_SIZE = 200
ALL_COMMUNES = "Tất cả các xã"
ALL = "Tất cả"
#: The age filter: label → ``min_age_days``.
AGES = {"Mọi lúc": 0, "hơn 1 ngày": 1, "hơn 7 ngày": 7, "hơn 30 ngày": 30}
#: The status filter: label → ``status``.
STATUSES = {"Đang mở": "open", "Đã giải quyết": "resolved", "Tất cả": "all"}
#: The table's columns: (id, heading, width, stretches).
COLUMNS = (
    ("kind", "Loại", 130, False),
    ("commune", "Xã", 118, False),
    ("procedure", "Thủ tục", 92, False),
    ("who", "Hồ sơ", 175, True),
    ("fields", "Trường xung đột", 150, True),
    ("device", "Máy · cán bộ", 110, True),
    ("age", "Đã mở", 80, False),
    ("status", "Trạng thái", 175, False),
)
MSG_LOADING = "Đang tải danh sách xung đột…"
MSG_FAILED = "Không tải được danh sách xung đột. Hãy thử lại (F5); nếu vẫn lỗi, xem nhật ký."
MSG_EMPTY = "Không có xung đột nào khớp với bộ lọc."


@dataclasses.dataclass(frozen=True)
class InboxFilter:
    """What the inbox asks the server for (``ConsoleService.conflicts``'s filters)."""

    commune: str | None = None
    procedure: str | None = None
    kind: str | None = None
    status: str = "open"
    min_age_days: int = 0


def fetch_page(
    console: ConsoleService, filters: InboxFilter, offset: int, with_devices: bool
) -> tuple[Page, dict[str, str] | None]:
    """Return a page of conflicts and, when asked, every device's label (on a worker)."""
    page = console.conflicts(**dataclasses.asdict(filters), offset=offset, limit=PAGE_SIZE)
    labels = None
    if with_devices:
        try:
            labels = {d["device_id"]: d["label"] for d in console.devices()}
        except ConsoleError:
            labels = None  # the page is what matters; the clerk's name still shows
    return page, labels


def row_cells(item: ConflictSummary, labels: dict[str, str], now_ms: int | None = None) -> tuple:
    """Return the table cells of one conflict (see :data:`COLUMNS`)."""
    procedure = item.get("procedure")
    commune = commune_name(item["commune"])
    if item.get("other_commune") and item["other_commune"] != item["commune"]:
        commune += f" ↔ {commune_name(item['other_commune'] or '')}"
    who = " · ".join(x for x in (item.get("title"), item.get("dossier_no")) if x)
    device = " · ".join(x for x in (labels.get(item["device_id"], ""), item["clerk"]) if x)
    return (
        KIND_LABELS.get(item["kind"], item["kind"]),
        commune,
        procedure_title(procedure, short=True) or "—",
        who or "—",
        ", ".join(field_label(procedure, f) for f in item["fields"]) or "—",
        device or "—",
        age_text(item["created_at"], now_ms),
        status_cell(item),
    )


def status_cell(item: ConflictSummary) -> str:
    """Return "Đang mở", or for a resolved conflict how many of its commune's PCs hold the
    decision: "Đã giải quyết · 1/2 máy" (the conflict view lists which)."""
    status = STATUS_LABELS.get(item["status"], item["status"])
    delivered, devices = item.get("delivered"), item.get("devices")
    if item["status"] != "resolved" or delivered is None or not devices:
        return status
    return f"{status} · {delivered}/{devices} máy"


class ConflictInboxScreen(ttk.Frame):
    """The conflict inbox (see the module docstring).

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` is the server link).
        **_kwargs: ignored.

    Attributes:
        items: the conflicts of the page shown, in order.
        total: how many conflicts match the filters.
        offset: where the page shown starts.
    """

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: Any) -> None:
        """Build the filters, the page bar and the table; the first load starts on show."""
        super().__init__(master)
        self.services = services
        self.items: list[ConflictSummary] = []
        self.total = 0
        self.offset = 0
        self._wanted = 0  # the offset last asked for (may be ahead of the one shown)
        self.error = ""
        self._asked = 0
        self._shown = 0
        self._device_labels: dict[str, str] | None = None
        self._applied = InboxFilter()
        # Sorted by the name without "Xã"/"Phường", as people look communes up.
        ordered = sorted(communes(), key=lambda c: collation_key(c.short_name))
        self._communes = {c.name: c.code for c in ordered}
        self._commune_names = [c.name for c in ordered]
        self._build_filters()
        self._build_page_bar()
        self._build_table()
        self.screen_keys = ScreenKeys(
            self,
            {
                "<Prior>": self.previous_page,
                "<Next>": self.next_page,
                "<Control-Home>": self.first_page,
                "<Control-End>": self.last_page,
            },
        )
        self.screen_keys.tag_all()

    # -- building ------------------------------------------------------------------------------

    def _build_filters(self) -> None:
        bar = self.filter_bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        self._filter_cells: list[tuple[ttk.Label, ttk.Combobox]] = []
        procedures = {ALL: None, **{p.title: code for code, p in PROCEDURES.items()}}
        kinds = {ALL: None, **{label: kind for kind, label in KIND_LABELS.items()}}
        self._choices: dict[str, dict[str, Any]] = {
            "procedure": procedures,
            "kind": kinds,
            "age": AGES,
            "status": STATUSES,
        }
        self.commune_box = self._combobox(
            bar, 0, "Xã, phường", [ALL_COMMUNES, *self._commune_names]
        )
        self.commune_box.configure(state="normal", width=20)
        self.commune_box.bind("<KeyRelease>", self._commune_typed, add="+")
        self.commune_box.bind("<Return>", self._commune_entered)
        self.commune_box.bind("<KP_Enter>", self._commune_entered)
        self.commune_box.bind("<FocusOut>", self._commune_left, add="+")
        self.commune_box.bind("<FocusIn>", self._commune_entered_box, add="+")
        self.procedure_box = self._combobox(bar, 1, "Thủ tục", list(procedures), width=27)
        self.kind_box = self._combobox(bar, 2, "Loại xung đột", list(kinds), width=15)
        self.age_box = self._combobox(bar, 3, "Đã mở", list(AGES), width=11)
        self.status_box = self._combobox(bar, 4, "Trạng thái", list(STATUSES), width=12)
        bar.bind("<Configure>", self._reflow_filters, add="+")
        self._filter_rows = 1

    def _combobox(
        self, bar: ttk.Frame, column: int, label: str, values: list[str], width: int = 20
    ) -> ttk.Combobox:
        heading = ttk.Label(bar, text=label, bootstyle="secondary")
        heading.grid(row=0, column=column, sticky="w", padx=(0, 8))
        box = ttk.Combobox(bar, values=values, width=width, state="readonly")
        box.set(values[0])
        box.grid(row=1, column=column, sticky="w", padx=(0, 8))
        box.bind("<<ComboboxSelected>>", lambda _e: self.apply_filters(), add="+")
        self._filter_cells.append((heading, box))
        return box

    def _reflow_filters(self, event: tkinter.Event[Any]) -> None:
        """Put the last filters on a second line when the window is too narrow for one."""
        needed = sum(box.winfo_reqwidth() + 8 for _, box in self._filter_cells)
        rows = 1 if event.width >= needed else 2
        if rows == self._filter_rows:
            return
        self._filter_rows = rows
        for index, (heading, box) in enumerate(self._filter_cells):
            second = rows == 2 and index >= 3
            row, column = (2, index - 3) if second else (0, index)
            heading.grid(row=row, column=column)
            box.grid(row=row + 1, column=column)

    def _build_page_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 4))
        self.count_label = ttk.Label(bar, text="", font="-weight bold")
        self.count_label.pack(side="left")
        self.message = ttk.Label(bar, text="", bootstyle="secondary")
        self.message.pack(side="left", padx=(16, 0))
        self.last_button = ttk.Button(
            bar, text="Cuối »", bootstyle="secondary-outline", command=self.last_page
        )
        self.next_button = ttk.Button(
            bar, text="Sau (PgDn) ▶", bootstyle="secondary-outline", command=self.next_page
        )
        self.previous_button = ttk.Button(
            bar,
            text="◀ Trước (PgUp)",
            bootstyle="secondary-outline",
            command=self.previous_page,
        )
        self.first_button = ttk.Button(
            bar, text="« Đầu", bootstyle="secondary-outline", command=self.first_page
        )
        for button in (self.last_button, self.next_button, self.previous_button):
            button.pack(side="right", padx=(4, 0))
        self.first_button.pack(side="right", padx=(4, 0))

    def _build_table(self) -> None:
        holder = ttk.Frame(self)
        holder.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(
            holder, columns=[c[0] for c in COLUMNS], show="headings", selectmode="browse"
        )
        for column, text, width, stretch in COLUMNS:
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(
                column, width=width, minwidth=70 if stretch else width, anchor="w", stretch=stretch
            )
        scrollbar = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.tag_configure("resolved", foreground="#6c757d")
        self.tree.bind("<Return>", lambda _e: self._open_key())
        self.tree.bind("<KP_Enter>", lambda _e: self._open_key())
        self.tree.bind("<Double-1>", self._double_click)
        self.hint = ttk.Label(
            self,
            text="Enter hoặc nhấp đúp: mở xung đột · PgUp/PgDn: trang trước/sau · F5: tải lại",
            bootstyle="secondary",
        )
        self.hint.pack(anchor="w", pady=(4, 0))

    # -- filters -------------------------------------------------------------------------------

    def filters(self) -> InboxFilter:
        """Return the filters the widgets show now."""

        def pick(name: str, box: ttk.Combobox) -> Any:
            return self._choices[name].get(box.get())

        return InboxFilter(
            commune=self._communes.get(self.commune_box.get()),
            procedure=pick("procedure", self.procedure_box),
            kind=pick("kind", self.kind_box),
            status=pick("status", self.status_box) or "open",
            min_age_days=pick("age", self.age_box) or 0,
        )

    def set_commune(self, name: str) -> None:
        """Filter on the commune named ``name`` (or every commune for ``Tất cả các xã``)."""
        self.commune_box.set(name)
        self.commune_box.configure(values=[ALL_COMMUNES, *self._commune_names])
        self.apply_filters()

    def apply_filters(self) -> None:
        """Load page 1 with the filters shown (nothing happens when they did not change)."""
        wanted = self.filters()
        if wanted == self._applied and self._shown:
            return
        self.load(0)

    def _matches(self, text: str) -> list[str]:
        folded = fold(text).strip()
        return [n for n in self._commune_names if folded in fold(n)] if folded else []

    def _commune_typed(self, event: tkinter.Event[Any]) -> None:
        if event.keysym in ("Return", "KP_Enter", "Up", "Down", "Tab", "Escape", "Prior", "Next"):
            return
        text = self.commune_box.get()
        narrowed = self._matches(text) if fold(text).strip() else self._commune_names
        self.commune_box.configure(values=[ALL_COMMUNES, *narrowed])

    def _commune_entered(self, _event: tkinter.Event[Any]) -> str:
        text = self.commune_box.get().strip()
        if not text or text == ALL_COMMUNES:
            self.set_commune(ALL_COMMUNES)
            return "break"
        exact = [n for n in self._commune_names if fold(n) == fold(text)]
        matches = exact or self._matches(text)
        if matches:
            self.set_commune(matches[0])
        else:
            self.message.configure(text=f"Không có xã nào tên «{text}».", bootstyle="danger")
        return "break"

    def _commune_entered_box(self, _event: tkinter.Event[Any]) -> None:
        # Typing replaces the name shown: one looks a commune up by typing a part of it.
        self.commune_box.select_range(0, "end")
        self.commune_box.icursor("end")

    def _commune_left(self, _event: tkinter.Event[Any]) -> None:
        text = self.commune_box.get().strip()
        if not text:
            self.set_commune(ALL_COMMUNES)
        elif any(fold(n) == fold(text) for n in self._commune_names) or text == ALL_COMMUNES:
            self.apply_filters()

    # -- loading -------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Return True when the page shown answers the last request (tests and the bench)."""
        return self._shown == self._asked and self._asked > 0

    def load(self, offset: int) -> None:
        """Load the page starting at ``offset`` with the filters shown, on a worker."""
        console = self.services.console
        if console is None:
            return
        self._asked += 1
        self._wanted = max(offset, 0)
        number, filters = self._asked, self.filters()
        self.message.configure(text=MSG_LOADING, bootstyle="secondary")
        self.services.tasks.run(
            fetch_page,
            console,
            filters,
            self._wanted,
            self._device_labels is None,
            on_done=lambda answer: self._loaded(number, filters, answer),
            on_error=lambda error: self._failed(number, error),
            description="Đang tải hộp xung đột",
        )

    def go_to(self, offset: int) -> None:
        """Show the page that starts at ``offset`` (rounded down to a page)."""
        self.load(max(offset, 0) // PAGE_SIZE * PAGE_SIZE)

    def first_page(self) -> None:
        """Show page 1."""
        self.load(0)

    def previous_page(self) -> None:
        """Show the page before this one (before the one asked for, on quick presses)."""
        if self._wanted > 0:
            self.load(max(self._wanted - PAGE_SIZE, 0))

    def next_page(self) -> None:
        """Show the page after this one (after the one asked for, on quick presses)."""
        if self._wanted + PAGE_SIZE < self.total:
            self.load(self._wanted + PAGE_SIZE)

    def last_page(self) -> None:
        """Show the last page (the oldest conflicts)."""
        if self.total:
            self.go_to(self.total - 1)

    def _loaded(
        self, number: int, filters: InboxFilter, answer: tuple[Page, dict[str, str] | None]
    ) -> None:
        if number != self._asked or not self.winfo_exists():
            return  # a newer request is on its way: this answer is stale
        page, labels = answer
        if labels is not None:
            self._device_labels = labels
        if not page["items"] and page["offset"] > 0 and page["total"] > 0:
            self.go_to(page["total"] - 1)  # conflicts were resolved meanwhile: the last page
            return
        self._shown = number
        self._applied = filters
        self.error = ""
        self.items, self.total, self.offset = list(page["items"]), page["total"], page["offset"]
        self._fill_tree()
        self.count_label.configure(text=self._count_text())
        self.message.configure(text="" if self.items else MSG_EMPTY, bootstyle="secondary")
        self._update_buttons()

    def _count_text(self) -> str:
        text = page_text(self.offset, len(self.items), self.total)
        if self.total > PAGE_SIZE:
            pages = (self.total + PAGE_SIZE - 1) // PAGE_SIZE
            text += f" (trang {count_text(self.offset // PAGE_SIZE + 1)}/{count_text(pages)})"
        return text

    def _fill_tree(self) -> None:
        tree = self.tree
        selected = tree.selection()
        tree.delete(*tree.get_children())
        labels = self._device_labels or {}
        for item in self.items:
            tags = ("resolved",) if item["status"] == "resolved" else ()
            tree.insert("", "end", iid=str(item["id"]), values=row_cells(item, labels), tags=tags)
        keep = [i for i in selected if tree.exists(i)]
        children = tree.get_children()
        target = keep[0] if keep else (children[0] if children else None)
        if target is not None:
            tree.selection_set(target)
            tree.focus(target)
            tree.see(target)

    def _failed(self, number: int, error: BaseException) -> None:
        if number != self._asked or not self.winfo_exists():
            return
        self._shown = number
        if isinstance(error, ConsoleError):
            self.error = error.clerk_message
        else:
            log.error("loading the conflict inbox failed", exc_info=error)
            self.error = MSG_FAILED
        self.message.configure(text=self.error, bootstyle="danger")
        self._update_buttons()

    def _update_buttons(self) -> None:
        more_before = self.offset > 0
        more_after = self.offset + PAGE_SIZE < self.total
        for button, enabled in (
            (self.first_button, more_before),
            (self.previous_button, more_before),
            (self.next_button, more_after),
            (self.last_button, more_after),
        ):
            button.configure(state="normal" if enabled else "disabled")

    # -- opening -------------------------------------------------------------------------------

    def selected(self) -> ConflictSummary | None:
        """Return the selected conflict (the focused row), or None."""
        chosen = self.tree.selection() or (self.tree.focus(),)
        for item in self.items:
            if str(item["id"]) in chosen:
                return item
        return None

    def open_selected(self) -> None:
        """Open the selected conflict side by side (a suspected duplicate in its review)."""
        item = self.selected()
        if item is None:
            return
        screen = "duplicates" if item["kind"] == "duplicate" else "conflict"
        self.services.navigate(screen, conflict_id=item["id"])

    def _open_key(self) -> str:
        self.open_selected()
        return "break"

    def _double_click(self, event: tkinter.Event[Any]) -> None:
        if self.tree.identify_region(event.x, event.y) == "cell":
            self.open_selected()

    # -- shell hooks ---------------------------------------------------------------------------

    def on_show(self, **_kwargs: Any) -> None:
        """Load the page shown (conflicts may have been resolved meanwhile); focus the table."""
        self.load(self.offset)
        self.tree.focus_set()

    def refresh(self) -> None:
        """Reload the page shown and the devices' names (F5)."""
        self._device_labels = None
        self.load(self.offset)

    def destroy(self) -> None:
        """Drop the screen's key bindings, then destroy it."""
        self.screen_keys.release()
        super().destroy()
