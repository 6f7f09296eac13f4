"""Small Tk pieces of the conflict screens: screen-wide keys, highlight styles, version cards.

Keys such as Escape, Ctrl+Enter and PageDown belong to one screen, not to the whole window
(the shell keeps other screens built and a dialog may be open): :class:`ScreenKeys` puts a
bind tag of the screen's own on each of its widgets, so the keys work wherever the focus is
inside the screen and nowhere else.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable
from typing import Any

import ttkbootstrap as ttk

from desktop.ui.console.conflict_text import commune_name, moment_text
from protocol.admin import VersionInfo

__all__ = [
    "CLASH_BG",
    "DIFF_BG",
    "ScreenKeys",
    "VersionCard",
    "ensure_styles",
]

#: Background of a field whose values differ, and of a field both sides changed (clashing).
DIFF_BG, CLASH_BG = "#fff6d5", "#ffe3b8"
#: The cards' text: a size smaller, so three cards fit side by side on the smallest window.
CARD_FONT = "-size 9"
#: The warning shown on a version whose device's clock is known to be wrong.
CLOCK_WARNING = "⚠ Đồng hồ của máy này đang sai"


def ensure_styles() -> None:
    """Define the highlight styles the field grid uses (once per process, theme colours)."""
    style = ttk.Style.get_instance()
    if style is None:
        return
    for name, background in (("Diff", DIFF_BG), ("Clash", CLASH_BG)):
        style.configure(f"{name}.TLabel", background=background)
        style.configure(f"{name}.TFrame", background=background)
        style.configure(f"{name}.TRadiobutton", background=background)
    style.configure("ClashHead.TLabel", background=CLASH_BG, font="-weight bold")
    style.configure("Head.TLabel", font="-weight bold")


class ScreenKeys:
    """Key bindings that hold anywhere inside one screen (see the module docstring).

    Args:
        screen: the screen; its widgets get the tag as :meth:`tag_all` finds them.
        bindings: ``{event sequence: handler}``; a handler returns nothing, the key is then
            not passed on to the widget's own bindings.
    """

    def __init__(self, screen: tkinter.Misc, bindings: dict[str, Callable[[], object]]) -> None:
        """Make the tag and bind each sequence on it."""
        self.screen = screen
        self.tag = f"ConsoleScreenKeys{id(screen)}"
        for sequence, handler in bindings.items():
            screen.bind_class(self.tag, sequence, _breaking(handler))
        self.sequences = tuple(bindings)

    def tag_all(self, widget: tkinter.Misc | None = None) -> None:
        """Put the tag on ``widget`` (default the screen) and every widget inside it."""
        stack = [widget or self.screen]
        while stack:
            current = stack.pop()
            tags = current.bindtags()
            if self.tag not in tags:
                # Right after the widget's own tag: before its class (a Treeview's Return).
                current.bindtags((tags[0], self.tag, *tags[1:]))
            stack.extend(current.winfo_children())

    def release(self) -> None:
        """Remove the bindings (the screen is being destroyed)."""
        for sequence in self.sequences:
            try:
                self.screen.unbind_class(self.tag, sequence)
            except tkinter.TclError:
                pass


def _breaking(handler: Callable[[], object]) -> Callable[[tkinter.Event[Any]], str]:
    def call(_event: tkinter.Event[Any]) -> str:
        handler()
        return "break"

    return call


class VersionCard(ttk.Labelframe):
    """Where one side of a conflict came from: commune, device, clerk, its clock, received.

    Args:
        master: the parent.
        title: the side's name (``Gốc``, ``Hiện tại trên máy chủ``, ``Mới đến``).
    """

    def __init__(self, master: tkinter.Misc, title: str) -> None:
        """Build the empty card."""
        super().__init__(master, text=title, padding=(8, 2))
        self.title = title
        self.lines: dict[str, ttk.Label] = {}
        self.headings: list[ttk.Label] = []
        for row, (key, label) in enumerate(
            (
                ("commune", "Xã"),
                ("device", "Máy, cán bộ"),
                ("clock", "Giờ của máy"),
                ("received", "Nhận lúc"),
            )
        ):
            heading = ttk.Label(self, text=label, bootstyle="secondary", font=CARD_FONT)
            heading.grid(row=row, column=0, sticky="nw", padx=(0, 6))
            self.headings.append(heading)
            value = ttk.Label(self, text="—", font=CARD_FONT)
            value.grid(row=row, column=1, sticky="w")
            self.lines[key] = value
        self.warning = ttk.Label(self, text="", bootstyle="danger", font="-size 9 -weight bold")
        self.columnconfigure(1, weight=1)
        self.bind("<Configure>", self._fit, add="+")

    def _fit(self, event: tkinter.Event[Any]) -> None:
        """Wrap long lines inside the card (three cards share a small window)."""
        label_width = max(h.winfo_reqwidth() for h in self.headings) + 6
        for value in self.lines.values():
            value.configure(wraplength=max(event.width - label_width - 20, 60))
        self.warning.configure(wraplength=max(event.width - 24, 80))

    def show(self, info: VersionInfo | None, *, title: str | None = None) -> None:
        """Show ``info`` (None: this side does not exist, e.g. no base of a new record)."""
        if title is not None:
            self.configure(text=title)
        get: Any = (info or {}).get
        device = get("device_label") or (
            f"máy {str(get('device_id'))[:8]}…" if get("device_id") else ""
        )
        texts = {
            "commune": commune_name(get("commune")) if get("commune") else "—",
            "device": " · ".join(x for x in (device, get("clerk")) if x) or "—",
            "clock": moment_text(get("clock_ms")),
            "received": moment_text(get("received_at")),
        }
        for key, text in texts.items():
            self.lines[key].configure(text=text)
        if get("clock_suspect"):
            self.warning.configure(text=CLOCK_WARNING)
            self.warning.grid(row=4, column=0, columnspan=2, sticky="w")
        else:
            self.warning.configure(text="")
            self.warning.grid_remove()

    def texts(self) -> dict[str, str]:
        """Return what the card shows, by line (tests and the bench read it)."""
        shown = {key: str(label.cget("text")) for key, label in self.lines.items()}
        shown["warning"] = str(self.warning.cget("text"))
        shown["title"] = str(self.cget("text"))
        return shown
