"""The field-by-field grid of a conflict: base | current | incoming, and a choice per field.

Rows whose current and incoming values differ have a yellow background; the conflict's
clashing fields (both sides changed them) are bold on orange and marked ✱, and must each be
decided: "Giữ hiện tại", "Lấy mới đến" or "Nhập giá trị" (an entry, enabled when chosen). The
other differing fields start on what the merge would keep (the incoming change where it
changed the field, else the current value). Fields whose values agree are hidden unless "Hiện
cả các trường giống nhau" is ticked. A delete or cancel against an edit adds a "Cả hồ sơ" row:
keep the record (current) or delete/cancel it (incoming). Two dossiers with one register
number keep their numbers unless a new one is typed for this dossier.

:meth:`FieldGrid.choices` turns the widgets into ``protocol.admin.validate_choices``'s shape,
or raises :class:`ChoiceProblem` saying in Vietnamese what is missing.
"""

from __future__ import annotations

import dataclasses
import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, parse_iso_date
from desktop.ui.console.conflict_text import RECORD_CHOICE, typed_value, value_text
from desktop.ui.console.conflict_widgets import ensure_styles
from desktop.ui.scroll_area import ScrollArea
from protocol.admin import ConflictDetail, FieldRow

__all__ = ["ChoiceProblem", "FieldGrid", "GridRow"]

#: Column widths on a wide window: label, base, current, incoming, choice.
WIDTHS = (180, 145, 150, 150, 290)
#: Below this width of the grid the three choices stack up and the other columns share the rest.
NARROW_BELOW = 900
NARROW_CHOICE = 140
HEADINGS = ("Trường", "Gốc", "Hiện tại", "Mới đến", "Chọn giá trị giữ lại")
#: Choice values of a row's variable.
CURRENT, INCOMING, VALUE, KEEP = "current", "incoming", "value", "keep"
CHOICE_TEXTS = {CURRENT: "Giữ hiện tại", INCOMING: "Lấy mới đến", VALUE: "Nhập giá trị"}
BOOK_TEXTS = {KEEP: "Giữ nguyên", VALUE: "Nhập số mới"}
RECORD_TEXTS = {CURRENT: "Giữ hiện tại", INCOMING: "Lấy mới đến"}
MARK = "✱ "
#: Keys that take a side, never a typed value (a status must be one the lifecycle knows).
SIDES_ONLY = (RECORD_CHOICE, "status")


class ChoiceProblem(ValueError):
    """A choice is missing or a typed value is wrong: ``message`` (Vietnamese), ``widget``."""

    def __init__(self, message: str, widget: tkinter.Misc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.widget = widget


@dataclasses.dataclass
class GridRow:
    """One row of the grid and its widgets (tests click them, the bench counts them)."""

    field: str
    label: str
    row: FieldRow
    cells: list[ttk.Label]
    highlighted: bool
    var: tkinter.StringVar | None = None
    radios: dict[str, ttk.Radiobutton] = dataclasses.field(default_factory=dict)
    entry: ttk.Entry | None = None


def _editable_text(value: Any) -> str:
    """Return a stored value as one would type it (ISO dates as dd/mm/yyyy)."""
    if value is None:
        return ""
    if isinstance(value, str) and parse_iso_date(value) is not None:
        return format_date_vn(value)
    return str(value)


def record_row(detail: ConflictDetail) -> FieldRow:
    """Return the "Cả hồ sơ" pseudo-row of a delete/cancel conflict."""
    kept, gone = "Còn hồ sơ", "Xoá/huỷ hồ sơ"
    return {
        "field": RECORD_CHOICE,
        "label": "Cả hồ sơ",
        "base": kept,
        "current": gone if detail["current_deleted"] else kept,
        "incoming": gone if detail["incoming_deletes"] else kept,
        "differs": True,
        "clashing": True,
    }


class FieldGrid(ttk.Frame):
    """The grid of one conflict (see the module docstring)."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the heading, the legend, the "show same fields" box and the scrolling body."""
        super().__init__(master)
        ensure_styles()
        self.detail: ConflictDetail | None = None
        self.editable = False
        self.rows: list[GridRow] = []
        top = ttk.Frame(self)
        top.pack(fill="x")
        self.show_same = tkinter.BooleanVar(value=False)
        self.same_box = ttk.Checkbutton(
            top,
            text="Hiện cả các trường giống nhau",
            variable=self.show_same,
            command=self._rebuild,
        )
        self.same_box.pack(side="left")
        self.legend = ttk.Label(
            top,
            text=f"{MARK}nền cam: hai bên cùng sửa, phải chọn · nền vàng: khác nhau",
            bootstyle="secondary",
        )
        self.legend.pack(side="right")
        self.heading = ttk.Frame(self, padding=(0, 4, 24, 2))
        self.heading.pack(fill="x")
        self.heading_labels: list[ttk.Label] = []
        self.widths: tuple[int, ...] = WIDTHS
        self.narrow = False
        for column, (text, width) in enumerate(zip(HEADINGS, WIDTHS, strict=True)):
            label = ttk.Label(
                self.heading, text=text, style="Head.TLabel", padding=(6, 0), wraplength=width - 14
            )
            label.grid(row=0, column=column, sticky="w")
            self.heading.columnconfigure(column, minsize=width)
            self.heading_labels.append(label)
        self.area = ScrollArea(self)
        self.area.pack(fill="both", expand=True)
        self.body = self.area.body
        for column, width in enumerate(WIDTHS):
            self.body.columnconfigure(column, minsize=width, weight=1 if column == 4 else 0)
        self.empty = ttk.Label(self.body, text="", bootstyle="secondary")
        self.area.canvas.bind("<Configure>", self._fit, add="+")

    # -- showing -------------------------------------------------------------------------------

    def show(self, detail: ConflictDetail, *, editable: bool) -> None:
        """Show ``detail``'s fields; with choice widgets when ``editable`` (an open conflict)."""
        self.detail, self.editable = detail, editable
        self.heading_labels[2].configure(
            text="Hiện tại" if editable else "Hiện tại (đã giải quyết)"
        )
        self.heading_labels[4].configure(text="Chọn giá trị giữ lại" if editable else "")
        self._rebuild()

    def _all_rows(self) -> list[FieldRow]:
        assert self.detail is not None
        rows = list(self.detail["fields"])
        if self.detail["conflict"]["kind"] == "delete" and (
            self.detail["incoming_deletes"] or self.detail["current_deleted"]
        ):
            rows.insert(0, record_row(self.detail))
        return rows

    def _rebuild(self) -> None:
        for child in self.body.winfo_children():
            if child is not self.empty:
                child.destroy()
        self.rows = []
        if self.detail is None:
            return
        everything = self.show_same.get()
        shown = [r for r in self._all_rows() if everything or r["differs"] or r["clashing"]]
        for index, row in enumerate(shown):
            self.rows.append(self._add_row(index, row))
        hidden = len(self._all_rows()) - len(shown)
        self.empty.configure(
            text=f"{hidden} trường giống nhau ở hai bên đang ẩn." if hidden else ""
        )
        self.empty.grid(row=len(shown), column=0, columnspan=5, sticky="w", pady=(6, 0))
        self.area.canvas.yview_moveto(0)

    def _add_row(self, index: int, row: FieldRow) -> GridRow:
        assert self.detail is not None
        procedure = self.detail["conflict"]["procedure"]
        clashing, differs = row["clashing"], row["differs"]
        style = "Clash" if clashing else "Diff" if differs else ""
        label_style = f"{style}.TLabel" if style else "TLabel"
        texts = [(MARK if clashing else "") + row["label"]]
        for side in ("base", "current", "incoming"):
            value = row[side]  # type: ignore[literal-required]
            texts.append(
                str(value)
                if row["field"] == RECORD_CHOICE
                else value_text(procedure, row["field"], value)
            )
        if self.detail["conflict"]["kind"] == "book_number":
            texts[1] = "—"  # two dossiers, no common base
        cells = []
        for column, text in enumerate(texts):
            cell = ttk.Label(
                self.body,
                text=text,
                style="ClashHead.TLabel" if clashing and column == 0 else label_style,
                wraplength=self.widths[column] - 14,
                padding=(6, 4),
            )
            cell.grid(row=index, column=column, sticky="nsew", pady=(0, 1))
            self._wheel(cell)
            cells.append(cell)
        grid_row = GridRow(row["field"], row["label"], row, cells, bool(style))
        holder = ttk.Frame(self.body, style=f"{style}.TFrame" if style else "TFrame", padding=2)
        holder.grid(row=index, column=4, sticky="nsew", pady=(0, 1))
        self._wheel(holder)
        if self.editable and (differs or clashing):
            self._add_choice(holder, grid_row, style)
        return grid_row

    def _add_choice(self, holder: ttk.Frame, grid_row: GridRow, style: str) -> None:
        assert self.detail is not None
        kind = self.detail["conflict"]["kind"]
        field, row = grid_row.field, grid_row.row
        if field in SIDES_ONLY:
            texts = RECORD_TEXTS  # a status or the whole record: one side or the other
        elif kind == "book_number":
            texts = BOOK_TEXTS
        else:
            texts = CHOICE_TEXTS
        grid_row.var = tkinter.StringVar(value=self._default(row))
        radio_style = f"{style}.TRadiobutton" if style else "TRadiobutton"
        line = ttk.Frame(holder, style=f"{style}.TFrame" if style else "TFrame")
        line.pack(fill="x")
        for value, text in texts.items():
            radio = ttk.Radiobutton(
                line,
                text=text,
                value=value,
                variable=grid_row.var,
                style=radio_style,
                command=lambda r=grid_row: self._chose(r),
            )
            self._place_radio(radio, len(grid_row.radios))
            self._follow_focus(radio)
            self._wheel(radio)
            grid_row.radios[value] = radio
        if self.detail["incoming_deletes"] and field != RECORD_CHOICE:
            grid_row.radios[INCOMING].configure(state="disabled")  # the incoming side has none
        if VALUE in texts:
            entry = ttk.Entry(holder, state="disabled")
            entry.pack(fill="x", pady=(2, 0))
            self._follow_focus(entry)
            grid_row.entry = entry

    def _place_radio(self, radio: ttk.Radiobutton, index: int) -> None:
        if self.narrow:
            radio.grid(row=index, column=0, sticky="w")
        else:
            radio.grid(row=0, column=index, sticky="w", padx=(0, 6))

    def _fit(self, event: tkinter.Event[Any]) -> None:
        """Share the grid's width among the columns (the smallest window stacks the choices)."""
        width = event.width - 16  # the body's right padding
        narrow = width < NARROW_BELOW
        if narrow:
            rest = max(width - NARROW_CHOICE, 400)
            widths = (
                int(rest * 0.28),
                *(int(rest * 0.24),) * 3,
                NARROW_CHOICE,
            )
        else:
            widths = WIDTHS
        if widths == self.widths and narrow == self.narrow:
            return
        self.widths, self.narrow = widths, narrow
        for column, width_ in enumerate(widths):
            self.heading.columnconfigure(column, minsize=width_)
            self.body.columnconfigure(column, minsize=width_)
            self.heading_labels[column].configure(wraplength=width_ - 14)
        for grid_row in self.rows:
            for column, cell in enumerate(grid_row.cells):
                cell.configure(wraplength=widths[column] - 14)
            for index, radio in enumerate(grid_row.radios.values()):
                self._place_radio(radio, index)

    def _default(self, row: FieldRow) -> str:
        """Return the choice a row starts with: none for a clashing field, else the merge's."""
        assert self.detail is not None
        if self.detail["conflict"]["kind"] == "book_number":
            return "" if row["field"] == "book_number" else KEEP
        if row["field"] == RECORD_CHOICE:
            return ""  # keep or delete: always provincial IT's decision
        if self.detail["incoming_deletes"]:
            return CURRENT  # the deleting side brings no values: keeping the record keeps these
        if row["clashing"]:
            return ""
        return INCOMING if row["incoming"] != row["base"] else CURRENT

    def _chose(self, grid_row: GridRow) -> None:
        entry = grid_row.entry
        if entry is None or grid_row.var is None:
            return
        if grid_row.var.get() != VALUE:
            entry.configure(state="disabled")
            return
        entry.configure(state="normal")
        if not entry.get():
            entry.insert(0, _editable_text(grid_row.row["current"]))
        entry.select_range(0, "end")
        entry.icursor("end")
        entry.focus_set()

    def _follow_focus(self, widget: tkinter.Misc) -> None:
        """Scroll ``widget`` into view when Tab moves the focus to it."""

        def follow(_event: tkinter.Event[Any]) -> None:
            self.area.ensure_visible(widget)

        widget.bind("<FocusIn>", follow, add="+")

    def _wheel(self, widget: tkinter.Misc) -> None:
        widget.bind("<Button-4>", self.area.scroll_wheel, add="+")
        widget.bind("<Button-5>", self.area.scroll_wheel, add="+")
        widget.bind("<MouseWheel>", self.area.scroll_wheel, add="+")

    def focus_first(self) -> None:
        """Put the focus on the first choice still to make (else the first choice)."""
        rows = [r for r in self.rows if r.var is not None and r.radios]
        pending = [r for r in rows if not r.var.get()] or rows  # type: ignore[union-attr]
        if pending:
            first = next(iter(pending[0].radios.values()))
            first.focus_set()

    # -- reading the choices -------------------------------------------------------------------

    def row(self, field: str) -> GridRow:
        """Return the shown row of record key ``field``.

        Raises:
            KeyError: the field is not shown.
        """
        for grid_row in self.rows:
            if grid_row.field == field:
                return grid_row
        raise KeyError(field)

    def choices(self) -> dict[str, dict[str, Any]]:
        """Return the per-field choices the widgets show (``validate_choices``'s shape).

        Raises:
            ChoiceProblem: a clashing field is not decided, or a typed value is empty or wrong.
        """
        assert self.detail is not None
        chosen: dict[str, dict[str, Any]] = {}
        record = next((r for r in self.rows if r.field == RECORD_CHOICE), None)
        if record is not None and record.var is not None:
            take = record.var.get()
            if not take:
                raise ChoiceProblem(
                    "Hãy chọn giữ hồ sơ hay xoá/huỷ hồ sơ (dòng «Cả hồ sơ»).",
                    record.radios[CURRENT],
                )
            chosen[RECORD_CHOICE] = {"take": take}
            deletes = record.row[take] != "Còn hồ sơ"  # type: ignore[literal-required]
            if deletes:
                return chosen  # the record goes: its fields need no choice
        for grid_row in self.rows:
            if grid_row.var is None or grid_row.field == RECORD_CHOICE:
                continue
            choice = self._choice(grid_row)
            if choice is not None:
                chosen[grid_row.field] = choice
        if not chosen:
            raise ChoiceProblem("Không có trường nào để chọn.")
        return chosen

    def _choice(self, grid_row: GridRow) -> dict[str, Any] | None:
        assert grid_row.var is not None and self.detail is not None
        take = grid_row.var.get()
        if not take:
            first = next(iter(grid_row.radios.values()))
            raise ChoiceProblem(
                f"Hãy chọn giá trị giữ lại cho «{grid_row.label}»: giữ hiện tại, lấy mới đến "
                "hoặc nhập giá trị.",
                first,
            )
        if take == KEEP:
            return {"take": INCOMING}  # the conflict's own dossier keeps its entry
        if take != VALUE:
            return {"take": take}
        assert grid_row.entry is not None
        text = grid_row.entry.get()
        if not text.strip():
            raise ChoiceProblem(f"Hãy nhập giá trị cho «{grid_row.label}».", grid_row.entry)
        procedure = self.detail["conflict"]["procedure"]
        like = grid_row.row["current"]
        try:
            return {"value": typed_value(procedure, grid_row.field, text, like)}
        except ValueError as exc:
            raise ChoiceProblem(str(exc), grid_row.entry) from None
