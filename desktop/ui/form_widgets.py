"""The input widgets the generic form renderer builds fields from.

Each input holds a field's value as the form data stores it (text; dates as ISO
``YYYY-MM-DD``; codes for communes and provinces) and shows it the way a clerk reads it
(dd/mm/yyyy; names instead of codes). Every input has ``get_value()``, ``set_value(value)``
and ``widget`` (the one widget that takes the keyboard focus).

- :class:`SearchCombobox`: a dropdown whose list filters on every keystroke,
  diacritic-insensitively ("mong" finds "H'Mông"), for ethnic groups, provinces, communes,
  sex and fixed choices;
- :class:`DateInput`: a dd/mm/yyyy entry;
- :class:`ScanInput`: the "Quét CCCD" entry that takes a keyboard-wedge scanner's burst of
  keystrokes (ending with Enter) or pasted text;
- :class:`Debouncer`: calls a function once, a while after the last trigger (live validation,
  drafts, search as you type).
"""

from __future__ import annotations

import dataclasses
import time
import tkinter
from collections.abc import Callable, Sequence
from datetime import date

import ttkbootstrap as ttk

from desktop.forms.dates import format_date_vn, parse_date_vn, parse_iso_date
from desktop.forms.vietnamese import fold

#: Keys that move around rather than change the text (no re-filtering for them).
_NAVIGATION_KEYS = frozenset(
    {
        "Tab",
        "ISO_Left_Tab",
        "Return",
        "KP_Enter",
        "Escape",
        "Up",
        "Down",
        "Left",
        "Right",
        "Home",
        "End",
        "Shift_L",
        "Shift_R",
        "Control_L",
        "Control_R",
        "Alt_L",
        "Alt_R",
        "Prior",
        "Next",
    }
)


class Debouncer:
    """Call a function once, ``delay_ms`` after the last :meth:`trigger`.

    Args:
        widget: any widget (its ``after`` schedules the call on the Tk thread).
        delay_ms: quiet time before the call.
        fn: what to call.
    """

    def __init__(self, widget: tkinter.Misc, delay_ms: int, fn: Callable[[], object]) -> None:
        """Bind to ``widget``'s event loop."""
        self._widget = widget
        self.delay_ms = delay_ms
        self._fn = fn
        self._after_id: str | None = None

    @property
    def pending(self) -> bool:
        """Return True while a call is scheduled."""
        return self._after_id is not None

    def trigger(self) -> None:
        """(Re)start the quiet period; the call happens when it ends."""
        self.cancel()
        try:
            self._after_id = self._widget.after(self.delay_ms, self._fire)
        except tkinter.TclError:
            self._after_id = None

    def cancel(self) -> None:
        """Forget a scheduled call."""
        if self._after_id is not None:
            try:
                self._widget.after_cancel(self._after_id)
            except tkinter.TclError:
                pass
            self._after_id = None

    def flush(self) -> None:
        """Make a scheduled call now (e.g. before the screen closes)."""
        if self._after_id is not None:
            self.cancel()
            self._fn()

    def _fire(self) -> None:
        self._after_id = None
        self._fn()


@dataclasses.dataclass(frozen=True)
class Option:
    """One entry of a searchable dropdown.

    Attributes:
        value: what the data stores (a code, or the canonical name).
        label: what the clerk sees.
        aliases: other spellings that find this option (old names, variants).
    """

    value: str
    label: str
    aliases: tuple[str, ...] = ()


class OptionList:
    """A fixed list of options searched diacritic-insensitively.

    Ranking: a label that starts with the typed text first, then labels with a word starting
    with it, then any label or alias containing it; each group in list order.
    """

    def __init__(
        self,
        options: Sequence[Option],
        *,
        finder: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        """Fold every label and alias once.

        Args:
            options: the options in display order.
            finder: a domain search returning matching option values, best first (e.g.
                ``forms.reference.find_communes``); the built-in ranking when None.
        """
        self.options = tuple(options)
        self._finder = finder
        self._keys = [(fold(o.label), tuple(fold(a) for a in o.aliases if a)) for o in self.options]
        self._by_value = {o.value: o for o in self.options}

    def search(self, text: str, limit: int = 60) -> list[Option]:
        """Return the options matching ``text`` (all of them for empty text)."""
        key = fold(text)
        if not key:
            return list(self.options[:limit])
        if self._finder is not None:
            found = (self._by_value.get(value) for value in self._finder(text))
            return [o for o in found if o is not None][:limit]
        starts: list[Option] = []
        words: list[Option] = []
        contains: list[Option] = []
        for option, (label, aliases) in zip(self.options, self._keys):
            if label.startswith(key) or _strip_kind(label).startswith(key):
                starts.append(option)
            elif any(w.startswith(key) for w in label.replace("'", " ").split()):
                words.append(option)
            elif key in label or any(key in a for a in aliases):
                contains.append(option)
        return (starts + words + contains)[:limit]

    def exact(self, text: str) -> Option | None:
        """Return the option whose label or alias folds equal to ``text``, if any."""
        key = fold(text)
        if not key:
            return None
        # Labels first: an alias of one option must not shadow another option's own name.
        for option, (label, _aliases) in zip(self.options, self._keys):
            if key in (label, _strip_kind(label)):
                return option
        for option, (_label, aliases) in zip(self.options, self._keys):
            if key in aliases:
                return option
        return None

    def by_value(self, value: str) -> Option | None:
        """Return the option stored as ``value``."""
        return self._by_value.get(value)


def _strip_kind(folded_label: str) -> str:
    """Drop a leading unit kind ("xa ", "phuong ", "tinh ", "thanh pho ") from a folded name."""
    for prefix in ("xa ", "phuong ", "tinh ", "thanh pho ", "dac khu "):
        if folded_label.startswith(prefix):
            return folded_label[len(prefix) :]
    return folded_label


class SearchCombobox(ttk.Combobox):
    """A combobox whose list filters on every keystroke, diacritic-insensitively.

    The clerk types a few letters ("mu cang"); the list (Down arrow opens it) holds only
    matches; leaving the field picks the option whose name was typed in full, or the only
    match. ``get_value()`` returns the option's stored value (a code), or the typed text when
    it matches nothing (``free_text`` fields keep it; others are flagged by validation).

    Args:
        master: parent widget.
        options: the searchable options.
        free_text: whether text outside the list is a valid value (nationality).
        **kwargs: passed to ``ttk.Combobox``.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        options: OptionList,
        *,
        free_text: bool = False,
        **kwargs: object,
    ) -> None:
        """Create the combobox with every option listed."""
        super().__init__(master, **kwargs)  # type: ignore[arg-type]
        self.option_list = options
        self.free_text = free_text
        self.configure(values=[o.label for o in options.search("")])
        self.bind("<KeyRelease>", self._filter, add="+")
        self.bind("<FocusOut>", lambda _e: self.resolve(), add="+")

    @property
    def widget(self) -> tkinter.Misc:
        """Return the widget that takes the focus (the combobox itself)."""
        return self

    def matches(self) -> list[Option]:
        """Return the options matching the text typed so far."""
        return self.option_list.search(self.get())

    def _filter(self, event: tkinter.Event) -> None:
        if event.keysym in _NAVIGATION_KEYS:
            return
        self.configure(values=[o.label for o in self.matches()])

    def resolve(self) -> None:
        """Replace typed text by the option it names (in full, or as the only match)."""
        text = self.get().strip()
        if not text:
            return
        option = self.option_list.exact(text)
        if option is None and not self.free_text:
            found = self.matches()
            if len(found) == 1:
                option = found[0]
        if option is not None and self.get() != option.label:
            self.set(option.label)
            self.event_generate("<<ValueResolved>>")

    def get_value(self) -> str:
        """Return the stored value of the chosen option, or the typed text."""
        text = " ".join(self.get().split())
        if not text:
            return ""
        option = self.option_list.exact(text)
        return option.value if option is not None else text

    def set_value(self, value: str) -> None:
        """Show the option stored as ``value`` (or ``value`` itself when unknown)."""
        option = self.option_list.by_value(value) if value else None
        self.set(option.label if option is not None else (value or ""))
        self.configure(values=[o.label for o in self.option_list.search("")])


class TextInput(ttk.Entry):
    """A one-line text entry holding its value as typed."""

    @property
    def widget(self) -> tkinter.Misc:
        """Return the widget that takes the focus."""
        return self

    def get_value(self) -> str:
        """Return the text with surrounding spaces removed."""
        return self.get().strip()

    def set_value(self, value: str) -> None:
        """Replace the text."""
        state = str(self.cget("state"))
        if state == "readonly":
            self.configure(state="normal")
        self.delete(0, "end")
        self.insert(0, value or "")
        if state == "readonly":
            self.configure(state="readonly")


class DateInput(TextInput):
    """A dd/mm/yyyy entry; the value is ISO ``YYYY-MM-DD`` when the text is a real date.

    ``1/2/2025``, ``01-02-2025`` and ``01.02.2025`` are accepted and shown as ``01/02/2025``
    once the clerk leaves the field.
    """

    def __init__(self, master: tkinter.Misc, **kwargs: object) -> None:
        """Create the entry; reformat on focus-out."""
        super().__init__(master, **kwargs)  # type: ignore[arg-type]
        self.bind("<FocusOut>", lambda _e: self.reformat(), add="+")

    def parsed(self) -> date | None:
        """Return the date typed, or None when empty or not a date."""
        try:
            return parse_date_vn(self.get())
        except ValueError:
            return None

    def parse_error(self) -> str | None:
        """Return a Vietnamese message when the text is not empty and not a real date."""
        text = self.get().strip()
        if not text:
            return None
        try:
            parse_date_vn(text)
        except ValueError as exc:
            return str(exc)
        return None

    def reformat(self) -> None:
        """Show a typed date in the canonical dd/mm/yyyy form."""
        d = self.parsed()
        if d is not None and self.get() != format_date_vn(d):
            super().set_value(format_date_vn(d))

    def get_value(self) -> str:
        """Return the ISO date, or the raw text when it is not a date (validation flags it)."""
        d = self.parsed()
        return d.isoformat() if d is not None else self.get().strip()

    def set_value(self, value: str) -> None:
        """Show an ISO date as dd/mm/yyyy (other text as it is)."""
        d = parse_iso_date(value)
        super().set_value(format_date_vn(d) if d is not None else (value or ""))


class TextAreaInput(ttk.Frame):
    """A few lines of free text; Tab moves on instead of inserting a tab."""

    def __init__(self, master: tkinter.Misc, *, height: int = 3, width: int = 40) -> None:
        """Create the text box."""
        super().__init__(master)
        self.text = ttk.Text(self, height=height, width=width, wrap="word", undo=True)
        self.text.pack(fill="both", expand=True)
        self.text.bind("<Tab>", self._next, add="+")
        self.text.bind("<Shift-Tab>", self._previous, add="+")
        self.text.bind("<ISO_Left_Tab>", self._previous, add="+")

    @property
    def widget(self) -> tkinter.Misc:
        """Return the widget that takes the focus."""
        return self.text

    def _next(self, _event: tkinter.Event) -> str:
        nxt = self.text.tk_focusNext()
        if nxt is not None:
            nxt.focus_set()
        return "break"

    def _previous(self, _event: tkinter.Event) -> str:
        prev = self.text.tk_focusPrev()
        if prev is not None:
            prev.focus_set()
        return "break"

    def get_value(self) -> str:
        """Return the text without trailing newlines."""
        return self.text.get("1.0", "end-1c").strip()

    def set_value(self, value: str) -> None:
        """Replace the text."""
        self.text.delete("1.0", "end")
        self.text.insert("1.0", value or "")


class ScanInput(ttk.Entry):
    """The "Quét CCCD" entry: takes a QR scanner's keystroke burst or pasted text.

    A keyboard-wedge scanner types the whole payload in a fraction of a second and presses
    Enter; a clerk may also paste the text. Either Enter, or a short pause after text that
    looks like a payload (it contains ``|``), hands the text to ``on_scan`` and clears the
    entry. Enter on an empty scan entry simply moves to the next field.

    Args:
        master: parent widget.
        on_scan: called with the scanned text.
        idle_ms: pause after which a payload without Enter is taken.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        on_scan: Callable[[str], object],
        *,
        idle_ms: int = 400,
        **kwargs: object,
    ) -> None:
        """Create the entry and its key bindings."""
        super().__init__(master, **kwargs)  # type: ignore[arg-type]
        self._on_scan = on_scan
        self._idle = Debouncer(self, idle_ms, self._idle_take)
        self.last_burst_cps: float = 0.0
        self._first_key_at: float | None = None
        self._keys = 0
        self.bind("<Return>", self._enter, add="+")
        self.bind("<KP_Enter>", self._enter, add="+")
        self.bind("<KeyRelease>", self._key, add="+")
        self.bind("<<Paste>>", lambda _e: self.after_idle(self._idle.trigger), add="+")

    @property
    def widget(self) -> tkinter.Misc:
        """Return the widget that takes the focus."""
        return self

    def get_value(self) -> str:
        """A scan entry holds no form value."""
        return ""

    def set_value(self, value: str) -> None:
        """Clear the entry (it never holds a form value)."""
        self.delete(0, "end")

    def _key(self, event: tkinter.Event) -> None:
        if event.keysym in _NAVIGATION_KEYS:
            return
        now = time.monotonic()
        if self._first_key_at is None or not self.get():
            self._first_key_at, self._keys = now, 0
        self._keys += 1
        if "|" in self.get():
            self._idle.trigger()

    def _enter(self, _event: tkinter.Event) -> str | None:
        text = self.get()
        if not text.strip():
            nxt = self.tk_focusNext()
            if nxt is not None:
                nxt.focus_set()
            return "break"
        self._take(text)
        return "break"

    def _idle_take(self) -> None:
        text = self.get()
        if "|" in text:
            self._take(text)

    def _take(self, text: str) -> None:
        self._idle.cancel()
        if self._first_key_at is not None:
            elapsed = max(time.monotonic() - self._first_key_at, 1e-3)
            self.last_burst_cps = self._keys / elapsed
        self._first_key_at, self._keys = None, 0
        self.delete(0, "end")
        self._on_scan(text)
