"""The main window's frame: navigation, menu, status bar with the sync indicator, screens.

Screens are registered by name with a factory ``factory(master, services, **kwargs)`` that
returns a ``ttk.Frame``. A screen is built the first time it is shown and kept afterwards.
Optional methods a screen may define, all called on the Tk thread:

- ``on_show(**kwargs)``: every time it is shown (also the first time, with the same kwargs
  the factory got), e.g. ``navigate("dossier_detail", dossier_id=...)``;
- ``on_hide()``: when another screen replaces it;
- ``on_save()``: Ctrl+S while it is shown;
- ``before_lock()``: before the window locks (idle or Ctrl+L) or closes: save drafts here.

Screen names used across the app: "dashboard", "new_dossier", "search", "dossier_detail"
(kwargs ``dossier_id``), "sync", "settings", "help".
"""

from __future__ import annotations

import logging
import time
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from desktop.sync.status import SyncStatus
from desktop.ui import screens_dossier
from desktop.ui.screen_registry import ScreenFactory, ScreenLoader, lazy_factory
from desktop.ui.services import Clerk, Services, SyncService
from desktop.ui.settings import Settings
from desktop.ui.tasks import TaskHandle, TaskRunner
from desktop.ui.widgets.sync_indicator import SyncIndicator

if TYPE_CHECKING:
    from desktop.store.store import Store

log = logging.getLogger(__name__)

#: Left navigation: (screen name, label).
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("dashboard", "Bảng điều khiển"),
    ("new_dossier", "Hồ sơ mới"),
    ("search", "Tìm kiếm"),
    ("sync", "Đồng bộ"),
    ("settings", "Cài đặt"),
    ("help", "Trợ giúp"),
)

#: Keyboard shortcuts: (Tk event sequences, label shown in menus, what it does).
SHORTCUTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("<Control-n>", "<Control-N>"), "Ctrl+N", "Hồ sơ mới"),
    (("<Control-f>", "<Control-F>"), "Ctrl+F", "Tìm kiếm hồ sơ"),
    (("<Control-s>", "<Control-S>"), "Ctrl+S", "Lưu hồ sơ đang nhập"),
    (("<F5>",), "F5", "Đồng bộ ngay"),
    (("<Control-l>", "<Control-L>"), "Ctrl+L", "Khoá máy"),
    (("<F1>",), "F1", "Trợ giúp"),
)


def _dashboard() -> ScreenFactory:
    from desktop.ui.dashboard import DashboardScreen

    return DashboardScreen


def _sync_panel() -> ScreenFactory:
    from desktop.ui.sync_panel import SyncPanel

    return SyncPanel


def _settings() -> ScreenFactory:
    from desktop.ui.settings_screen import SettingsScreen

    return SettingsScreen


def _help() -> ScreenFactory:
    from desktop.ui.help_screen import HelpScreen

    return HelpScreen


#: Screens this module registers itself, each imported when it is first built.
_OWN_SCREENS: dict[str, ScreenLoader] = {
    "dashboard": _dashboard,
    "sync": _sync_panel,
    "settings": _settings,
    "help": _help,
}


class PlaceholderScreen(ttk.Frame):
    """Shown for a registered name whose screen is not available in this build."""

    def __init__(self, master: tkinter.Misc, services: Services, *, title: str = "") -> None:
        """Say plainly that the function is not available yet."""
        super().__init__(master, padding=30)
        ttk.Label(self, text=title, font="-size 16 -weight bold").pack(anchor="w")
        ttk.Label(
            self,
            text="Chức năng này chưa có trong bản cài đặt này. Hãy dùng các mục khác ở bên trái.",
        ).pack(anchor="w", pady=10)


class Shell(ttk.Frame):
    """The signed-in clerk's main window content.

    Args:
        root: the application root (``ttk.App``); the shell sets its menu bar.
        store: the open store of the signed-in clerk.
        tasks: the task runner bound to ``root``.
        settings: the profile's settings.
        clerk: who is signed in.
        sync: the sync object, or None.
        on_lock: called after the shell hid itself for a lock (the app shows sign-in).
        profile_dir: the profile directory.
        idle_check_ms: how often idleness is checked (tests use a short period).
        register_default_screens: register dashboard, sync, settings, help and the dossier
            screens (``desktop.ui.screens_dossier``).
    """

    #: Left navigation: (screen name, label).
    navigation: tuple[tuple[str, str], ...] = NAVIGATION
    #: Keyboard shortcuts (see :data:`SHORTCUTS`); :meth:`_shortcut_actions` says what they do.
    shortcuts: tuple[tuple[tuple[str, ...], str, str], ...] = SHORTCUTS
    #: Screens registered by ``register_default_screens`` besides the dossier screens.
    own_screens: dict[str, ScreenLoader] = _OWN_SCREENS
    #: The screen shown first after sign-in.
    home_screen = "dashboard"
    #: What the status bar calls the signed-in person.
    person_title = "Cán bộ"

    def __init__(
        self,
        root: tkinter.Tk,
        *,
        store: Store,
        tasks: TaskRunner,
        settings: Settings,
        clerk: Clerk,
        sync: SyncService | None = None,
        on_lock: Callable[[], object] | None = None,
        profile_dir: Path | None = None,
        idle_check_ms: int = 5000,
        register_default_screens: bool = True,
    ) -> None:
        """Build the shell inside ``root`` (not yet packed; call ``show()``)."""
        super().__init__(root)
        self.root = root
        self.on_lock = on_lock
        self.services = Services(
            store=store,
            tasks=tasks,
            settings=settings,
            sync=sync,
            navigate=self.navigate,
            toast=self.toast,
            clerk=clerk,
            lock=self.lock,
            profile_dir=profile_dir,
        )
        self._factories: dict[str, ScreenFactory] = {}
        self._titles: dict[str, str] = dict(self.navigation)
        self._titles["dossier_detail"] = "Chi tiết hồ sơ"
        self._screens: dict[str, tkinter.Misc] = {}
        self.current: str | None = None
        #: Toasts shown so far, newest last: (message, kind). Tests and the sync panel read it.
        self.toasts: list[tuple[str, str]] = []
        self._bindings: list[tuple[str, str]] = []
        self._unsubscribe: list[Callable[[], object]] = []
        self._last_activity = time.monotonic()
        self._idle_check_ms = idle_check_ms
        self._idle_after: str | None = None
        self.locked = False
        self._toast_after: str | None = None
        self._prebuild_after: str | None = None

        self._build_menu()
        self._build_layout()
        self._bind_shortcuts()
        tasks.on_unhandled_error = self._task_failed
        self._unsubscribe.append(tasks.subscribe_busy(self._show_busy))
        self._connect_sync()
        if register_default_screens:
            self._register_default_screens()

    # -- screens ---------------------------------------------------------------------------

    def register_screen(self, name: str, factory: ScreenFactory, *, title: str = "") -> None:
        """Register (or replace) the factory that builds screen ``name``.

        Args:
            name: the screen name used with ``navigate``.
            factory: ``factory(master, services, **kwargs) -> ttk.Frame``.
            title: an optional title (defaults to the navigation label).
        """
        self._factories[name] = factory
        if title:
            self._titles[name] = title
        old = self._screens.pop(name, None)
        if old is not None:
            old.destroy()

    def has_screen(self, name: str) -> bool:
        """Return True when a screen of that name is registered."""
        return name in self._factories

    def screen(self, name: str) -> tkinter.Misc | None:
        """Return the built screen ``name``, or None when it was not shown yet."""
        return self._screens.get(name)

    @property
    def current_screen(self) -> tkinter.Misc | None:
        """Return the screen shown now."""
        return self._screens.get(self.current) if self.current else None

    def navigate(self, name: str, **kwargs: Any) -> None:
        """Show screen ``name``; build it on first use; pass ``kwargs`` to its ``on_show``.

        An unknown name shows a placeholder rather than failing: a missing optional screen
        must not break navigation.
        """
        factory = self._factories.get(name)
        if factory is None:
            log.warning("no screen registered as %r", name)

            def factory(m: tkinter.Misc, s: Services, **_kw: Any) -> tkinter.Misc:
                return PlaceholderScreen(m, s, title=self._titles.get(name, name))

        previous = self.current_screen
        if previous is not None and self.current != name:
            _call_hook(previous, "on_hide")
            previous.pack_forget()  # type: ignore[attr-defined]
        screen = self._screens.get(name)
        if screen is None:
            try:
                screen = factory(self.content, self.services, **kwargs)
            except ImportError:
                raise  # a broken install, not a bad moment: never hide it behind a placeholder
            except Exception:
                log.exception("screen %r could not be built", name)
                self.toast("Không mở được màn hình này. Hãy thử lại hoặc báo CNTT.", "danger")
                screen = PlaceholderScreen(
                    self.content, self.services, title=self._titles.get(name, name)
                )
            self._screens[name] = screen
        self.current = name
        screen.pack(fill="both", expand=True)  # type: ignore[attr-defined]
        _call_hook(screen, "on_show", **kwargs)
        self._highlight_nav(name)
        self.title_label.configure(text=self._titles.get(name, name))

    def prebuild(self, names: tuple[str, ...] | None = None, *, delay_ms: int = 300) -> None:
        """Build not-yet-shown screens in the background, one per idle moment.

        Importing a screen's module and creating its widgets takes 50-200 ms on an old PC;
        doing it while the clerk looks at the dashboard makes every later first visit
        instant (within the 100 ms budget). Modules are imported on a worker thread first,
        widgets are then created on the Tk thread, one screen at a time.

        Args:
            names: the screens to build (default: every navigation entry).
            delay_ms: how long to wait before starting (let the first screen settle).
        """
        wanted = names or tuple(n for n, _ in self.navigation)
        pending = [n for n in wanted if n in self._factories and n not in self._screens]
        loaders = [self.own_screens[n] for n in pending if n in self.own_screens]

        def import_all() -> None:
            for load in loaders:
                load()

        def step() -> None:
            self._prebuild_after = None
            if not pending or self.locked or not self.winfo_exists():
                return
            name = pending.pop(0)
            if name not in self._screens and name in self._factories:
                try:
                    self._screens[name] = self._factories[name](self.content, self.services)
                except Exception:
                    log.exception("screen %r could not be prebuilt", name)
            self._prebuild_after = self.after(30, step)

        def start(_result: object = None) -> None:
            if self.winfo_exists():
                self._prebuild_after = self.after(delay_ms, step)

        # No on_error: a screen module that fails to import is reported by _task_failed.
        self.services.tasks.run(import_all, on_done=start, description="")

    # -- notices ---------------------------------------------------------------------------

    def toast(self, message: str, kind: str = "success") -> None:
        """Show a short notice in the window's lower right corner for a few seconds.

        Toasts are for news ("Đã lưu"), never for decisions. They are drawn inside the main
        window (not a separate toplevel) so they never end up off screen on odd monitors.
        """
        self.toasts.append((message, kind))
        del self.toasts[:-50]
        if self._toast_after is not None:
            self.after_cancel(self._toast_after)
        style = kind if kind in ("success", "info", "warning", "danger") else "info"
        self.toast_label.configure(text=message, bootstyle=f"@{style}")
        self.toast_label.place(relx=1.0, rely=1.0, x=-16, y=-40, anchor="se")
        self.toast_label.lift()
        self._toast_after = self.after(4000 if style == "danger" else 3000, self._hide_toast)

    def _hide_toast(self) -> None:
        self._toast_after = None
        self.toast_label.place_forget()

    def _task_failed(self, handle: TaskHandle, error: BaseException) -> None:
        what = handle.description or "Công việc"
        log.error("task %r failed", handle, exc_info=error)
        self.toast(
            f"{what} không thành công: {error}. Hãy thử lại; nếu vẫn lỗi, báo CNTT.", "danger"
        )

    # -- lock and idle ---------------------------------------------------------------------

    def lock(self) -> None:
        """Lock: let screens save their drafts, hide the shell, hand over to sign-in."""
        if self.locked:
            return
        self.locked = True
        for screen in list(self._screens.values()):
            _call_hook(screen, "before_lock")
        self.pack_forget()
        self.root.configure(menu="")  # type: ignore[call-overload]
        if self.on_lock is not None:
            self.on_lock()

    def show(self) -> None:
        """Show the shell (after sign-in or unlock) and restart the idle clock."""
        self.locked = False
        self.root.configure(menu=self.menubar)  # type: ignore[call-overload]
        self.pack(fill="both", expand=True)
        self._last_activity = time.monotonic()
        if self.current is None:
            self.navigate(self.home_screen)
        self._schedule_idle_check()

    def touch(self, _event: object = None) -> None:
        """Record user activity (resets the idle-lock clock)."""
        self._last_activity = time.monotonic()

    @property
    def idle_seconds(self) -> float:
        """Return seconds since the last key press, click or mouse move."""
        return time.monotonic() - self._last_activity

    def _schedule_idle_check(self) -> None:
        if self._idle_after is not None:
            self.after_cancel(self._idle_after)
        self._idle_after = self.after(self._idle_check_ms, self._check_idle)

    def _check_idle(self) -> None:
        self._idle_after = None
        if self.locked:
            return
        minutes = self.services.settings.idle_lock_minutes
        if minutes and self.idle_seconds >= minutes * 60:
            log.info("locking after %.0f s idle", self.idle_seconds)
            self.lock()
            return
        self._schedule_idle_check()

    def destroy(self) -> None:
        """Unbind global shortcuts, unsubscribe, then destroy the widgets."""
        for screen in list(self._screens.values()):
            _call_hook(screen, "before_lock")
        for sequence, funcid in self._bindings:
            try:
                self.root.unbind_all(sequence)
            except tkinter.TclError:
                pass
            del funcid
        self._bindings.clear()
        for unsubscribe in self._unsubscribe:
            try:
                unsubscribe()
            except Exception:
                log.exception("unsubscribe failed")
        self._unsubscribe.clear()
        for after_id in (self._idle_after, self._prebuild_after, self._toast_after):
            if after_id is not None:
                try:
                    self.after_cancel(after_id)
                except tkinter.TclError:
                    pass
        try:
            if str(self.root.cget("menu")) == str(self.menubar):
                self.root.configure(menu="")  # type: ignore[call-overload]
        except tkinter.TclError:
            pass
        self.menubar.destroy()
        super().destroy()

    # -- sync --------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Start a sync (F5); says so when sync is not set up."""
        if self.services.start_sync():
            self.toast("Đang đồng bộ…", "info")

    def attach_sync(self, sync: SyncService) -> None:
        """Connect a sync object that became ready after the shell was built."""
        self.services.sync = sync
        self._connect_sync()
        try:
            self._show_if_alive(sync.status())
        except Exception:
            log.exception("sync status failed")

    def show_sync_status(self, status: SyncStatus) -> None:
        """Render a sync status in the status bar (Tk thread only)."""
        self.sync_indicator.show(status)

    def _connect_sync(self) -> None:
        sync = self.services.sync
        if sync is None:
            self.sync_indicator.show(SyncStatus())
            return
        try:
            self.sync_indicator.show(sync.status())
        except Exception:
            log.exception("sync status failed")
        tasks = self.services.tasks

        def changed(status: SyncStatus) -> None:
            # The engine calls this from its own thread: hop to the Tk thread first.
            tasks.call_soon(self._show_if_alive, status)

        unsubscribe = sync.subscribe(changed)
        if unsubscribe is not None:
            self._unsubscribe.append(unsubscribe)

    def _show_if_alive(self, status: SyncStatus) -> None:
        if self.winfo_exists():
            self.show_sync_status(status)
            for screen in self._screens.values():
                _call_hook(screen, "on_sync_status", status)

    # -- building ------------------------------------------------------------------------------

    def _register_default_screens(self) -> None:
        for name, load in self.own_screens.items():
            self.register_screen(name, lazy_factory(load))
        screens_dossier.register(self)

    def _build_menu(self) -> None:
        self.menubar = tkinter.Menu(self.root)
        file_menu = tkinter.Menu(self.menubar, tearoff=False)
        file_menu.add_command(
            label="Hồ sơ mới", accelerator="Ctrl+N", command=lambda: self.navigate("new_dossier")
        )
        file_menu.add_command(
            label="Tìm kiếm", accelerator="Ctrl+F", command=lambda: self.navigate("search")
        )
        file_menu.add_command(label="Lưu", accelerator="Ctrl+S", command=self._save_current)
        file_menu.add_separator()
        file_menu.add_command(label="Khoá máy", accelerator="Ctrl+L", command=self.lock)
        self.menubar.add_cascade(label="Hồ sơ", menu=file_menu)
        sync_menu = tkinter.Menu(self.menubar, tearoff=False)
        sync_menu.add_command(label="Đồng bộ ngay", accelerator="F5", command=self.sync_now)
        sync_menu.add_command(label="Tình trạng đồng bộ", command=lambda: self.navigate("sync"))
        self.menubar.add_cascade(label="Đồng bộ", menu=sync_menu)
        help_menu = tkinter.Menu(self.menubar, tearoff=False)
        for _sequences, keys, label in self.shortcuts:
            help_menu.add_command(label=label, accelerator=keys, command=self._menu_action(keys))
        help_menu.add_separator()
        help_menu.add_command(label="Trợ giúp và phím tắt", command=lambda: self.navigate("help"))
        self.menubar.add_cascade(label="Trợ giúp", menu=help_menu)
        self.help_menu = help_menu

    def _build_layout(self) -> None:
        status_bar = ttk.Frame(self, padding=(10, 4))
        status_bar.pack(side="bottom", fill="x")
        ttk.Separator(self).pack(side="bottom", fill="x")
        clerk = self.services.clerk
        self.clerk_label = ttk.Label(
            status_bar, text=f"{self.person_title}: {clerk.full_name or clerk.username}"
        )
        self.clerk_label.pack(side="left")
        self.busy_label = ttk.Label(status_bar, text="")
        self.busy_bar = ttk.Progressbar(status_bar, mode="indeterminate", length=100)
        self.sync_indicator = SyncIndicator(status_bar, on_click=lambda: self.navigate("sync"))
        self.sync_indicator.pack(side="right")

        nav = ttk.Frame(self, padding=(8, 10), bootstyle="secondary")
        nav.pack(side="left", fill="y")
        ttk.Label(
            nav, text="Một Cửa Xã", font="-size 13 -weight bold", bootstyle="@secondary"
        ).pack(anchor="w", pady=(0, 12), padx=4)
        self.nav_buttons: dict[str, ttk.Button] = {}
        for name, label in self.navigation:
            button = ttk.Button(
                nav,
                text=label,
                bootstyle="secondary",
                command=lambda n=name: self.navigate(n),
                width=18,
            )
            button.pack(fill="x", pady=2)
            self.nav_buttons[name] = button

        main = ttk.Frame(self, padding=(16, 10))
        main.pack(side="left", fill="both", expand=True)
        self.title_label = ttk.Label(main, text="", font="-size 15 -weight bold")
        self.title_label.pack(anchor="w", pady=(0, 8))
        self.content = ttk.Frame(main)
        self.content.pack(fill="both", expand=True)
        self.toast_label = ttk.Label(
            self, text="", padding=(14, 10), wraplength=420, bootstyle="@success"
        )

    def _highlight_nav(self, name: str) -> None:
        for screen_name, button in self.nav_buttons.items():
            button.configure(bootstyle="primary" if screen_name == name else "secondary")

    def _show_busy(self, busy: list[TaskHandle]) -> None:
        if not self.winfo_exists():
            return
        if busy:
            newest = busy[-1]
            text = newest.description or "Đang xử lý"
            if newest.progress is not None:
                text += f" {round(newest.progress * 100)}%"
            self.busy_label.configure(text=text + "…")
            if not self.busy_bar.winfo_ismapped():
                self.busy_label.pack(side="left", padx=(20, 6))
                self.busy_bar.pack(side="left")
                self.busy_bar.start(40)
        else:
            self.busy_bar.stop()
            self.busy_bar.pack_forget()
            self.busy_label.pack_forget()

    def _bind_shortcuts(self) -> None:
        for sequences, keys, _label in self.shortcuts:
            for sequence in sequences:
                funcid = self.root.bind_all(sequence, self._shortcut_handler(keys), add="+")
                self._bindings.append((sequence, funcid))
        for sequence in ("<KeyPress>", "<ButtonPress>", "<Motion>"):
            funcid = self.root.bind_all(sequence, self.touch, add="+")
            self._bindings.append((sequence, funcid))

    def _menu_action(self, keys: str) -> Callable[[], None]:
        return lambda: self._run_shortcut(keys)

    def _shortcut_handler(self, keys: str) -> Callable[[tkinter.Event[Any]], str | None]:
        def handler(_event: tkinter.Event[Any]) -> str | None:
            return self._on_shortcut(keys)

        return handler

    def _on_shortcut(self, keys: str) -> str | None:
        if self.locked or not self.winfo_ismapped():
            return None
        self._run_shortcut(keys)
        return "break"

    def _run_shortcut(self, keys: str) -> None:
        self._shortcut_actions()[keys]()

    def _shortcut_actions(self) -> dict[str, Callable[[], object]]:
        """Return what each shortcut of :attr:`shortcuts` does (keyed by its label)."""
        return {
            "Ctrl+N": lambda: self.navigate("new_dossier"),
            "Ctrl+F": lambda: self.navigate("search"),
            "Ctrl+S": self._save_current,
            "F5": self.sync_now,
            "Ctrl+L": self.lock,
            "F1": lambda: self.navigate("help"),
        }

    def _save_current(self) -> None:
        screen = self.current_screen
        # ``on_save`` is an optional screen hook (module docstring): only forms define it.
        if screen is None or not hasattr(screen, "on_save"):
            self.toast("Màn hình này không có gì để lưu.", "info")
            return
        _call_hook(screen, "on_save")


def _call_hook(screen: object, name: str, *args: Any, **kwargs: Any) -> None:
    """Call an optional screen method; a failing hook is logged, never fatal."""
    # The hooks are optional by contract (module docstring): a screen defines those it needs.
    hook = getattr(screen, name, None)
    if not callable(hook):
        return
    try:
        hook(*args, **kwargs)
    except Exception:
        log.exception("%s.%s failed", type(screen).__name__, name)
