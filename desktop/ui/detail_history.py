"""The dossier detail's history tabs: the status timeline and the audit trail."""

from __future__ import annotations

import tkinter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ttkbootstrap as ttk

from desktop.forms.dates import format_datetime_vn
from desktop.forms.lifecycle import status_label
from desktop.ui.widgets.tables import headed_tree

if TYPE_CHECKING:
    from desktop.store.audit import AuditEntry
    from desktop.store.records import StatusChange


class TimelineTab(ttk.Frame):
    """Every status change of the dossier: when, from, to, who, and the note."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the empty table."""
        super().__init__(master, padding=8)
        self.tree = headed_tree(
            self,
            (
                ("at", "Thời gian", 140),
                ("from", "Từ", 110),
                ("to", "Sang", 110),
                ("clerk", "Cán bộ", 120),
                ("note", "Ghi chú", 420),
            ),
        )

    def show(self, changes: Sequence[StatusChange]) -> None:
        """List ``changes``, oldest first."""
        self.tree.delete(*self.tree.get_children())
        for change in changes:
            self.tree.insert(
                "",
                "end",
                values=(
                    format_datetime_vn(change.at),
                    status_label(change.from_status) or "—",
                    status_label(change.to_status),
                    change.clerk or "",
                    change.note or "",
                ),
            )


class AuditTab(ttk.Frame):
    """The audit trail of the dossier: who did what, and when."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the empty table."""
        super().__init__(master, padding=8)
        self.tree = headed_tree(
            self,
            (
                ("at", "Thời gian", 140),
                ("clerk", "Cán bộ", 110),
                ("action", "Việc", 160),
                ("summary", "Nội dung", 460),
            ),
        )

    def show(self, entries: Sequence[AuditEntry]) -> None:
        """List the audit ``entries``."""
        self.tree.delete(*self.tree.get_children())
        for entry in entries:
            values = (format_datetime_vn(entry.at), entry.clerk or "", entry.action, entry.summary)
            self.tree.insert("", "end", values=values)
