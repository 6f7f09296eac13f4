"""The generic form: one renderer turns any procedure declaration into a keyboard-first form.

There is no hand-built form per procedure. :class:`FormRenderer` reads a
``desktop.forms.model.Procedure`` and builds, section by section (a titled frame each, in
paper order), one row per field: the Vietnamese label (``*`` when required), an input chosen
by the field's kind, and a message line under it (the help text; a red error or an orange
warning from validation). The Tab order is the paper order.

- Dates are typed dd/mm/yyyy; the date of birth in words is filled in automatically
  (read-only) in the style the settings choose (``mùng``, ``linh``/``lẻ``).
- Ethnic groups, provinces, communes, sex and fixed choices are dropdowns that search as you
  type, diacritic-insensitively.
- Validation runs live: when the clerk leaves a field and after a pause in typing, using the
  procedure's own validation; only fields the clerk has visited show messages until saving.
  Saving validates once, in the store; :meth:`FormRenderer.show_save_errors` shows what it
  found the way the live validation would.
- Each person who may carry a chip ID card gets a "Quét CCCD" entry
  (:mod:`desktop.ui.form_idcard`).
- Enter moves to the next field; Enter on the last field, or Ctrl+S, saves (``on_save``).
- One second after the clerk stops typing the form hands its data to ``on_draft`` (the screen
  saves it as a draft in the store), so nothing typed is lost.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import tkinter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.forms.dates import parse_iso_date
from desktop.forms.fields import Field as FormField
from desktop.forms.fields import FieldKind
from desktop.forms.model import Procedure
from desktop.forms.validation_result import FieldError, FieldWarning
from desktop.forms.vietnamese import date_in_words
from desktop.ui.form_idcard import CardScanner
from desktop.ui.form_options import options_for
from desktop.ui.form_rows import FieldRow, FormInput
from desktop.ui.form_widgets import (
    _NAVIGATION_KEYS,
    DateInput,
    Debouncer,
    ScanInput,
    SearchCombobox,
    TextAreaInput,
    TextInput,
)
from desktop.ui.scroll_area import ScrollArea

if TYPE_CHECKING:
    Event = tkinter.Event[tkinter.Misc]

#: Kinds whose input spans the whole width of a section.
_WIDE_KINDS = frozenset({FieldKind.PLACE, FieldKind.TEXTAREA, FieldKind.DATE_IN_WORDS})
#: Columns of inputs per section row.
COLUMNS = 3
_tag_ids = itertools.count(1)


class FormRenderer(ttk.Frame):
    """A form generated from a procedure declaration.

    Args:
        master: parent widget.
        procedure: the procedure to render.
        on_save: called (no arguments) on Ctrl+S or Enter on the last field.
        on_draft: called with the form data one ``draft_delay_ms`` after the last change.
        today: returns today's date (validation; tests pin it).
        date_words_mung: write "mùng" for days 1-10 in dates in words.
        date_words_zero_tens: "linh" or "lẻ" for an empty tens place in dates in words.
        draft_delay_ms: quiet time before a draft is handed over.
        validate_delay_ms: quiet time in typing before live validation runs.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        procedure: Procedure,
        *,
        on_save: Callable[[], object] | None = None,
        on_draft: Callable[[dict[str, str]], object] | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        date_words_mung: bool = False,
        date_words_zero_tens: str = "linh",
        draft_delay_ms: int = 1000,
        validate_delay_ms: int = 600,
    ) -> None:
        """Build every section and field of ``procedure``."""
        super().__init__(master)
        self.procedure = procedure
        self.on_save = on_save
        self.on_draft = on_draft
        self.today = today
        self.date_words_mung = date_words_mung
        self.date_words_zero_tens = date_words_zero_tens
        self.rows: dict[str, FieldRow] = {}
        self.cards = CardScanner(self)
        #: The "Quét CCCD" entry of each person a chip ID card can fill, and its message line.
        self.scan_inputs = self.cards.inputs
        self.scan_messages = self.cards.messages
        self.section_frames: dict[str, ttk.Labelframe] = {}
        self.touched: set[str] = set()
        self.errors: dict[str, str] = {}
        self.warnings: dict[str, str] = {}
        self.dirty = False
        self._tag = f"MotcuaForm{next(_tag_ids)}"
        self._name_of: dict[str, str] = {}
        self._derived: dict[str, list[str]] = {}
        self._draft = Debouncer(self, draft_delay_ms, self._hand_draft)
        self._live = Debouncer(self, validate_delay_ms, self.validate_touched)
        self._focus_live = Debouncer(self, 30, self.validate_touched)

        self.banner = ttk.Label(self, text="", bootstyle="danger", wraplength=900, justify="left")
        self.scroll = ScrollArea(self)
        self.scroll.pack(fill="both", expand=True)
        self._build()
        self._bind_form_keys()
        self.set_data(procedure.defaults())

    # -- building ----------------------------------------------------------------------------

    def _build(self) -> None:
        # Labels, inputs and messages go straight into each section's grid (three grid lines
        # per row of fields): no frame per field, which halves the geometry work Tk does when
        # the form is first shown.
        for section in self.procedure.sections:
            frame = ttk.Labelframe(self.scroll.body, text=section.title, padding=(12, 6, 12, 8))
            frame.pack(fill="x", pady=(0, 10))
            for column in range(COLUMNS):
                frame.columnconfigure(column, weight=1, uniform="field")
            self.section_frames[section.key] = frame
            frame.bind("<Configure>", self._section_resized, add="+")
            line, column = 0, 0
            for field in section.fields:
                person = field.person
                if person in self.cards.persons and person not in self.scan_inputs:
                    if column:
                        line, column = line + 3, 0
                    scan = self.cards.build(frame, line, person, COLUMNS)
                    self._adopt(scan, f"scan:{person}")
                    line += 1
                wide = field.kind in _WIDE_KINDS
                if wide and column:
                    line, column = line + 3, 0
                self._build_field(frame, field, line, column, COLUMNS if wide else 1)
                if wide:
                    line, column = line + 3, 0
                else:
                    column += 1
                    if column == COLUMNS:
                        line, column = line + 3, 0
        for field in self.procedure.fields:
            if field.derived_from:
                self._derived.setdefault(field.derived_from, []).append(field.name)
        inputs = self.input_rows()
        if inputs:
            inputs[-1].widget.bind("<Return>", self._enter_on_last, add="+")

    def _section_resized(self, event: Event) -> None:
        # Messages wrap at the width of their column, whatever the window's size.
        column = max(int(event.width) // COLUMNS - 30, 120)
        for row in self.rows.values():
            if (
                row.frame is event.widget
                and row.field.kind not in _WIDE_KINDS
                and str(row.message.cget("wraplength")) != str(column)
            ):
                row.message.configure(wraplength=column)

    def _build_field(
        self, parent: ttk.Labelframe, field: FormField, line: int, column: int, span: int
    ) -> FieldRow:
        text = field.label + (" *" if field.required else "")
        place = {"column": column, "columnspan": span, "padx": (0, 14)}
        label = ttk.Label(parent, text=text)
        label.grid(row=line, sticky="sw", pady=(4, 0), **place)  # type: ignore[arg-type]
        widget = self._make_input(parent, field)
        widget.grid(row=line + 1, sticky="ew", **place)
        message = ttk.Label(
            parent,
            text=field.help,
            bootstyle="secondary",
            font="-size 8",
            wraplength=900 if span > 1 else 370,
            justify="left",
        )
        message.grid(row=line + 2, sticky="nw", **place)  # type: ignore[arg-type]
        row = FieldRow(field, parent, label, widget, message)
        self.rows[field.name] = row
        if not field.read_only:
            self._adopt(row.widget, field.name)
        return row

    def _make_input(self, frame: tkinter.Misc, field: FormField) -> FormInput:
        if field.read_only:
            entry = TextInput(frame, takefocus=False)
            entry.configure(state="readonly")
            return entry
        options = options_for(field)
        if options is not None:
            combo = SearchCombobox(frame, options, free_text=field.kind is FieldKind.NATIONALITY)
            on_pick = functools.partial(self._picked, field.name)
            combo.bind("<<ComboboxSelected>>", on_pick, add="+")
            combo.bind("<<ValueResolved>>", on_pick, add="+")
            return combo
        if field.kind is FieldKind.DATE:
            return DateInput(frame)
        if field.kind is FieldKind.TEXTAREA:
            return TextAreaInput(frame, height=2)
        return TextInput(frame)

    def _adopt(self, widget: tkinter.Misc, name: str) -> None:
        """Give an input the form's bind tag (after its class, before the window's)."""
        self._name_of[str(widget)] = name
        tags = list(widget.bindtags())
        tags.insert(2, self._tag)
        widget.bindtags(tuple(tags))

    def _bind_form_keys(self) -> None:
        self.bind_class(self._tag, "<KeyRelease>", self._on_key, add="+")
        self.bind_class(self._tag, "<FocusOut>", self._on_focus_out, add="+")
        self.bind_class(self._tag, "<FocusIn>", self._on_focus_in, add="+")
        for sequence in ("<Control-s>", "<Control-S>"):
            self.bind_class(self._tag, sequence, self._ctrl_s)
        for sequence in ("<Button-4>", "<Button-5>", "<MouseWheel>"):
            self.bind_class(self._tag, sequence, self.scroll.scroll_wheel, add="+")
        for row in self.input_rows():
            if isinstance(row.input, TextAreaInput):
                row.widget.bind("<Return>", self._enter_next, add="+")
                row.widget.bind("<Shift-Return>", self._newline, add="+")
            elif not isinstance(row.input, ScanInput):
                row.widget.bind("<Return>", self._enter_next, add="+")
                row.widget.bind("<KP_Enter>", self._enter_next, add="+")

    # -- events ------------------------------------------------------------------------------

    def _field_of(self, event: Event) -> str | None:
        return self._name_of.get(str(event.widget))

    def _on_key(self, event: Event) -> None:
        if event.keysym in _NAVIGATION_KEYS:
            return
        if int(event.state) & 0x4 and event.keysym not in ("v", "V", "x", "X"):
            return  # Ctrl+S and other shortcuts change nothing; Ctrl+V/X do
        name = self._field_of(event)
        if name is None or name.startswith("scan:"):
            return
        self._changed(name)
        if name in self.touched:
            self._live.trigger()

    def _on_focus_out(self, event: Event) -> None:
        name = self._field_of(event)
        if name is None or name.startswith("scan:"):
            return
        self.touched.add(name)
        self._focus_live.trigger()

    def _on_focus_in(self, event: Event) -> None:
        self.scroll.ensure_visible(event.widget)

    def _ctrl_s(self, _event: Event) -> str:
        self.save()
        return "break"

    def _enter_next(self, event: Event) -> str:
        if self._is_last(event.widget):
            return "break"  # the last field's own binding saves
        nxt = event.widget.tk_focusNext()
        if nxt is not None:
            nxt.focus_set()
        return "break"

    def _newline(self, event: Event) -> str:
        widget: Any = event.widget
        widget.insert("insert", "\n")
        return "break"

    def _enter_on_last(self, _event: Event) -> str:
        self.save()
        return "break"

    def _is_last(self, widget: tkinter.Misc) -> bool:
        rows = self.input_rows()
        return bool(rows) and str(rows[-1].widget) == str(widget)

    def _picked(self, name: str, _event: object = None) -> None:
        self._changed(name)

    def _changed(self, name: str) -> None:
        self.dirty = True
        if name in self._derived:
            self.update_derived(name)
        self._draft.trigger()

    # -- data --------------------------------------------------------------------------------

    def input_rows(self) -> list[FieldRow]:
        """Return the rows the clerk types into, in Tab order."""
        return [r for r in self.rows.values() if not r.field.read_only]

    def get_data(self) -> dict[str, str]:
        """Return the form's values by field name (empty fields left out; dates ISO)."""
        data: dict[str, str] = {}
        for name, row in self.rows.items():
            value = row.input.get_value()
            if value:
                data[name] = value
        return data

    def set_data(self, data: Mapping[str, Any]) -> None:
        """Show ``data`` (values by field name; unknown names ignored); not a change."""
        for name, row in self.rows.items():
            value = data.get(name)
            row.input.set_value("" if value is None else str(value))
        for source in self._derived:
            self.update_derived(source)
        self.dirty = False

    def reset(self, data: Mapping[str, Any] | None = None) -> None:
        """Start over with the defaults (plus ``data``): no messages, nothing touched.

        Screens keep one form per procedure and reset it rather than building a new one:
        building takes a tenth of a second; resetting a hundredth.
        """
        self._draft.cancel()
        self._live.cancel()
        self._focus_live.cancel()
        self.touched.clear()
        self.set_data({**self.procedure.defaults(), **(data or {})})
        self._show([], [], only=set())
        self.cards.reset()
        self.scroll.canvas.yview_moveto(0)

    def set_values(self, values: Mapping[str, str]) -> None:
        """Fill some fields as if the clerk had typed them (a change; a draft follows)."""
        for name, value in values.items():
            row = self.rows.get(name)
            if row is None or row.field.read_only:
                continue
            row.input.set_value(value)
            self._changed(name)

    def update_derived(self, source: str) -> None:
        """Recompute the read-only fields derived from ``source`` (date of birth in words)."""
        row = self.rows.get(source)
        if row is None:
            return
        value = row.input.get_value()
        words = ""
        day = parse_iso_date(value)
        if day is not None:
            try:
                words = date_in_words(
                    day, mung=self.date_words_mung, zero_tens=self.date_words_zero_tens
                )
            except ValueError:
                words = ""
        for name in self._derived.get(source, []):
            self.rows[name].input.set_value(words)

    def set_date_words_style(self, *, mung: bool, zero_tens: str) -> None:
        """Change the date-in-words style and rewrite the derived fields."""
        self.date_words_mung, self.date_words_zero_tens = mung, zero_tens
        for source in self._derived:
            self.update_derived(source)

    def mark_clean(self) -> None:
        """Forget that the form changed (after saving)."""
        self.dirty = False
        self._draft.cancel()

    def flush_draft(self) -> None:
        """Hand a pending draft over now (the screen is closing or locking)."""
        self._draft.flush()

    def cancel_draft(self) -> None:
        """Drop a pending draft (the dossier was saved)."""
        self._draft.cancel()

    def _hand_draft(self) -> None:
        if self.on_draft is not None and self.dirty:
            self.on_draft(self.get_data())

    # -- validation --------------------------------------------------------------------------

    def check(self) -> tuple[list[FieldError], list[FieldWarning]]:
        """Validate the current data with the procedure's own rules (the live feedback).

        Returns:
            (errors in form order, dates that are not dates reported as typed; warnings).
        """
        # Imported with the first check, not with the screen (the screen is built at idle).
        from desktop.forms.validation import validate

        result = validate(self.procedure, self.get_data(), today=self.today())
        return self.with_input_problems(result.errors), list(result.warnings)

    def with_input_problems(self, errors: Sequence[FieldError]) -> list[FieldError]:
        """Return validation errors in form order, each unreadable date with its own message.

        The date inputs know best what is wrong with what was typed ("31/02" is no day), so
        their message replaces the validation's for that field.
        """
        merged = list(errors)
        for name, row in self.rows.items():
            if isinstance(row.input, DateInput):
                problem = row.input.parse_error()
                if problem:
                    merged = [e for e in merged if e.field != name]
                    merged.append(FieldError(name, f"{row.field.label}: {problem}"))
        order = {name: i for i, name in enumerate(self.rows)}
        merged.sort(key=lambda e: order.get(e.field, -1))
        return merged

    def validate_touched(self) -> list[FieldError]:
        """Validate and show messages for the fields the clerk has visited."""
        errors, warnings = self.check()
        self._show(errors, warnings, only=self.touched)
        return [e for e in errors if e.field in self.touched]

    def validate_all(self) -> list[FieldError]:
        """Validate and show every message (before saving).

        Returns:
            The errors in form order (empty when the form can be saved).
        """
        self.touched.update(self.rows)
        errors, warnings = self.check()
        self._show(errors, warnings, only=None)
        return errors

    def show_save_errors(self, errors: Sequence[FieldError]) -> list[FieldError]:
        """Show the errors saving found (the store's one validation) and focus the first.

        Shown as :meth:`validate_all` shows its own: every field counts as visited, each
        unreadable date says what is wrong with it, the warnings live validation found stay.

        Returns:
            The errors in form order.
        """
        self.touched.update(self.rows)
        shown = self.with_input_problems(errors)
        warnings = [FieldWarning(name, message) for name, message in self.warnings.items()]
        self._show(shown, warnings, only=None)
        self.focus_first_error()
        return shown

    def _show(
        self,
        errors: list[FieldError],
        warnings: list[FieldWarning],
        *,
        only: set[str] | None,
    ) -> None:
        self.errors, self.warnings = {}, {}
        for error in errors:
            self.errors.setdefault(error.field, error.message)
        for warning in warnings:
            self.warnings.setdefault(warning.field, warning.message)
        for name, row in self.rows.items():
            visible = only is None or name in only
            if visible and name in self.errors:
                row.show_message("danger", self.errors[name])
            elif visible and name in self.warnings:
                row.show_message("warning", self.warnings[name])
            else:
                row.show_message("", row.field.help)
        loose = [m for f, m in self.errors.items() if f not in self.rows]
        if loose and only is None:
            self.banner.configure(text="\n".join(loose))
            self.banner.pack(fill="x", before=self.scroll, pady=(0, 6))
        else:
            self.banner.pack_forget()

    def focus_first_error(self) -> bool:
        """Focus the first field (in form order) that has an error; False when none."""
        for name, row in self.rows.items():
            if name in self.errors and not row.field.read_only:
                self.focus_field(name)
                return True
        return False

    def focus_field(self, name: str) -> None:
        """Put the keyboard focus in a field and scroll it into view."""
        widget = self.rows[name].widget
        widget.focus_set()
        self.scroll.ensure_visible(widget)

    def focus_first(self) -> None:
        """Focus the first input of the form."""
        first = self.first_input()
        if first is not None:
            first.focus_set()
            self.scroll.canvas.yview_moveto(0)

    def first_input(self) -> tkinter.Misc | None:
        """Return the first widget of the Tab order (a scan entry or a field)."""
        widgets = self.tab_order()
        return widgets[0] if widgets else None

    def tab_order(self) -> list[tkinter.Misc]:
        """Return the focusable inputs in the order Tab visits them."""
        if not self._name_of:
            return []
        mine = set(self._name_of)
        widget: tkinter.Misc | None = self.nametowidget(next(iter(self._name_of)))
        order: list[tkinter.Misc] = []
        seen: set[str] = set()
        while widget is not None and str(widget) not in seen:
            seen.add(str(widget))
            if str(widget) in mine:
                order.append(widget)
            widget = widget.tk_focusNext()
        return order

    def save(self) -> None:
        """Ask the screen to save (Ctrl+S, Enter on the last field)."""
        if self.on_save is not None:
            self.on_save()

    # -- "Quét CCCD" ---------------------------------------------------------------------------

    def scan_card(self, person: str, raw: str) -> None:
        """Parse a scanned card payload and, once the clerk confirms, fill the person's fields."""
        self.cards.scan(person, raw)

    @property
    def scan_dialog(self) -> tkinter.Misc | None:
        """Return the open ID-card confirmation dialog, if any."""
        return self.cards.dialog

    def destroy(self) -> None:
        """Cancel pending timers, then destroy the widgets."""
        self._draft.cancel()
        self._live.cancel()
        self._focus_live.cancel()
        super().destroy()
