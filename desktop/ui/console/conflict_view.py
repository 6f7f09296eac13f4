"""The console's "Xử lý xung đột" screen: one conflict side by side, resolved field by field.

Opened from the inbox with ``conflict_id``; loads ``services.console.conflict`` on a worker.
At the top: what the conflict is (kind, commune, procedure, person, dossier number, when it was
raised) and three cards — Gốc (the version the device started from), Hiện tại trên máy chủ and
Mới đến (the change that clashed) — each saying which commune, device and clerk made it, the
device's clock time (with a warning when the server knows that clock is wrong) and when the
server received it. Below, in tabs: the field grid (:mod:`desktop.ui.console.conflict_fields`),
the resolution once there is one (who, why, which devices have received it), and the record's
history, where the losing value stays.

An open conflict is resolved with a required reason ("Giải quyết (Ctrl+Enter)"): the choices
go to ``services.console.resolve`` on a worker, the server signs a resolution change that every
device of the commune receives at its next sync, and the screen reloads read-only. Escape goes
back to the inbox; F5 reloads (to see which devices have received the decision).
"""

from __future__ import annotations

import logging
import tkinter
from typing import Any

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError, ConsoleService
from desktop.forms.procedures import procedure_title
from desktop.ui.console.conflict_fields import ChoiceProblem, FieldGrid
from desktop.ui.console.conflict_panels import HistoryPanel, ResolutionPanel
from desktop.ui.console.conflict_text import (
    KIND_LABELS,
    STATUS_LABELS,
    age_text,
    commune_name,
    moment_text,
)
from desktop.ui.console.conflict_widgets import ScreenKeys, VersionCard
from desktop.ui.services import Services
from protocol.admin import ConflictDetail, RecordVersion, Resolved

log = logging.getLogger(__name__)

MSG_LOADING = "Đang tải xung đột…"
MSG_FAILED = "Không tải được xung đột này. Hãy thử lại (F5); nếu vẫn lỗi, xem nhật ký."
MSG_NO_REASON = (
    "Hãy ghi lý do giải quyết (bắt buộc): lý do được gửi kèm quyết định về các máy của xã "
    "và ghi vào nhật ký của hồ sơ."
)
MSG_SENDING = "Đang gửi quyết định lên máy chủ tỉnh…"
MSG_DONE = "Đã giải quyết xung đột. Các máy của xã sẽ nhận quyết định ở lần đồng bộ kế tiếp."
MSG_DUPLICATE = (
    "Đây là hai hồ sơ nghi trùng một sự kiện: xem và quyết định ở màn hình «Hồ sơ nghi trùng»."
)
#: Card titles by kind: (base, current, incoming).
CARD_TITLES = ("Gốc", "Hiện tại trên máy chủ", "Mới đến")
BOOK_CARD_TITLES = ("Gốc", "Hồ sơ đã có số này", "Hồ sơ mới đến")


def fetch_history(
    console: ConsoleService, entity_id: str, commune: str
) -> tuple[list[RecordVersion], dict[str, str]]:
    """Return a record's versions and its commune's device labels (on a worker)."""
    versions = console.history(entity_id)
    try:
        devices = {d["device_id"]: d["label"] for d in console.devices(commune)}
    except ConsoleError:
        devices = {}  # the versions are what matters; ids stand in for the names
    return versions, devices


def _message(error: BaseException, fallback: str, what: str) -> str:
    if isinstance(error, ConsoleError):
        return error.clerk_message
    log.error("%s failed", what, exc_info=error)
    return fallback


class ConflictScreen(ttk.Frame):
    """One conflict side by side (see the module docstring).

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` is the server link).
        **_kwargs: ignored (``on_show`` reads ``conflict_id``).

    Attributes:
        conflict_id: the conflict shown (or being loaded).
        detail: what the server said of it, once loaded.
        history: the record's versions, once the history tab loaded them.
    """

    def __init__(self, master: tkinter.Misc, services: Services, **_kwargs: Any) -> None:
        """Build the header, the cards, the tabs and the decision bar (empty)."""
        super().__init__(master)
        self.services = services
        self.conflict_id: int | None = None
        self.detail: ConflictDetail | None = None
        self.history: list[RecordVersion] | None = None
        self.sending = False
        self._asked = self._shown = 0
        self._history_asked = 0
        self._after_load: str | None = None
        self._build_header()
        self._build_cards()
        self._build_tabs()
        self._build_decision()
        self.screen_keys = ScreenKeys(
            self,
            {
                "<Escape>": self.back,
                "<Control-Return>": self.resolve,
                "<Control-KP_Enter>": self.resolve,
            },
        )
        self.screen_keys.tag_all()

    # -- building ------------------------------------------------------------------------------

    def _build_header(self) -> None:
        top = ttk.Frame(self)
        top.pack(fill="x")
        self.back_button = ttk.Button(
            top, text="← Hộp xung đột (Esc)", bootstyle="secondary-outline", command=self.back
        )
        self.back_button.pack(side="left", padx=(0, 10))
        self.status_badge = ttk.Label(top, text="", padding=(8, 2))
        self.status_badge.pack(side="right")
        titles = ttk.Frame(top)
        titles.pack(side="left", fill="x", expand=True)
        self.heading_title = ttk.Label(
            titles, text="", font="-size 12 -weight bold", justify="left"
        )
        self.heading_title.pack(anchor="w")
        self.subtitle = ttk.Label(titles, text="", justify="left")
        self.subtitle.pack(anchor="w")
        titles.bind(
            "<Configure>",
            lambda e: [
                label.configure(wraplength=max(e.width - 8, 200))
                for label in (self.heading_title, self.subtitle)
            ],
            add="+",
        )
        self.message = ttk.Label(self, text="", bootstyle="secondary", wraplength=940)
        self.message.pack(anchor="w", pady=(2, 2))
        self.duplicate_button = ttk.Button(
            self,
            text="Mở màn hình hồ sơ nghi trùng",
            bootstyle="primary",
            command=self._open_duplicate,
        )

    def _build_cards(self) -> None:
        self.cards_frame = ttk.Frame(self)
        self.cards_frame.pack(fill="x", pady=(2, 6))
        self.cards = [VersionCard(self.cards_frame, title) for title in CARD_TITLES]
        for column, card in enumerate(self.cards):
            card.grid(row=0, column=column, sticky="nsew", padx=(0 if column == 0 else 6, 0))
            self.cards_frame.columnconfigure(column, weight=1, uniform="cards")
        self.base_card, self.current_card, self.incoming_card = self.cards

    def _build_tabs(self) -> None:
        self.tabs = ttk.Notebook(self)
        self.tabs.pack(fill="both", expand=True)
        self.tabs.enable_traversal()
        self.grid_tab = FieldGrid(self.tabs)
        self.tabs.add(self.grid_tab, text="So sánh từng trường", underline=0)
        self.result_tab = ResolutionPanel(self.tabs)
        self.tabs.add(self.result_tab, text="Kết quả giải quyết", underline=0)
        history = ttk.Frame(self.tabs)
        self.history_tab = HistoryPanel(history)
        self.history_tab.pack(fill="both", expand=True)
        self.tabs.add(history, text="Lịch sử hồ sơ", underline=0)
        self._history_frame = history
        self.tabs.hide(self.result_tab)
        self.tabs.bind("<<NotebookTabChanged>>", self._tab_changed, add="+")

    def _build_decision(self) -> None:
        self.decision = ttk.Frame(self, padding=(0, 6, 0, 0))
        self._pack_decision()
        line = ttk.Frame(self.decision)
        line.pack(fill="x")
        ttk.Label(line, text="Lý do (bắt buộc)", font="-weight bold").pack(side="left")
        self.reason_entry = ttk.Entry(line)
        self.reason_entry.pack(side="left", fill="x", expand=True, padx=8)
        self.reason_entry.bind("<KeyRelease>", self._reason_typed, add="+")
        self.resolve_button = ttk.Button(
            line, text="Giải quyết (Ctrl+Enter)", bootstyle="primary", command=self.resolve
        )
        self.resolve_button.pack(side="left")
        self.decision_message = ttk.Label(
            self.decision, text="", bootstyle="danger", wraplength=940, justify="left"
        )
        self.decision_message.pack(anchor="w")

    # -- loading -------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Return True when what is shown answers the last request (tests and the bench)."""
        return self._shown == self._asked and self._asked > 0 and not self.sending

    def load(self, conflict_id: int) -> None:
        """Load conflict ``conflict_id`` on a worker (a new one starts on the field grid)."""
        console = self.services.console
        if console is None:
            return
        if conflict_id != self.conflict_id:
            self.detail, self.history = None, None
            self.reason_entry.delete(0, "end")
            self.decision_message.configure(text="")
            self._after_load = "fields"
        self.conflict_id = conflict_id
        self._asked += 1
        number = self._asked
        self.message.configure(text=MSG_LOADING, bootstyle="secondary")
        self.services.tasks.run(
            console.conflict,
            conflict_id,
            on_done=lambda detail: self._loaded(number, detail),
            on_error=lambda error: self._failed(number, error),
            description="Đang tải xung đột",
        )

    def _loaded(self, number: int, detail: ConflictDetail) -> None:
        if number != self._asked or not self.winfo_exists():
            return  # stale: another conflict (or a reload) was asked for since
        self._shown = number
        self.detail = detail
        conflict = detail["conflict"]
        self._show_header(detail)
        titles = BOOK_CARD_TITLES if conflict["kind"] == "book_number" else CARD_TITLES
        for card, side, title in zip(
            self.cards, ("base", "current", "incoming"), titles, strict=True
        ):
            card.show(detail[side], title=self._card_title(title, detail, side))  # type: ignore[literal-required]
        editable = conflict["status"] == "open" and conflict["kind"] != "duplicate"
        self.grid_tab.show(detail, editable=editable)
        self.screen_keys.tag_all(self.grid_tab)
        self._show_state(detail, editable)
        self.message.configure(
            text=MSG_DUPLICATE if conflict["kind"] == "duplicate" else "", bootstyle="secondary"
        )
        if self.tabs.select() == str(self._history_frame):
            self.load_history()

    def _card_title(self, title: str, detail: ConflictDetail, side: str) -> str:
        version = detail[side]["version"]  # type: ignore[literal-required]
        if side == "incoming":
            conflict = detail["conflict"]
            waiting = conflict["status"] == "open" and conflict["kind"] in ("field", "delete")
            return f"{title} (chưa ghi vào hồ sơ)" if waiting else title
        return f"{title} — bản {version}" if version else title

    def _show_header(self, detail: ConflictDetail) -> None:
        conflict = detail["conflict"]
        parts = [
            KIND_LABELS.get(conflict["kind"], conflict["kind"]),
            procedure_title(conflict["procedure"]) or "—",
            commune_name(conflict["commune"]),
        ]
        self.heading_title.configure(text=" — ".join(parts))
        who = [conflict["title"] or "(chưa có tên)"]
        if conflict["dossier_no"]:
            who.append(f"Số hồ sơ {conflict['dossier_no']}")
        created = conflict["created_at"]
        age = age_text(created)
        who.append(
            f"mở lúc {moment_text(created)} ({age if age == 'vừa xong' else age + ' trước'})"
        )
        self.subtitle.configure(text=" · ".join(who))
        resolved = conflict["status"] == "resolved"
        self.status_badge.configure(
            text=STATUS_LABELS.get(conflict["status"], conflict["status"]),
            bootstyle="@success" if resolved else "@warning",
        )

    def _show_state(self, detail: ConflictDetail, editable: bool) -> None:
        """Show the decision bar (open) or the resolution tab (resolved)."""
        resolved = detail["conflict"]["status"] == "resolved"
        if resolved:
            self.result_tab.show(detail)
            self.tabs.add(self.result_tab)  # shows it again where it was
        else:
            self.tabs.hide(self.result_tab)
        if editable:
            self._pack_decision()
            self.resolve_button.configure(state="normal")
        else:
            self.decision.pack_forget()
        if detail["conflict"]["kind"] == "duplicate" and not resolved:
            self.duplicate_button.pack(anchor="w", before=self.cards_frame, pady=(0, 4))
        else:
            self.duplicate_button.pack_forget()
        target, self._after_load = self._after_load, None
        if target == "result" and resolved:
            self.tabs.select(self.result_tab)
        elif target == "fields":
            self.tabs.select(self.grid_tab)
            if editable:
                self.grid_tab.focus_first()

    def _pack_decision(self) -> None:
        # Packed before the tabs: the tabs shrink on a small window, the reason never hides.
        self.decision.pack(side="bottom", fill="x", before=self.tabs)

    def _failed(self, number: int, error: BaseException) -> None:
        if number != self._asked or not self.winfo_exists():
            return
        self._shown = number
        text = _message(error, MSG_FAILED, "loading a conflict")
        self.message.configure(text=text, bootstyle="danger")

    # -- history -------------------------------------------------------------------------------

    def _tab_changed(self, _event: tkinter.Event[Any]) -> None:
        if self.tabs.select() == str(self._history_frame) and self.history is None:
            self.load_history()

    def show_history(self) -> None:
        """Show the "Lịch sử hồ sơ" tab (it loads the history)."""
        self.tabs.select(self._history_frame)
        self.load_history()

    def load_history(self) -> None:
        """Load the record's history on a worker (every version, the losing values too)."""
        console, detail = self.services.console, self.detail
        if console is None or detail is None:
            return
        self._history_asked += 1
        number, conflict = self._history_asked, detail["conflict"]
        self.history_tab.say("Đang tải lịch sử hồ sơ…")
        self.services.tasks.run(
            fetch_history,
            console,
            conflict["entity_id"],
            conflict["commune"],
            on_done=lambda answer: self._history_loaded(number, conflict["id"], answer),
            on_error=lambda error: self._history_failed(number, error),
            description="Đang tải lịch sử hồ sơ",
        )

    def _history_loaded(
        self, number: int, conflict_id: int, answer: tuple[list[RecordVersion], dict[str, str]]
    ) -> None:
        if number != self._history_asked or conflict_id != self.conflict_id or not self.detail:
            return
        versions, devices = answer
        for info in (self.detail["base"], self.detail["current"], self.detail["incoming"]):
            if info["device_id"] and info["device_label"]:
                devices.setdefault(info["device_id"], info["device_label"])
        self.history = versions
        conflict = self.detail["conflict"]
        self.history_tab.show(versions, conflict["procedure"], devices, conflict["fields"])

    def _history_failed(self, number: int, error: BaseException) -> None:
        if number != self._history_asked or not self.winfo_exists():
            return
        self.history_tab.say(
            _message(error, "Không tải được lịch sử hồ sơ. Hãy thử lại.", "loading history"),
            "danger",
        )

    # -- resolving -----------------------------------------------------------------------------

    def resolve(self) -> None:
        """Check the choices and the reason, then send the resolution on a worker."""
        detail, console = self.detail, self.services.console
        if detail is None or console is None or self.sending or not self.decision.winfo_ismapped():
            return
        try:
            choices = self.grid_tab.choices()
        except ChoiceProblem as problem:
            self._refuse(problem.message, problem.widget)
            return
        reason = self.reason_entry.get().strip()
        if not reason:
            self._refuse(MSG_NO_REASON, self.reason_entry)
            return
        self.sending = True
        self.resolve_button.configure(state="disabled")
        self.decision_message.configure(text=MSG_SENDING, bootstyle="secondary")
        conflict_id = detail["conflict"]["id"]
        self.services.tasks.run(
            console.resolve,
            conflict_id,
            choices,
            reason,
            on_done=lambda result: self._resolved(conflict_id, result),
            on_error=lambda error: self._resolve_failed(conflict_id, error),
            description="Đang gửi quyết định",
        )

    def _reason_typed(self, _event: tkinter.Event[Any]) -> None:
        if self.reason_entry.get().strip() and self.decision_message.cget("text") == MSG_NO_REASON:
            self.decision_message.configure(text="")  # the missing reason is being written

    def _refuse(self, text: str, widget: tkinter.Misc | None) -> None:
        self.decision_message.configure(text=text, bootstyle="danger")
        if widget is None:
            return
        if widget is not self.reason_entry:
            self.tabs.select(self.grid_tab)  # the problem is in the grid: show it
            self.grid_tab.area.ensure_visible(widget)
        widget.focus_set()

    def _resolved(self, conflict_id: int, _result: Resolved) -> None:
        self.sending = False
        if not self.winfo_exists():
            return
        self.decision_message.configure(text="", bootstyle="secondary")
        self.services.toast(MSG_DONE)
        if conflict_id == self.conflict_id:
            self._after_load = "result"
            self.load(conflict_id)

    def _resolve_failed(self, conflict_id: int, error: BaseException) -> None:
        self.sending = False
        if not self.winfo_exists():
            return
        self.resolve_button.configure(state="normal")
        text = _message(error, "Không gửi được quyết định. Hãy thử lại.", "resolving")
        self.decision_message.configure(text=text, bootstyle="danger")
        if isinstance(error, ConsoleError) and error.code == "stale":
            self._after_load = "result"
            self.load(conflict_id)  # someone else resolved it meanwhile: show their decision

    # -- navigation and shell hooks ------------------------------------------------------------

    def back(self) -> None:
        """Go back to the conflict inbox."""
        self.services.navigate("conflicts")

    def _open_duplicate(self) -> None:
        if self.conflict_id is not None:
            self.services.navigate("duplicates", conflict_id=self.conflict_id)

    def on_show(self, conflict_id: int | None = None, **_kwargs: Any) -> None:
        """Load ``conflict_id`` (or reload the one shown)."""
        target = conflict_id if conflict_id is not None else self.conflict_id
        if target is not None:
            self.load(int(target))
        self.back_button.focus_set()

    def refresh(self) -> None:
        """Reload the conflict shown (F5): e.g. which devices have received the decision."""
        if self.conflict_id is not None:
            self.load(self.conflict_id)
            if self.history is not None:
                self.history = None  # reloaded with the detail when its tab is shown

    def destroy(self) -> None:
        """Drop the screen's key bindings, then destroy it."""
        self.screen_keys.release()
        super().destroy()
