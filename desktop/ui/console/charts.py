"""A small bar chart drawn on a Tk canvas: labelled bars with their values, no new dependency.

The statistics screen draws one under each table (dossiers per procedure, on time against late,
per week or month). Horizontal bars suit long Vietnamese labels; vertical bars suit periods in
order. The chart redraws itself when its size changes and says so when there is nothing to draw.
"""

from __future__ import annotations

import tkinter
import tkinter.font
from collections.abc import Callable, Sequence
from typing import Any

import ttkbootstrap as ttk

__all__ = ["BarChart", "format_count"]

#: Room around the drawing, in pixels.
_PAD = 8
#: Gap between a bar and its label or value.
_GAP = 6
#: Widest label column of a horizontal chart, in pixels (longer labels are shortened).
_MAX_LABEL = 260


def format_count(value: float) -> str:
    """Return a count the Vietnamese way: ``1.234`` (a dot between thousands)."""
    return f"{int(value):,}".replace(",", ".")


#: One bold variant of the default font per Tk interpreter, kept for the app's life.
_BOLD_FONTS: dict[int, tkinter.font.Font] = {}


def bold_font(widget: tkinter.Misc) -> tkinter.font.Font:
    """Return the bold variant of ``TkDefaultFont``, one shared by every console widget.

    A ``Font`` made per widget (``font.copy()``) deletes its Tcl font when it is collected, and
    the cyclic collector runs on whichever thread allocates at that moment — often a worker, whose
    Tcl call then waits for the Tk thread: the week statistics' download stalled 8 s that way
    (seen with py-spy: a worker inside ``Font.__del__``). A font that is never collected cannot.
    """
    key = id(widget.tk)
    font = _BOLD_FONTS.get(key)
    if font is None:
        font = tkinter.font.nametofont("TkDefaultFont", root=widget).copy()
        font.configure(weight="bold")
        _BOLD_FONTS[key] = font
    return font


def _shorten(text: str, font: tkinter.font.Font, width: int) -> str:
    """Return ``text`` cut with "…" so that it fits ``width`` pixels."""
    if font.measure(text) <= width:
        return text
    while text and font.measure(text + "…") > width:
        text = text[:-1]
    return text + "…"


class BarChart(tkinter.Canvas):
    """A titled bar chart of ``(label, value)`` pairs.

    Args:
        master: the parent widget.
        orientation: ``horizontal`` (a row per bar, label on the left) or ``vertical`` (a
            column per bar, label underneath).
        height: the canvas height in pixels.
        format_value: how a value is written next to its bar.
        **kwargs: other ``tkinter.Canvas`` options.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        orientation: str = "horizontal",
        height: int = 180,
        format_value: Callable[[float], str] = format_count,
        **kwargs: Any,
    ) -> None:
        """Build an empty chart in the theme's colours."""
        colors = ttk.Style.get_instance().colors
        super().__init__(
            master, height=height, highlightthickness=0, background=colors.bg, **kwargs
        )
        if orientation not in ("horizontal", "vertical"):
            raise ValueError(f"orientation must be horizontal or vertical, not {orientation!r}")
        self.orientation = orientation
        self.format_value = format_value
        self.title = ""
        self.bars: list[tuple[str, float]] = []
        self._fg, self._muted, self._bar = colors.fg, colors.secondary, colors.primary
        self._font = tkinter.font.nametofont("TkDefaultFont")
        self._bold = bold_font(self)
        self.bind("<Configure>", lambda _e: self.redraw(), add="+")

    def show(self, bars: Sequence[tuple[str, float]], *, title: str = "") -> None:
        """Draw ``bars`` (label, value) under ``title``, replacing what was drawn."""
        self.bars = [(str(label), float(value)) for label, value in bars]
        self.title = title
        self.redraw()

    def redraw(self) -> None:
        """Draw the chart again for the canvas's current size."""
        self.delete("all")
        width, height = self.winfo_width(), self.winfo_height()
        if width <= 1:  # not mapped yet: the <Configure> of the first layout draws it
            width, height = int(self.cget("width")), int(self.cget("height"))
        top = _PAD
        if self.title:
            self.create_text(
                _PAD,
                top,
                text=self.title,
                anchor="nw",
                font=self._bold,
                fill=self._fg,
                tags="title",
            )
            top += self._bold.metrics("linespace") + _GAP
        if not self.bars or max(v for _l, v in self.bars) <= 0:
            self.create_text(
                _PAD,
                top,
                text="Chưa có số liệu để vẽ biểu đồ.",
                anchor="nw",
                fill=self._muted,
                tags="empty",
            )
            return
        if self.orientation == "horizontal":
            self._draw_horizontal(width, top, height - _PAD)
        else:
            self._draw_vertical(width, top, height - _PAD)

    def _draw_horizontal(self, width: int, top: int, bottom: int) -> None:
        line = self._font.metrics("linespace")
        fits = max((bottom - top) // (line + 4), 1)
        bars = self.bars[:fits]
        label_width = min(max(self._font.measure(label) for label, _v in bars), _MAX_LABEL)
        value_width = max(self._font.measure(self.format_value(v)) for _l, v in bars)
        left = _PAD + label_width + _GAP
        room = max(width - left - _GAP - value_width - _PAD, 10)
        biggest = max(v for _l, v in bars) or 1
        step = min((bottom - top) / len(bars), line * 1.8)
        for index, (label, value) in enumerate(bars):
            y0 = top + index * step
            middle = y0 + step / 2
            text = _shorten(label, self._font, label_width)
            self.create_text(
                _PAD, middle, text=text, anchor="w", fill=self._fg, font=self._font, tags="label"
            )
            length = max(room * value / biggest, 1 if value else 0)
            self.create_rectangle(
                left, y0 + 3, left + length, y0 + step - 3, fill=self._bar, width=0, tags="bar"
            )
            self.create_text(
                left + length + _GAP,
                middle,
                text=self.format_value(value),
                anchor="w",
                fill=self._fg,
                font=self._font,
                tags="value",
            )
        if len(bars) < len(self.bars):
            self._note(width, bottom, f"{len(bars)} mục đầu trên {len(self.bars)}")

    def _draw_vertical(self, width: int, top: int, bottom: int) -> None:
        line = self._font.metrics("linespace")
        bars = self.bars
        slot = (width - 2 * _PAD) / len(bars)
        label_bottom = bottom
        base = label_bottom - line - _GAP  # bars stand on this line, labels sit under it
        room = max(base - top - line - _GAP, 10)
        biggest = max(v for _l, v in bars) or 1
        widest = max(self._font.measure(label) for label, _v in bars) + _GAP
        every = max(int(widest // slot) + 1, 1)  # label every n-th bar when they would overlap
        self.create_line(_PAD, base, width - _PAD, base, fill=self._muted, tags="axis")
        for index, (label, value) in enumerate(bars):
            x0 = _PAD + index * slot
            middle = x0 + slot / 2
            bar_width = min(slot * 0.7, 60)
            height = max(room * value / biggest, 1 if value else 0)
            self.create_rectangle(
                middle - bar_width / 2,
                base - height,
                middle + bar_width / 2,
                base,
                fill=self._bar,
                width=0,
                tags="bar",
            )
            if self._font.measure(self.format_value(value)) <= slot:
                self.create_text(
                    middle,
                    base - height - 2,
                    text=self.format_value(value),
                    anchor="s",
                    fill=self._fg,
                    font=self._font,
                    tags="value",
                )
            if index % every == 0:
                self.create_text(
                    middle,
                    label_bottom,
                    text=label,
                    anchor="s",
                    fill=self._fg,
                    font=self._font,
                    tags="label",
                )

    def _note(self, width: int, bottom: int, text: str) -> None:
        self.create_text(
            width - _PAD, bottom, text=text, anchor="se", fill=self._muted, tags="note"
        )
