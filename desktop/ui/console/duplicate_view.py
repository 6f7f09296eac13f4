"""The parts of the duplicate review that show one suspected duplicate (no server calls).

Pure texts (what a decision made, a commune's name), a :class:`RecordCard` per side (where the
dossier was registered, by whom, when) and the :class:`EvidenceTable` (every compared field, A
and B, "Trùng" / "Khác", the fields that made them suspected highlighted). The screen itself
(:mod:`desktop.ui.console.duplicates`) loads, lists and decides.
"""

from __future__ import annotations

import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.console.service import ConsoleService
from desktop.console.statistics import commune_name
from desktop.forms.dates import format_datetime_vn
from desktop.forms.lifecycle import status_label
from desktop.ui.console.conflict_text import moment_text, value_text
from desktop.ui.console.table_fit import fit_columns
from protocol.admin import (
    A_DUPLICATE_OF_B,
    B_DUPLICATE_OF_A,
    DUPLICATE_OF_FIELD,
    KEEP_BOTH,
    ConflictDetail,
    DuplicateDetail,
    VersionInfo,
)

__all__ = [
    "DECISION_LABELS",
    "EvidenceTable",
    "RecordCard",
    "commune_text",
    "decided_text",
    "decision_of",
    "load_duplicate",
]

#: The decisions, as their buttons say them.
DECISION_LABELS = {
    KEEP_BOTH: "Giữ cả hai (hai hồ sơ khác nhau)",
    A_DUPLICATE_OF_B: "A là bản trùng của B",
    B_DUPLICATE_OF_A: "B là bản trùng của A",
}
NOTHING_DELETED = (
    "Không hồ sơ nào bị xoá: cả hai vẫn còn trên máy chủ tỉnh, cùng lịch sử của chúng; bản "
    "trùng chỉ được đánh dấu và về các máy xã ở lần đồng bộ tới."
)
BOTH_KEPT = "Không hồ sơ nào bị xoá hay thay đổi: cả hai vẫn còn trên máy chủ tỉnh."
#: The evidence table's columns.
EVIDENCE_COLUMNS = (
    ("label", "Trường so sánh (nền xanh: lý do nghi trùng)", 330),
    ("a", "Hồ sơ A", 235),
    ("b", "Hồ sơ B", 235),
    ("same", "So sánh", 80),
)
#: Row colours of the evidence: a field that made them suspected (equal), a keyed field that
#: differs, another field that differs.
MATCHED_BG, KEY_DIFFERS_BG, DIFFERS_FG = "#cfe8d5", "#fde2c4", "#b02a37"


def commune_text(code: str | None) -> str:
    """Return a commune as people read it: its name, or ``Xã mã 02704`` when unknown."""
    if not code:
        return ""
    name = commune_name(code)
    return f"Xã mã {code}" if name == code else name


def decision_of(detail: DuplicateDetail) -> str:
    """Return what was decided on a closed duplicate, read from the records' ``duplicate_of``."""
    a_id, b_id = detail["conflict"]["entity_id"], detail["conflict"]["other_entity_id"]
    if detail["a"].get(DUPLICATE_OF_FIELD) == b_id:
        return A_DUPLICATE_OF_B
    if detail["b"].get(DUPLICATE_OF_FIELD) == a_id:
        return B_DUPLICATE_OF_A
    return KEEP_BOTH


def _side(detail: DuplicateDetail, side: str) -> str:
    record, info = (
        detail["a" if side == "A" else "b"],
        detail["a_info" if side == "A" else "b_info"],
    )
    commune = commune_text(info["commune"] or record.get("commune"))
    return f"hồ sơ {side} ({record.get('dossier_no') or '—'}, {commune})"


def decided_text(detail: DuplicateDetail, decision: str, reason: str = "") -> str:
    """Say what a decision made of the two dossiers, why, and that nothing was deleted.

    The text starts in lower case: the screen puts "Đã quyết định lúc …:" before it.
    """
    a, b = _side(detail, "A"), _side(detail, "B")
    why = f" Lý do: {reason.rstrip('.')}." if reason else ""
    if decision == A_DUPLICATE_OF_B:
        return f"{a} là bản trùng của {b}.{why} {NOTHING_DELETED}"
    if decision == B_DUPLICATE_OF_A:
        return f"{b} là bản trùng của {a}.{why} {NOTHING_DELETED}"
    return f"giữ cả hai hồ sơ (hai hồ sơ khác nhau).{why} {BOTH_KEPT}"


def load_duplicate(
    console: ConsoleService, conflict_id: int
) -> tuple[DuplicateDetail, ConflictDetail | None]:
    """Return a suspected duplicate and, once decided, its conflict (who decided, why).

    Runs on a worker thread.
    """
    detail = console.duplicate(conflict_id)
    decided = None
    if detail["conflict"]["status"] != "open":
        decided = console.conflict(conflict_id)
    return detail, decided


class RecordCard(ttk.Labelframe):
    """One side of a suspected duplicate: where the dossier was registered, by whom, when."""

    ROWS = (
        ("made", "Bản mới nhất do"),
        ("times", "Tiếp nhận · lên tỉnh"),
        ("status", "Trạng thái"),
    )

    def __init__(self, master: tkinter.Misc, side: str) -> None:
        """Build an empty card for side ``A`` or ``B``."""
        super().__init__(master, text=f" Hồ sơ {side} ", padding=(10, 2))
        self.side = side
        self.title = ""
        self.values: dict[str, ttk.Label] = {}
        for row, (key, label) in enumerate(self.ROWS):
            ttk.Label(self, text=label, bootstyle="secondary").grid(
                row=row, column=0, sticky="nw", padx=(0, 10)
            )
            shown = ttk.Label(self, text="", wraplength=330, justify="left")
            shown.grid(row=row, column=1, sticky="nw")
            self.values[key] = shown
        self.columnconfigure(1, weight=1)
        self.bind("<Configure>", self._wrap, add="+")

    def _wrap(self, event: tkinter.Event[Any]) -> None:
        """Wrap the values at the card's width (half the screen, 960 to 1920 pixels wide)."""
        if event.widget is self:
            room = event.width - self.grid_bbox(0, 0)[2] - 40
            for label in self.values.values():
                label.configure(wraplength=max(room, 120))

    def show(self, record: dict[str, Any], info: VersionInfo, other_id: str | None) -> None:
        """Show one dossier's ``record`` values and the ``info`` of its current version."""
        made = " · ".join(p for p in (info["device_label"], info["clerk"]) if p) or "—"
        times = f"{format_datetime_vn(record.get('received_at')) or '—'} · "
        times += moment_text(info["received_at"]) or "—"
        if info["clock_suspect"]:
            times += " (đồng hồ máy này từng bị sai)"
        status = status_label(record.get("status")) or "—"
        if other_id and record.get(DUPLICATE_OF_FIELD) == other_id:
            status += " — đã đánh dấu là bản trùng"
        commune = commune_text(info["commune"] or record.get("commune"))
        texts = {
            "made": made,
            "times": times,
            "status": status,
        }
        for key, text in texts.items():
            self.values[key].configure(
                text=text, bootstyle="primary" if key == "status" and "bản trùng" in text else ""
            )
        # The commune and dossier number head the card: one line less on a short screen.
        self.title = f"Hồ sơ {self.side} — {commune} · số {record.get('dossier_no') or '—'}"
        self.configure(text=f" {self.title} ")

    def clear(self) -> None:
        """Show nothing."""
        for label in self.values.values():
            label.configure(text="")
        self.title = ""
        self.configure(text=f" Hồ sơ {self.side} ")


class EvidenceTable(ttk.Frame):
    """Every field the server compared: label, A, B and "Trùng" / "Khác"; matched ones green."""

    def __init__(self, master: tkinter.Misc) -> None:
        """Build the empty table with its scrollbar."""
        super().__init__(master)
        self.tree = ttk.Treeview(
            self, columns=[c for c, _, _ in EVIDENCE_COLUMNS], show="headings", height=5
        )
        for column, text, _width in EVIDENCE_COLUMNS:
            self.tree.heading(column, text=text, anchor="w")
        fit_columns(self.tree, [(c[0], c[2]) for c in EVIDENCE_COLUMNS])
        self.tree.tag_configure("matched", background=MATCHED_BG)
        self.tree.tag_configure("key_differs", background=KEY_DIFFERS_BG)
        self.tree.tag_configure("differs", foreground=DIFFERS_FG)
        scrollbar = ttk.Scrollbar(self, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)

    def show(self, detail: DuplicateDetail) -> None:
        """Show the evidence of ``detail`` (one row per field, iid = the record key)."""
        tree = self.tree
        tree.delete(*tree.get_children())
        matched = set(detail["matched"])
        procedure = detail["conflict"]["procedure"]
        for row in detail["evidence"]:
            # The server compares the conflict's dossier (incoming) with the other (current).
            key, a, b = row["field"], row["incoming"], row["current"]
            if key in matched:
                tags: tuple[str, ...] = ("matched",)
            elif row["clashing"] and row["differs"]:
                tags = ("key_differs",)
            else:
                tags = ("differs",) if row["differs"] else ()
            cells = (
                row["label"] or key,
                value_text(procedure, key, a),
                value_text(procedure, key, b),
                "Khác" if row["differs"] else "Trùng",
            )
            tree.insert("", "end", iid=key, values=cells, tags=tags)

    def clear(self) -> None:
        """Show no rows."""
        self.tree.delete(*self.tree.get_children())
