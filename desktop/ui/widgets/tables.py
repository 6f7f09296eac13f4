"""Small widget helpers the dossier screens share: headed tables, buttons pressed with Enter."""

from __future__ import annotations

import tkinter
from collections.abc import Sequence
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


def _press(event: tkinter.Event[Any]) -> str:
    widget: Any = event.widget
    widget.invoke()
    return "break"
