"""Tables whose columns always fit the window: widths scale with the table, none is cut off.

A ``ttk.Treeview`` keeps its columns' widths when the window narrows, so at the console's
minimum size (960x560) the last columns would fall off the right edge. :func:`fit_columns`
rescales the columns to the table's width on every resize, in proportion to their design widths
(each at least ``minimum`` pixels), so every column stays visible from 960 to 1920 pixels.
"""

from __future__ import annotations

import tkinter
from collections.abc import Sequence
from typing import Any

import ttkbootstrap as ttk

__all__ = ["fit_columns"]


def fit_columns(
    tree: ttk.Treeview, widths: Sequence[tuple[str, int]], *, minimum: int = 40
) -> None:
    """Keep ``tree``'s columns in proportion to ``widths`` (column id, design width) as it resizes."""
    total = sum(width for _, width in widths) or 1
    for column, width in widths:
        tree.column(column, width=width, minwidth=minimum, stretch=False)

    def refit(event: tkinter.Event[Any]) -> None:
        room = max(event.width - 4, minimum * len(widths))  # the border
        used = 0
        for index, (column, width) in enumerate(widths):
            # The last column takes what rounding left over, so the row ends at the edge.
            share = room - used if index == len(widths) - 1 else max(room * width // total, minimum)
            tree.column(column, width=max(share, minimum))
            used += share

    tree.bind("<Configure>", refit, add="+")
