"""Small widget helpers the dossier screens share: headed tables, buttons pressed with Enter."""

from __future__ import annotations

import tkinter
from collections.abc import Callable, Sequence
from typing import Any

import ttkbootstrap as ttk

#: A table column: (column id, heading, width in pixels).
Column = tuple[str, str, int]


def headed_tree(
    parent: tkinter.Misc, columns: Sequence[Column], *, height: int = 8
) -> ttk.Treeview:
    """Return a packed table with a heading per column (left-aligned, fixed widths)."""
    tree = ttk.Treeview(parent, columns=[c[0] for c in columns], show="headings", height=height)
    for column, text, width in columns:
        tree.heading(column, text=text, anchor="w")
        tree.column(column, width=width, anchor="w")
    tree.pack(fill="both", expand=True)
    return tree


def press_with_enter(button: ttk.Button) -> None:
    """Let Enter press a focused button (ttk buttons only take Space by default)."""
    button.bind("<Return>", _press)


#: A button of a bar: (text, bootstyle, command).
ButtonSpec = tuple[str, str, Callable[[], object]]


def right_buttons(bar: tkinter.Misc, specs: Sequence[ButtonSpec]) -> list[ttk.Button]:
    """Pack buttons at the right of ``bar``, the first rightmost; Enter presses them.

    Call it before packing the bar's left side: packed first, the buttons keep their room when
    the window is narrow (960 pixels) and what is on the left shrinks instead.
    """
    made = []
    for index, (text, style, command) in enumerate(specs):
        button = ttk.Button(bar, text=text, bootstyle=style, command=command)
        button.pack(side="right", padx=(0, 0 if index == 0 else 8))
        press_with_enter(button)
        made.append(button)
    return made


def _press(event: tkinter.Event[Any]) -> str:
    widget: Any = event.widget
    widget.invoke()
    return "break"
