"""Two panels of the conflict screen: how a conflict was resolved, and the record's history.

:class:`ResolutionPanel` says who decided, when and why, and for each device of the commune
whether it has received the decision yet (the server records the first sync that stored it).
:class:`HistoryPanel` lists every version of the record, oldest first, with the values each
changed: a resolution makes a new version and never rewrites an old one, so the value that
lost is still there.
"""

from __future__ import annotations

import tkinter
from collections.abc import Iterable

import ttkbootstrap as ttk

from desktop.ui.console.conflict_text import (
    DEVICE_STATUS_LABELS,
    field_label,
    moment_text,
    value_text,
)
from protocol.admin import ConflictDetail, Delivery, RecordVersion

__all__ = ["HistoryPanel", "ResolutionPanel", "delivery_text", "version_cells"]

#: What kind of version a history row is.
VERSION_KINDS = {"change": "Máy xã sửa", "resolution": "Tỉnh giải quyết"}


def delivery_text(delivery: Delivery) -> str:
    """Return whether a device has the resolution: ``Đã nhận lúc dd/mm/yyyy HH:MM``."""
    received = delivery["received_at"]
    return f"Đã nhận lúc {moment_text(received)}" if received else "Chưa nhận"


def _tree(
    master: tkinter.Misc, columns: Iterable[tuple[str, str, int, bool]], height: int
) -> ttk.Treeview:
    holder = ttk.Frame(master)
    holder.pack(fill="both", expand=True)
    columns = list(columns)
    tree = ttk.Treeview(
        holder, columns=[c[0] for c in columns], show="headings", height=height, selectmode="browse"
    )
    for column, text, width, stretch in columns:
        tree.heading(column, text=text, anchor="w")
        tree.column(column, width=width, anchor="w", stretch=stretch)
    bar = ttk.Scrollbar(holder, orient="vertical", command=tree.yview)
    tree.configure(yscrollcommand=bar.set)
    bar.pack(side="right", fill="y")
    tree.pack(side="left", fill="both", expand=True)
    return tree


class ResolutionPanel(ttk.Frame):
    """Who resolved the conflict, why, and which devices of the commune have the decision."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the empty panel."""
        super().__init__(master, padding=(4, 6))
        self.summary = ttk.Label(self, text="", font="-weight bold", wraplength=900)
        self.summary.pack(anchor="w")
        self.reason = ttk.Label(self, text="", wraplength=900, justify="left")
        self.reason.pack(anchor="w", pady=(2, 6))
        self.count = ttk.Label(self, text="", bootstyle="secondary")
        self.count.pack(anchor="w", pady=(0, 2))
        self.tree = _tree(
            self,
            (
                ("device", "Máy của xã", 260, True),
                ("status", "Tình trạng máy", 140, False),
                ("received", "Quyết định", 260, False),
            ),
            height=5,
        )
        self.tree.tag_configure("waiting", foreground="#b02a37")

    def show(self, detail: ConflictDetail) -> None:
        """Show ``detail``'s resolution (nothing for an open conflict)."""
        conflict = detail["conflict"]
        who = detail["resolved_by"] or "—"
        self.summary.configure(
            text=f"Đã giải quyết lúc {moment_text(conflict['resolved_at'])} — người quyết định: "
            f"{who}"
        )
        self.reason.configure(text=f"Lý do: {detail['resolution_reason'] or '—'}")
        tree = self.tree
        tree.delete(*tree.get_children())
        resolution = detail["resolution"]
        if resolution is not None and resolution["change_id"] is None:
            self.count.configure(text="Đóng xung đột, không thay đổi hồ sơ: không cần gửi về máy.")
            return
        deliveries = detail["deliveries"]
        got = sum(1 for d in deliveries if d["received_at"])
        self.count.configure(
            text=f"{got}/{len(deliveries)} máy của xã đã nhận quyết định "
            "(máy nhận ở lần đồng bộ kế tiếp; F5 để xem lại)."
        )
        for delivery in deliveries:
            tree.insert(
                "",
                "end",
                iid=delivery["device_id"],
                values=(
                    delivery["label"] or delivery["device_id"][:8],
                    DEVICE_STATUS_LABELS.get(delivery["status"], delivery["status"]),
                    delivery_text(delivery),
                ),
                tags=() if delivery["received_at"] else ("waiting",),
            )

    def rows(self) -> list[tuple[str, ...]]:
        """Return the deliveries table as shown (tests read it)."""
        return [tuple(self.tree.item(i, "values")) for i in self.tree.get_children()]


def version_cells(
    version: RecordVersion,
    procedure: str | None,
    devices: dict[str, str],
    first: Iterable[str] = (),
) -> tuple[str, ...]:
    """Return a history row: version, received, device / clerk, kind, the values it set.

    Args:
        version: the version.
        procedure: the record's procedure (field labels).
        devices: device id → label.
        first: the keys to list first (the conflict's fields, so the losing value shows).
    """
    order = list(first)
    changed = version["changed"]
    keys = [k for k in order if k in changed] + sorted(k for k in changed if k not in order)
    values = "; ".join(
        f"{field_label(procedure, k)}: {value_text(procedure, k, changed[k])}" for k in keys
    )
    if version["deleted"]:
        values = "Xoá hồ sơ" + (f"; {values}" if values else "")
    if version["kind"] == "resolution":
        device = "Máy chủ tỉnh"
    else:
        device = devices.get(version["device_id"]) or f"máy {version['device_id'][:8]}…"
    return (
        str(version["version"]),
        moment_text(version["received_at"]),
        " · ".join(x for x in (device, version["clerk"]) if x),
        VERSION_KINDS.get(version["kind"], version["kind"]),
        values or "—",
    )


class HistoryPanel(ttk.Frame):
    """Every version of the conflict's record, oldest first (the losing values included)."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the empty list."""
        super().__init__(master, padding=(4, 6))
        self.message = ttk.Label(self, text="", bootstyle="secondary")
        self.message.pack(anchor="w", pady=(0, 4))
        self.tree = _tree(
            self,
            (
                ("version", "Bản", 48, False),
                ("received", "Máy chủ nhận", 142, False),
                ("who", "Máy · cán bộ", 235, False),
                ("kind", "Loại", 112, False),
                ("values", "Giá trị đã ghi (trường xung đột trước)", 460, True),
            ),
            height=8,
        )
        self.tree.tag_configure("resolution", foreground="#0a58ca")

    def say(self, text: str, style: str = "secondary") -> None:
        """Show a line above the list (loading, an error)."""
        self.message.configure(text=text, bootstyle=style)

    def show(
        self,
        versions: list[RecordVersion],
        procedure: str | None,
        devices: dict[str, str],
        first: Iterable[str],
    ) -> None:
        """Show ``versions`` (oldest first)."""
        first = list(first)
        tree = self.tree
        tree.delete(*tree.get_children())
        for version in versions:
            tree.insert(
                "",
                "end",
                values=version_cells(version, procedure, devices, first),
                tags=(version["kind"],),
            )
        self.say(f"{len(versions)} phiên bản, cũ nhất trước. Giá trị không được chọn vẫn ở đây.")

    def rows(self) -> list[tuple[str, ...]]:
        """Return the list as shown (tests read it)."""
        return [tuple(self.tree.item(i, "values")) for i in self.tree.get_children()]
