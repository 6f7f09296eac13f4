"""The provincial IT console's main window: its navigation, menu, shortcuts and screens.

A :class:`ConsoleShell` is the clerk's :class:`desktop.ui.shell.Shell` (status bar, toasts,
idle lock, Ctrl+L, busy indicator, lazy screens) with the console's own screens. It has no
sync engine: a provincial profile holds no dossiers; it talks to the server through
``services.console``. Until the profile is enrolled as an operator that is None and the
"connect" screen asks for the server address and the operator code.

Screen names: "conflicts" (the inbox), "conflict" (kwargs ``conflict_id``), "duplicates"
(kwargs ``conflict_id`` optional), "devices", "health", "statistics", "connect", "help".
"""

from __future__ import annotations

import functools
import logging
import tkinter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.ui.screen_registry import ScreenFactory, ScreenLoader, lazy_factory
from desktop.ui.shell import Shell

if TYPE_CHECKING:
    from desktop.console.service import ConsoleService

log = logging.getLogger(__name__)

#: Left navigation of the console: (screen name, label).
CONSOLE_NAVIGATION: tuple[tuple[str, str], ...] = (
    ("conflicts", "Xung đột"),
    ("duplicates", "Hồ sơ nghi trùng"),
    ("devices", "Thiết bị"),
    ("health", "Tình trạng đồng bộ"),
    ("statistics", "Thống kê"),
    ("connect", "Kết nối máy chủ"),
    ("help", "Trợ giúp"),
)

#: The console's shortcuts: (Tk event sequences, label shown in menus, what it does).
CONSOLE_SHORTCUTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("<Control-Key-1>",), "Ctrl+1", "Xung đột"),
    (("<Control-Key-2>",), "Ctrl+2", "Hồ sơ nghi trùng"),
    (("<Control-Key-3>",), "Ctrl+3", "Thiết bị"),
    (("<Control-Key-4>",), "Ctrl+4", "Tình trạng đồng bộ"),
    (("<Control-Key-5>",), "Ctrl+5", "Thống kê"),
    (("<F5>",), "F5", "Tải lại màn hình"),
    (("<Control-l>", "<Control-L>"), "Ctrl+L", "Khoá máy"),
    (("<F1>",), "F1", "Trợ giúp"),
)

#: Shortcut label → the screen it opens.
_SCREEN_KEYS = {"Ctrl+1": "conflicts", "Ctrl+2": "duplicates", "Ctrl+3": "devices"}
_SCREEN_KEYS.update({"Ctrl+4": "health", "Ctrl+5": "statistics", "F1": "help"})


def _inbox() -> ScreenFactory:
    from desktop.ui.console.inbox import ConflictInboxScreen

    return ConflictInboxScreen


def _conflict() -> ScreenFactory:
    from desktop.ui.console.conflict_view import ConflictScreen

    return ConflictScreen


def _duplicates() -> ScreenFactory:
    from desktop.ui.console.duplicates import DuplicateReviewScreen

    return DuplicateReviewScreen


def _devices() -> ScreenFactory:
    from desktop.ui.console.devices import DevicesScreen

    return DevicesScreen


def _health() -> ScreenFactory:
    from desktop.ui.console.health import SyncHealthScreen

    return SyncHealthScreen


def _statistics() -> ScreenFactory:
    from desktop.ui.console.statistics_screen import StatisticsScreen

    return StatisticsScreen


def _connect() -> ScreenFactory:
    from desktop.ui.console.connect import ConnectScreen

    return ConnectScreen


def _help() -> ScreenFactory:
    from desktop.ui.console.help import ConsoleHelpScreen

    return ConsoleHelpScreen


#: Screen name → the loader of its module.
CONSOLE_SCREENS: dict[str, ScreenLoader] = {
    "conflicts": _inbox,
    "conflict": _conflict,
    "duplicates": _duplicates,
    "devices": _devices,
    "health": _health,
    "statistics": _statistics,
    "connect": _connect,
    "help": _help,
}

#: Screens that need the server: shown as "connect" first while the console is not enrolled.
NEEDS_SERVER = ("conflicts", "conflict", "duplicates", "devices", "health", "statistics")


class ConsoleShell(Shell):
    """Provincial IT's main window content (see the module docstring).

    Args:
        root: the application root.
        console: the link to the provincial server, or None until the profile is enrolled.
        **kwargs: the :class:`Shell` arguments (``store``, ``tasks``, ``settings``, ``clerk``,
            ``on_lock``, ``profile_dir``, ``idle_check_ms``, ``register_default_screens``).
    """

    navigation = CONSOLE_NAVIGATION
    shortcuts = CONSOLE_SHORTCUTS
    own_screens = CONSOLE_SCREENS
    home_screen = "conflicts"
    person_title = "Cán bộ CNTT tỉnh"

    def __init__(
        self, root: tkinter.Tk, *, console: ConsoleService | None = None, **kwargs: Any
    ) -> None:
        """Build the shell; the first screen is the inbox, or "connect" when not enrolled."""
        super().__init__(root, **kwargs)
        self.services.console = console
        self.services.attach_console = self.attach_console
        self._titles["conflict"] = "Xử lý xung đột"
        # No sync engine here: the status bar says which server the console talks to instead.
        self.sync_indicator.pack_forget()
        self.server_label = ttk.Label(self.sync_indicator.master, text="")
        self.server_label.pack(side="right")
        self._show_server()

    # -- the server link ----------------------------------------------------------------------

    def attach_console(self, console: ConsoleService) -> None:
        """Use ``console`` from now on (the profile was just enrolled): rebuild the screens that
        need it, say so and open the inbox."""
        self.services.console = console
        self._show_server()
        for name in NEEDS_SERVER:
            old = self._screens.pop(name, None)
            if old is not None:
                old.destroy()
        self.toast(f"Đã kết nối máy chủ tỉnh {console.server_url}.")
        self.navigate("conflicts")

    def navigate(self, name: str, **kwargs: Any) -> None:
        """Show screen ``name``; a screen that needs the server shows "connect" until enrolled."""
        if name in NEEDS_SERVER and self.services.console is None:
            name, kwargs = "connect", {}
        super().navigate(name, **kwargs)

    def refresh_current(self) -> None:
        """Reload the screen shown now (F5), when it can reload."""
        screen = self.current_screen
        # ``refresh`` is an optional console screen hook: lists and details define it.
        refresh = getattr(screen, "refresh", None)
        if callable(refresh):
            refresh()

    def destroy(self) -> None:
        """Close the server link's connections, then destroy the shell."""
        if self.services.console is not None:
            try:
                self.services.console.close()
            except Exception:
                log.exception("closing the console link failed")
        super().destroy()

    def _show_server(self) -> None:
        console = self.services.console
        text = f"Máy chủ tỉnh: {console.server_url}" if console else "Chưa kết nối máy chủ tỉnh"
        self.server_label.configure(text=text)

    # -- what differs from the clerk's shell --------------------------------------------------

    def _register_default_screens(self) -> None:
        for name, load in self.own_screens.items():
            self.register_screen(name, lazy_factory(load))

    def _connect_sync(self) -> None:
        """The console has no sync engine: nothing to follow."""

    def _shortcut_actions(self) -> dict[str, Callable[[], object]]:
        actions: dict[str, Callable[[], object]] = {
            keys: functools.partial(self.navigate, name) for keys, name in _SCREEN_KEYS.items()
        }
        actions["F5"] = self.refresh_current
        actions["Ctrl+L"] = self.lock
        return actions

    def _build_menu(self) -> None:
        self.menubar = tkinter.Menu(self.root)
        screens = tkinter.Menu(self.menubar, tearoff=False)
        keys_of = {name: keys for keys, name in _SCREEN_KEYS.items()}
        for name, label in CONSOLE_NAVIGATION:
            screens.add_command(
                label=label,
                accelerator=keys_of.get(name, ""),
                command=functools.partial(self.navigate, name),
            )
        screens.add_separator()
        screens.add_command(label="Tải lại", accelerator="F5", command=self.refresh_current)
        screens.add_command(label="Khoá máy", accelerator="Ctrl+L", command=self.lock)
        self.menubar.add_cascade(label="Quản trị", menu=screens)
        help_menu = tkinter.Menu(self.menubar, tearoff=False)
        help_menu.add_command(
            label="Trợ giúp và phím tắt", accelerator="F1", command=lambda: self.navigate("help")
        )
        self.menubar.add_cascade(label="Trợ giúp", menu=help_menu)
        self.help_menu = help_menu
