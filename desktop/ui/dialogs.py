"""Dialogs for decisions: a plain confirmation, the duplicate review, the CCCD confirmation.

Toasts are for news; these are for decisions the clerk must take. Every dialog is a small
modal ``Toplevel`` that calls ``on_result(result)`` once when it closes (it never blocks the
caller in a nested event loop, so background tasks keep being delivered). Keyboard: Tab moves
between buttons, Enter presses the focused button (or the default one), Escape cancels.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.ui.display import summary_cells

if TYPE_CHECKING:
    from desktop.store.records import DossierSummary

#: Result of the duplicate review: go back to the form.
DUPLICATE_BACK = "back"
#: Result of the duplicate review: save the new dossier anyway.
DUPLICATE_SAVE = "save"
#: Result of the duplicate review: open the existing dossier (``("open", dossier_id)``).
DUPLICATE_OPEN = "open"


class Dialog(ttk.Toplevel):
    """A modal dialog over ``master``'s window that reports its result through a callback.

    Args:
        master: a widget of the window the dialog belongs to.
        title: the window title.
        on_result: called once with the result when the dialog closes (None when cancelled).
    """

    def __init__(
        self,
        master: tkinter.Misc,
        title: str,
        *,
        on_result: Callable[[Any], object] | None = None,
    ) -> None:
        """Create the window; subclasses fill ``self.body`` and ``self.buttons``."""
        parent = master.winfo_toplevel()
        super().__init__(title=title, transient=parent, resizable=(False, False))
        self._parent = parent
        self._on_result = on_result
        self._closed = False
        self.result: Any = None
        self.default_button: ttk.Button | None = None
        self.body = ttk.Frame(self, padding=(20, 16, 20, 8))
        self.body.pack(fill="both", expand=True)
        self.buttons = ttk.Frame(self, padding=(20, 8, 20, 16))
        self.buttons.pack(fill="x")
        self.protocol("WM_DELETE_WINDOW", lambda: self.close(None))
        self.bind("<Escape>", lambda _e: self.close(None))
        self.bind("<Return>", self._on_enter)
        self.bind("<KP_Enter>", self._on_enter)

    def add_button(
        self,
        text: str,
        result: Any,
        *,
        bootstyle: str = "secondary",
        default: bool = False,
    ) -> ttk.Button:
        """Add a button that closes the dialog with ``result``."""
        button = ttk.Button(
            self.buttons, text=text, bootstyle=bootstyle, command=lambda: self.close(result)
        )
        button.pack(side="right", padx=(8, 0))
        if default:
            self.default_button = button
        return button

    def show(self, focus: tkinter.Misc | None = None) -> Dialog:
        """Centre the dialog over its window, focus a widget and grab input.

        Args:
            focus: the widget to focus (default: the default button).
        """
        self.update_idletasks()
        width, height = self.winfo_reqwidth(), self.winfo_reqheight()
        x = self._parent.winfo_rootx() + max((self._parent.winfo_width() - width) // 2, 0)
        y = self._parent.winfo_rooty() + max((self._parent.winfo_height() - height) // 3, 0)
        self.geometry(f"+{x}+{y}")
        self.deiconify()
        self.lift()
        self._focus_target: tkinter.Misc = focus or self.default_button or self
        self._focus_target.focus_force()
        # Once the window is mapped the focus can really move there; ask again then.
        self.after(30, self._take_focus)
        self.after(30, self._grab)
        return self

    def _take_focus(self) -> None:
        if not self._closed:
            self._focus_target.focus_force()

    def _grab(self) -> None:
        # A grab can fail while the window is not yet viewable (no window manager under Xvfb);
        # the dialog still works without it, so retry a few times and then give up quietly.
        if self._closed:
            return
        try:
            self.grab_set()
        except tkinter.TclError:
            self.after(50, self._grab)

    def _on_enter(self, _event: tkinter.Event) -> str:
        focused = self.focus_get()
        if isinstance(focused, ttk.Button) and str(focused).startswith(str(self)):
            focused.invoke()
        elif self.default_button is not None:
            self.default_button.invoke()
        return "break"

    def close(self, result: Any) -> None:
        """Close the dialog and report ``result`` (once)."""
        if self._closed:
            return
        self._closed = True
        self.result = result
        try:
            self.grab_release()
        except tkinter.TclError:
            pass
        self.destroy()
        try:
            self._parent.focus_force()
        except tkinter.TclError:
            pass
        if self._on_result is not None:
            self._on_result(result)


class ConfirmDialog(Dialog):
    """Ask a yes/no question.

    Args:
        master: a widget of the window.
        title: window title.
        message: the question, in Vietnamese, saying what will happen.
        on_result: called with True (confirmed) or False.
        ok_text: the confirming button's text.
        cancel_text: the cancelling button's text.
        danger: style the confirming button as dangerous (huỷ hồ sơ …).
    """

    def __init__(
        self,
        master: tkinter.Misc,
        title: str,
        message: str,
        *,
        on_result: Callable[[bool], object] | None = None,
        ok_text: str = "Đồng ý",
        cancel_text: str = "Quay lại",
        danger: bool = False,
    ) -> None:
        """Build and show the dialog."""
        super().__init__(
            master, title, on_result=lambda r: on_result(bool(r)) if on_result else None
        )
        ttk.Label(self.body, text=message, wraplength=460, justify="left").pack(anchor="w")
        self.add_button(cancel_text, False)
        self.ok_button = self.add_button(
            ok_text, True, bootstyle="danger" if danger else "primary", default=True
        )
        self.show()


class DuplicateReviewDialog(Dialog):
    """Show the likely duplicates of a dossier about to be saved and let the clerk decide.

    Results: :data:`DUPLICATE_BACK` (go back to the form, the default and the safe choice),
    :data:`DUPLICATE_SAVE` (save the new dossier anyway) or ``(DUPLICATE_OPEN, dossier_id)``.

    Args:
        master: a widget of the window.
        duplicates: the store's summaries of the likely duplicates.
        on_result: called with the decision.
    """

    #: What the list's columns show (``desktop.ui.display.SUMMARY_CELLS``).
    CELLS = ("dossier_no", "name", "procedure", "received_day", "status")

    def __init__(
        self,
        master: tkinter.Misc,
        duplicates: Sequence[DossierSummary],
        *,
        on_result: Callable[[Any], object] | None = None,
    ) -> None:
        """Build and show the dialog."""
        super().__init__(master, "Có thể trùng hồ sơ", on_result=on_result)
        ttk.Label(
            self.body,
            text="Có thể trùng với hồ sơ đã có",
            font="-size 13 -weight bold",
            bootstyle="danger",
        ).pack(anchor="w")
        ttk.Label(
            self.body,
            text=(
                "Máy đã có hồ sơ cùng người và cùng sự kiện như hồ sơ bạn sắp lưu. Hãy xem "
                "lại: nếu đúng là một việc, mở hồ sơ đã có thay vì lưu thêm. Nếu đây là "
                "người khác (ví dụ anh chị em sinh đôi), bạn vẫn có thể lưu."
            ),
            wraplength=700,
            justify="left",
        ).pack(anchor="w", pady=(6, 10))
        columns = ("dossier_no", "name", "procedure", "received", "status")
        self.tree = ttk.Treeview(
            self.body, columns=columns, show="headings", height=min(max(len(duplicates), 2), 6)
        )
        headings = {
            "dossier_no": ("Số hồ sơ", 200),
            "name": ("Họ tên", 170),
            "procedure": ("Thủ tục", 150),
            "received": ("Tiếp nhận", 100),
            "status": ("Trạng thái", 100),
        }
        for column, (text, width) in headings.items():
            self.tree.heading(column, text=text, anchor="w")
            self.tree.column(column, width=width, anchor="w")
        for summary in duplicates:
            self.tree.insert("", "end", iid=summary.id, values=summary_cells(summary, self.CELLS))
        children = self.tree.get_children()
        if children:
            self.tree.selection_set(children[0])
            self.tree.focus(children[0])
        self.tree.pack(fill="x")
        self.tree.bind("<Double-1>", lambda _e: self._open())
        self.save_button = self.add_button("Vẫn lưu hồ sơ mới", DUPLICATE_SAVE, bootstyle="warning")
        self.open_button = ttk.Button(
            self.buttons, text="Mở hồ sơ đã có", bootstyle="info", command=self._open
        )
        self.open_button.pack(side="right", padx=(8, 0))
        self.back_button = self.add_button(
            "Quay lại sửa", DUPLICATE_BACK, bootstyle="primary", default=True
        )
        self.show()

    def _open(self) -> None:
        selected = self.tree.selection() or self.tree.get_children()
        if selected:
            self.close((DUPLICATE_OPEN, selected[0]))


class IdCardConfirmDialog(Dialog):
    """Show what a scanned chip ID card says before it fills a person's fields.

    Args:
        master: a widget of the window.
        person_title: whose fields will be filled (``Mẹ``).
        rows: (label, value) pairs as they will be filled in, in form order.
        warnings: things the clerk should check (expired card, ID disagreeing …).
        on_result: called with True (fill the form) or False.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        person_title: str,
        rows: Sequence[tuple[str, str]],
        warnings: Sequence[str] = (),
        on_result: Callable[[bool], object] | None = None,
    ) -> None:
        """Build and show the dialog."""
        super().__init__(
            master,
            "Xác nhận thông tin thẻ căn cước",
            on_result=lambda r: on_result(bool(r)) if on_result else None,
        )
        ttk.Label(
            self.body,
            text=f"Thông tin đọc từ thẻ căn cước — điền vào mục «{person_title}»",
            font="-size 12 -weight bold",
        ).pack(anchor="w", pady=(0, 8))
        grid = ttk.Frame(self.body)
        grid.pack(fill="x")
        for row, (label, value) in enumerate(rows):
            ttk.Label(grid, text=f"{label}:", bootstyle="secondary").grid(
                row=row, column=0, sticky="nw", padx=(0, 12), pady=2
            )
            ttk.Label(grid, text=value, wraplength=420, justify="left").grid(
                row=row, column=1, sticky="nw", pady=2
            )
        self.warning_labels: list[ttk.Label] = []
        for warning in warnings:
            shown = ttk.Label(
                self.body, text=f"⚠ {warning}", bootstyle="warning", wraplength=520, justify="left"
            )
            shown.pack(anchor="w", pady=(6, 0))
            self.warning_labels.append(shown)
        ttk.Label(
            self.body,
            text="Hãy so với thẻ thật. Họ, chữ đệm và tên được tách tự động: kiểm tra lại sau khi điền.",
            bootstyle="secondary",
            wraplength=520,
            justify="left",
        ).pack(anchor="w", pady=(10, 0))
        self.add_button("Huỷ", False)
        self.ok_button = self.add_button("Điền vào mẫu", True, bootstyle="primary", default=True)
        self.show()


class ReasonDialog(Dialog):
    """Ask for the reason of a serious step (huỷ, trả lại hồ sơ); the reason is required.

    Args:
        master: a widget of the window.
        title: window title (the action).
        message: what will happen.
        ok_text: the confirming button's text.
        on_result: called with the reason, or None when cancelled.
    """

    def __init__(
        self,
        master: tkinter.Misc,
        *,
        title: str,
        message: str,
        ok_text: str = "Đồng ý",
        on_result: Callable[[str | None], object] | None = None,
    ) -> None:
        """Build and show the dialog."""
        super().__init__(master, title, on_result=on_result)
        ttk.Label(self.body, text=message, wraplength=460, justify="left").pack(anchor="w")
        ttk.Label(self.body, text="Lý do *").pack(anchor="w", pady=(10, 0))
        self.entry = ttk.Entry(self.body, width=60)
        self.entry.pack(fill="x")
        self.error = ttk.Label(self.body, text="", bootstyle="danger")
        self.error.pack(anchor="w")
        self.add_button("Quay lại", None)
        self.ok_button = ttk.Button(
            self.buttons, text=ok_text, bootstyle="danger", command=self._confirm
        )
        self.ok_button.pack(side="right", padx=(8, 0))
        self.default_button = self.ok_button
        self.show(focus=self.entry)

    def _confirm(self) -> None:
        reason = " ".join(self.entry.get().split())
        if not reason:
            self.error.configure(text="Hãy ghi lý do trước khi tiếp tục.")
            self.entry.focus_set()
            return
        self.close(reason)
