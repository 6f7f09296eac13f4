"""The console's "Thiết bị" screen: every enrolled commune PC, what it reports, codes, revocation.

One row per device (``devices.list``), sorted by commune then name, each commune's rows on one
shade: its status (in use, revoked with the reason, cloned), its last sync, the changes it said
were waiting on it, the app version it runs, how far its clock is from the server's (flagged
clocks highlighted: their times cannot be trusted), and its trouble — the last error it
reported, in words, and the changes of its that the server rejected or holds as conflicts.

"Cấp mã đăng ký…" issues a one-time code for a commune (the filter's by default) and shows it
large with a QR code (:mod:`desktop.ui.console.enrolment_code`); "Thu hồi máy…" revokes the
selected device with a required reason, which the PC is told at its next sync. The sync health
screen opens this one filtered to a commune (``on_show(commune=...)``).
"""

from __future__ import annotations

import logging
import tkinter
from typing import Any, Literal

import ttkbootstrap as ttk

from desktop.console.service import ConsoleError
from desktop.forms.reference import communes
from desktop.forms.vietnamese import collation_key
from desktop.ui.console.conflict_text import moment_text
from desktop.ui.console.enrolment_code import CommunePickDialog, EnrolmentCodeDialog
from desktop.ui.console.table_fit import fit_columns
from desktop.ui.dialogs import ReasonDialog
from desktop.ui.services import Services
from desktop.ui.widgets.tables import right_buttons
from protocol.admin import DeviceInfo, IssuedCode

log = logging.getLogger(__name__)

#: The filter's first choice.
ALL_COMMUNES = "Tất cả các xã"
NEVER = "chưa bao giờ"
Anchor = Literal["w", "e"]
#: The table's columns: (id, heading, width, anchor).
COLUMNS: tuple[tuple[str, str, int, Anchor], ...] = (
    ("commune", "Xã", 140, "w"),
    ("label", "Tên máy", 95, "w"),
    ("status", "Trạng thái", 185, "w"),
    ("last_sync", "Lần đồng bộ cuối", 140, "w"),
    ("pending", "Chờ gửi", 70, "e"),
    ("version", "Phiên bản", 90, "w"),
    ("clock", "Lệch đồng hồ", 115, "w"),
    ("trouble", "Lỗi", 140, "w"),
)
#: A device's status as provincial IT reads it.
STATUS_WORDS = {"active": "Đang dùng", "revoked": "Đã thu hồi", "cloned": "Bị sao chép"}
#: The error codes a device reports (``desktop.sync.errors``, ``protocol.errors``), in words.
ERROR_WORDS = {
    "offline": "Mất kết nối",
    "timeout": "Máy chủ trả lời chậm",
    "revoked": "Bị thu hồi",
    "cloned": "Trùng danh tính máy",
    "unknown_device": "Máy chủ không nhận ra máy",
    "bad_answer": "Phản hồi máy chủ không hợp lệ",
    "server": "Máy chủ tỉnh gặp lỗi",
    "busy": "Máy chủ bận",
    "refused": "Bị máy chủ từ chối",
    "bad_request": "Yêu cầu không hợp lệ",
    "bad_envelope": "Không mở được gói tin",
    "too_large": "Gói tin quá lớn",
    "replayed": "Gói tin bị gửi lặp",
    "session_expired": "Phiên đồng bộ hết hạn",
    "enrol_refused": "Đăng ký bị từ chối",
    "offset_mismatch": "Lệch vị trí khi gửi tệp",
    "upload": "Lỗi gửi tệp đính kèm",
    "not_found": "Máy chủ không tìm thấy dữ liệu",
    "not_enrolled": "Chưa đăng ký",
    "error": "Lỗi không lường trước",
}
#: Row colours: a flagged clock, a revoked or cloned device, every other commune's rows.
SKEW_BG, REVOKED_FG, SHADE_BG = "#fff0c2", "#b02a37", "#f2f4f7"


def commune_label(code: str, name: str = "") -> str:
    """Return a commune as the screen shows it: ``Xã Y Tý``, or ``Xã mã 02704`` when unknown."""
    return name or f"Xã mã {code}"


def status_text(device: DeviceInfo) -> str:
    """Return ``Đang dùng``, ``Đã thu hồi: <reason>`` or ``Bị sao chép``."""
    word = STATUS_WORDS.get(device["status"], device["status"])
    reason = (device["status_reason"] or "").strip()
    return f"{word}: {reason}" if reason and device["status"] != "active" else word


def clock_text(offset_ms: int | None) -> str:
    """Return how far a device's clock is ahead (+) or behind (−) the server's: ``+3 phút``."""
    if offset_ms is None:
        return "—"
    seconds = round(offset_ms / 1000)
    if abs(seconds) < 5:
        return "đúng giờ"
    sign = "+" if seconds > 0 else "−"
    if abs(seconds) < 60:
        return f"{sign}{abs(seconds)} giây"
    minutes = round(abs(seconds) / 60)
    if minutes < 120:
        return f"{sign}{minutes} phút"
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours} giờ {rest} phút" if rest else f"{sign}{hours} giờ"


def clock_sentence(offset_ms: int | None) -> str:
    """Say which way a device's clock is off, for the detail line ("" when right or unknown)."""
    text = clock_text(offset_ms)
    if offset_ms is None or text == "đúng giờ":
        return ""
    way = "nhanh" if offset_ms > 0 else "chậm"
    return f"Đồng hồ máy {way} {text.lstrip('+−')} so với máy chủ tỉnh."


def error_word(code: str | None) -> str:
    """Return a reported error code in words (``offline`` → ``Mất kết nối``)."""
    if not code:
        return ""
    return ERROR_WORDS.get(code, f"Lỗi «{code}»")


def trouble_text(device: DeviceInfo) -> str:
    """Return the device's trouble: last error, rejected changes, open conflicts (— for none)."""
    parts = [error_word(device["last_error"])] if device["last_error"] else []
    if device["rejected"]:
        parts.append(f"{device['rejected']} bị từ chối")
    if device["conflicts_open"]:
        parts.append(f"{device['conflicts_open']} xung đột đang mở")
    return " · ".join(parts) or "—"


def device_cells(device: DeviceInfo) -> tuple[str, ...]:
    """Return a device's row, in :data:`COLUMNS` order."""
    pending = device["pending_reported"]
    return (
        commune_label(device["commune"], device["commune_name"]),
        device["label"] or device["device_id"][:8],
        status_text(device),
        moment_text(device["last_sync"]) if device["last_sync"] else NEVER,
        "—" if pending is None else str(pending),
        device["app_version"] or "—",
        clock_text(device["clock_offset_ms"]),
        trouble_text(device),
    )


def sorted_devices(devices: list[DeviceInfo]) -> list[DeviceInfo]:
    """Return devices grouped by commune (in Vietnamese order of names), then by name."""
    return sorted(
        devices,
        key=lambda d: (
            collation_key(commune_label(d["commune"], d["commune_name"])),
            d["commune"],
            collation_key(d["label"]),
        ),
    )


class DevicesScreen(ttk.Frame):
    """Every enrolled device by commune; issue enrolment codes; revoke a device.

    Args:
        master: the shell's content frame.
        services: the shared services (``services.console`` talks to the server).
        **kwargs: ignored (``on_show`` reads ``commune``).
    """

    def __init__(self, master: tkinter.Misc, services: Services, **kwargs: Any) -> None:
        """Build the filter, the buttons, the table and the detail line."""
        super().__init__(master)
        self.services = services
        self.devices: list[DeviceInfo] = []
        self.code_dialog: EnrolmentCodeDialog | None = None
        self.pick_dialog: CommunePickDialog | None = None
        self.reason_dialog: ReasonDialog | None = None
        self._asked = 0
        self._choices: list[tuple[str, str | None]] = []
        self._build_bar()
        self._build_footer()  # packed before the table: the table shrinks, never these lines
        self._build_table()
        self._set_choices([])
        self.bind("<Configure>", self._wrap, add="+")

    def _build_bar(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(fill="x", pady=(0, 6))
        self.reload_button, self.revoke_button, self.issue_button = right_buttons(
            bar,
            (
                ("Tải lại (F5)", "secondary-outline", self.refresh),
                ("Thu hồi máy… (Delete)", "danger", self.revoke_selected),
                ("Cấp mã đăng ký…", "primary", self.issue_code),
            ),
        )
        ttk.Label(bar, text="Xã").pack(side="left")
        self.commune_box = ttk.Combobox(bar, state="readonly", width=24)
        self.commune_box.pack(side="left", padx=(6, 12))
        self.commune_box.bind("<<ComboboxSelected>>", lambda _e: self.reload())

    def _build_footer(self) -> None:
        footer = ttk.Frame(self)
        footer.pack(side="bottom", fill="x")
        counts = ttk.Frame(footer)
        counts.pack(fill="x", pady=(4, 0))
        self.count_label = ttk.Label(counts, text="")
        self.count_label.pack(side="left", padx=(0, 12))
        ttk.Label(
            counts,
            text="Nền vàng: đồng hồ lệch quá 5 phút · chữ đỏ: đã thu hồi hoặc bị sao chép",
            bootstyle="secondary",
        ).pack(side="left")
        self.detail = ttk.Label(footer, text="", justify="left", wraplength=900)
        self.detail.pack(anchor="w", fill="x", pady=(6, 0))
        self.message = ttk.Label(footer, text="", wraplength=900, justify="left")
        self.message.pack(anchor="w", pady=(4, 0))

    def _build_table(self) -> None:
        holder = ttk.Frame(self)
        holder.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(
            holder, columns=[c[0] for c in COLUMNS], show="headings", selectmode="browse"
        )
        for column, text, _width, anchor in COLUMNS:
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, anchor=anchor)
        fit_columns(self.tree, [(c[0], c[2]) for c in COLUMNS])
        self.tree.tag_configure("shade", background=SHADE_BG)
        self.tree.tag_configure("revoked", foreground=REVOKED_FG)
        self.tree.tag_configure("skew", background=SKEW_BG)
        scrollbar = ttk.Scrollbar(holder, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._show_selected())
        self.tree.bind("<Delete>", lambda _e: self.revoke_selected())

    def _wrap(self, event: tkinter.Event[Any]) -> None:
        if event.widget is self:
            for label in (self.detail, self.message):
                label.configure(wraplength=max(event.width - 20, 300))

    # -- the commune filter --------------------------------------------------------------------

    def _set_choices(self, seen: list[DeviceInfo]) -> None:
        """Offer every commune of the province, and any other commune a device is enrolled in."""
        current = self.commune
        known = {c.code: c.name for c in communes()}
        for device in seen:
            known.setdefault(device["commune"], commune_label(device["commune"]))
        if current and current not in known:
            known[current] = commune_label(current)
        ordered = sorted(known.items(), key=lambda item: (collation_key(item[1]), item[0]))
        self._choices = [(ALL_COMMUNES, None), *((name, code) for code, name in ordered)]
        self.commune_box.configure(values=[label for label, _ in self._choices])
        self.set_commune(current)

    @property
    def commune(self) -> str | None:
        """Return the commune the table is filtered to (None: all)."""
        index = self.commune_box.current()
        return self._choices[index][1] if 0 <= index < len(self._choices) else None

    def set_commune(self, code: str | None) -> None:
        """Filter the table to commune ``code`` (None: all communes); the caller reloads."""
        codes = [c for _, c in self._choices]
        if code is not None and code not in codes:
            self._choices.append((commune_label(code), code))
            self.commune_box.configure(values=[label for label, _ in self._choices])
            codes.append(code)
        self.commune_box.current(codes.index(code) if code in codes else 0)

    # -- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the devices of the filter's commune (all when none) on a worker."""
        console = self.services.console
        if console is None:
            return
        self._asked += 1
        number, commune = self._asked, self.commune
        self.services.tasks.run(
            console.devices,
            commune,
            on_done=lambda devices: self._show(number, devices),
            on_error=lambda error: self._failed(number, error),
            description="Đang tải danh sách thiết bị…",
        )

    def _show(self, number: int, devices: list[DeviceInfo]) -> None:
        if number != self._asked:
            return  # an answer to an older filter
        selected = self.selected_id()
        self.devices = sorted_devices(list(devices))
        if self.commune is None:
            self._set_choices(self.devices)
        tree = self.tree
        tree.delete(*tree.get_children())
        shade, last_commune = False, None
        for device in self.devices:
            if device["commune"] != last_commune:
                shade, last_commune = not shade, device["commune"]
            tags = ["shade"] if not shade else []
            if device["status"] != "active":
                tags.append("revoked")
            if device["flagged_skew"]:
                tags.append("skew")
            tree.insert("", "end", iid=device["device_id"], values=device_cells(device), tags=tags)
        active = sum(1 for d in self.devices if d["status"] == "active")
        self.count_label.configure(
            text=f"{len(self.devices)} máy · {active} đang dùng"
            if self.devices
            else "Chưa có máy nào được đăng ký" + ("" if self.commune is None else " ở xã này")
        )
        keep = (
            selected if selected and tree.exists(selected) else next(iter(tree.get_children()), "")
        )
        if keep:
            tree.selection_set(keep)
            tree.focus(keep)
        self._show_selected()

    def _failed(self, number: int, error: BaseException) -> None:
        if number == self._asked:
            self._say(_message(error), "danger")

    def selected_id(self) -> str | None:
        """Return the selected device's id, if any."""
        selected = self.tree.selection()
        return selected[0] if selected else None

    def selected(self) -> DeviceInfo | None:
        """Return the selected device, if any."""
        device_id = self.selected_id()
        return next((d for d in self.devices if d["device_id"] == device_id), None)

    def _show_selected(self) -> None:
        device = self.selected()
        self.revoke_button.configure(
            state="normal" if device and device["status"] == "active" else "disabled"
        )
        if device is None:
            self.detail.configure(text="")
            return
        lines = [
            f"{device['label'] or 'Máy không tên'} — "
            f"{commune_label(device['commune'], device['commune_name'])} · mã máy "
            f"{device['device_id']}",
            f"Đăng ký lúc {moment_text(device['enrolled_at'])} · liên lạc lần cuối "
            f"{moment_text(device['last_seen']) if device['last_seen'] else NEVER}",
        ]
        if device["status"] != "active":
            lines.append(f"{status_text(device)}. Máy sẽ bị từ chối ở mọi lần đồng bộ.")
        if device["last_error"]:
            lines.append(f"Lỗi máy báo lần cuối: {error_word(device['last_error'])}.")
        if device["flagged_skew"] or clock_sentence(device["clock_offset_ms"]):
            lines.append(clock_sentence(device["clock_offset_ms"]))
        self.detail.configure(text="\n".join(line for line in lines if line))

    def _say(self, text: str, style: str = "default") -> None:
        self.message.configure(text=text, bootstyle=style)

    # -- enrolment codes -----------------------------------------------------------------------

    def issue_code(self) -> None:
        """Ask which commune, then issue a code for it on a worker and show it."""
        device = self.selected()
        default = self.commune or (device["commune"] if device else None)
        choices = [(label, code) for label, code in self._choices if code is not None]
        self.pick_dialog = CommunePickDialog(
            self, choices, default=default, on_result=self._issue_for
        )

    def _issue_for(self, commune: str | None) -> None:
        self.pick_dialog = None
        console = self.services.console
        if commune is None or console is None:
            return
        self._say("Đang xin mã đăng ký từ máy chủ tỉnh…", "secondary")
        self.services.tasks.run(
            console.issue_code,
            commune,
            on_done=self._issued,
            on_error=lambda error: self._say(_message(error), "danger"),
            description="Đang cấp mã đăng ký…",
        )

    def _issued(self, issued: IssuedCode) -> None:
        label = dict((code, name) for name, code in self._choices).get(issued["commune"])
        label = label or commune_label(issued["commune"])
        self._say(f"Đã cấp mã đăng ký cho {label}.", "success")
        self.code_dialog = EnrolmentCodeDialog(self, issued, commune_label=label)

    # -- revoking ------------------------------------------------------------------------------

    def revoke_selected(self) -> None:
        """Ask for a reason, then revoke the selected device on a worker and reload."""
        device = self.selected()
        if device is None:
            self._say("Chọn một máy trong bảng trước.", "warning")
            return
        if device["status"] != "active":
            self._say(f"Máy «{device['label']}» đã không còn được dùng.", "warning")
            return
        commune = commune_label(device["commune"], device["commune_name"])
        self.reason_dialog = ReasonDialog(
            self,
            title="Thu hồi máy",
            message=(
                f"Thu hồi máy «{device['label']}» của {commune}? Từ lần đồng bộ tới, máy bị "
                "từ chối và thấy lý do bạn ghi dưới đây. Hồ sơ trên máy không bị xoá; muốn dùng "
                "lại máy, cấp cho nó một mã đăng ký mới."
            ),
            ok_text="Thu hồi máy",
            on_result=lambda reason: self._revoke(device, reason),
        )

    def _revoke(self, device: DeviceInfo, reason: str | None) -> None:
        self.reason_dialog = None
        console = self.services.console
        if reason is None or console is None:
            return
        self._say(f"Đang thu hồi máy «{device['label']}»…", "secondary")
        self.services.tasks.run(
            console.revoke,
            device["device_id"],
            reason,
            on_done=lambda _r: self._revoked(device, reason),
            on_error=lambda error: self._say(_message(error), "danger"),
            description="Đang thu hồi máy…",
        )

    def _revoked(self, device: DeviceInfo, reason: str) -> None:
        text = f"Đã thu hồi máy «{device['label']}». Lý do: {reason}."
        self._say(f"{text} Máy sẽ thấy lý do này ở lần đồng bộ tới.", "success")
        self.services.toast(text)
        self.reload()

    # -- shell hooks ---------------------------------------------------------------------------

    def on_show(self, commune: str | None = None, **_: Any) -> None:
        """Reload; filter to ``commune`` when given (the sync health screen opens one)."""
        if commune is not None:
            self.set_commune(commune)
        self.reload()
        self.tree.focus_set()

    def refresh(self) -> None:
        """Reload the devices from the server (F5)."""
        self._say("")
        self.reload()


def _message(error: BaseException) -> str:
    """Return what to tell provincial IT about a failed call (never a stack trace)."""
    if isinstance(error, ConsoleError):
        return error.clerk_message
    log.error("devices call failed", exc_info=error)
    return "Có lỗi không lường trước khi làm việc với máy chủ tỉnh. Hãy thử lại; nếu vẫn lỗi, xem nhật ký."
