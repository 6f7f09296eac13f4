"""The window's life: first-run wizard → sign-in → shell, and lock → sign-in → back.

One ``ttk.App`` root holds one of three frames at a time. Locking hides the shell (its
screens save their drafts first) and shows the sign-in screen; the same clerk gets the very
same shell back, a different clerk gets a fresh shell on their own key slot.
"""

from __future__ import annotations

import logging
import tkinter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.ui.services import Clerk, SyncService
from desktop.ui.settings import Settings, move_server_url_to_profile
from desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    # Types only: the store, the wizard and the shell are imported when first needed (the
    # sign-in window must appear within the cold-start budget).
    from desktop.store.store import Store
    from desktop.ui.first_run import CreateStore, FirstRunResult
    from desktop.ui.shell import Shell

log = logging.getLogger(__name__)

#: ``make_sync(store, settings, tasks)`` → the sync object (or None). Called after sign-in.
SyncFactory = Callable[["Store", Settings, TaskRunner], SyncService | None]


def profile_exists(profile_dir: Path) -> bool:
    """Return True when ``profile_dir`` holds a created profile."""
    from desktop.store import profile

    return profile.exists(Path(profile_dir))


def verify_password(profile_dir: Path, username: str, password: str) -> None:
    """Check a clerk's password against the profile's key slots without opening the database.

    Raises:
        WrongPassword: when it does not unlock the clerk's slot.
    """
    from desktop.store import profile
    from desktop.store.keyslots import KeySlots

    slots = KeySlots.load(profile.paths(Path(profile_dir))["keyslots"])
    slots.unlock(username, password)


def clerk_of(store: Store, username: str) -> Clerk:
    """Return the signed-in clerk with the full name the store knows."""
    try:
        for clerk in store.clerks():
            if clerk.username == username:
                return Clerk(username, clerk.full_name)
    except Exception:  # a failed read only costs the full name in the status bar
        log.exception("could not read the clerk list")
    return Clerk(username, username)


class AppSession:
    """Drive the root window through first run, sign-in, the shell and locks.

    Args:
        root: the application root.
        profile_dir: the profile directory.
        tasks: the task runner on ``root``.
        make_sync: builds the sync object after sign-in (None: no sync).
        idle_check_ms: passed to the shell (tests use a short period).
        create_store: passed to the first-run wizard (tests may wrap it).
        prebuild_screens: build the other screens in idle moments after sign-in.
    """

    def __init__(
        self,
        root: tkinter.Tk,
        profile_dir: Path,
        *,
        tasks: TaskRunner,
        make_sync: SyncFactory | None = None,
        idle_check_ms: int = 5000,
        create_store: CreateStore | None = None,
        prebuild_screens: bool = True,
    ) -> None:
        """Remember the pieces; call ``start()`` to show the first frame."""
        self.root = root
        self.profile_dir = Path(profile_dir)
        self.tasks = tasks
        self.make_sync = make_sync
        self.idle_check_ms = idle_check_ms
        self.create_store = create_store
        self.prebuild_screens = prebuild_screens
        self._pending_enrolment: tuple[str, str] | None = None
        self.settings = Settings.load(self.profile_dir) if self.profile_dir.exists() else Settings()
        self.store: Store | None = None
        self.sync: SyncService | None = None
        self.shell: Shell | None = None
        self.frame: tkinter.Misc | None = None
        self.state = "new"
        #: Called after the shell is shown (the demo uses it to print a hint).
        self.on_shell_shown: Callable[[Shell], object] | None = None

    # -- states --------------------------------------------------------------------------------

    def start(self) -> None:
        """Show the wizard for a new profile, else the sign-in screen."""
        if profile_exists(self.profile_dir):
            self.show_sign_in()
        else:
            self.show_first_run()

    def show_first_run(self) -> None:
        """Show the installer's wizard."""
        from desktop.ui.first_run import FirstRunWizard, default_create_store

        self._replace_frame(
            FirstRunWizard(
                self.root,
                profile_dir=self.profile_dir,
                tasks=self.tasks,
                on_done=self._first_run_done,
                create_store=self.create_store or default_create_store,
            )
        )
        self.state = "first_run"

    def show_sign_in(self, *, locked_by: str | None = None, reason: str = "") -> None:
        """Show the sign-in screen (the lock screen when ``locked_by`` is given)."""
        from desktop.ui.sign_in import SignInScreen

        self._replace_frame(
            SignInScreen(
                self.root,
                profile_dir=self.profile_dir,
                tasks=self.tasks,
                on_success=self._signed_in,
                authenticate=self._authenticate,
                locked_by=locked_by,
                locked_reason=reason,
            )
        )
        self.state = "locked" if locked_by else "sign_in"

    def lock(self, reason: str = "") -> None:
        """Lock the window now (the shell calls this through its ``on_lock``)."""
        if self.shell is not None and not self.shell.locked:
            self.shell.lock()  # calls back into _shell_locked
        elif self.shell is not None:
            self._shell_locked(reason)

    def close(self) -> None:
        """Tear everything down: shell, sync, store (window closing)."""
        if self.shell is not None:
            self.shell.destroy()
            self.shell = None
        self._stop_sync()
        if self.store is not None:
            try:
                self.store.close()
            except Exception:
                log.exception("closing the store failed")
            self.store = None
        if self.frame is not None:
            self.frame.destroy()
            self.frame = None

    # -- transitions ---------------------------------------------------------------------------

    def _first_run_done(self, result: FirstRunResult) -> None:
        self.settings = Settings.load(self.profile_dir)
        try:
            self.settings.save()
            if result.server_url:
                result.store.update_config(server_url=result.server_url)
        except OSError:
            log.exception("could not save the first settings")
        if result.server_url and result.enrolment_code:
            self._pending_enrolment = (result.server_url, result.enrolment_code)
        self._open_shell(result.store, result.username)

    def enrol(self, server_url: str, code: str) -> None:
        """Enrol the device in the background; the clerk keeps working meanwhile."""
        if self.sync is None or self.shell is None:
            log.info("enrolment skipped: no sync engine (yet)")
            return
        shell = self.shell

        def done(_result: object) -> None:
            shell.toast("Đã đăng ký máy với máy chủ tỉnh; hồ sơ sẽ được đồng bộ tự động.")

        def failed(error: BaseException) -> None:
            from desktop.sync.engine import SyncError

            reason = error.clerk_message if isinstance(error, SyncError) else error
            shell.toast(
                f"Chưa đăng ký được máy với tỉnh: {reason}. Máy vẫn làm việc bình thường; "
                "hãy kiểm tra mạng và mã đăng ký rồi thử lại.",
                "warning",
            )

        self.tasks.run(
            self.sync.enrol,
            server_url,
            code,
            on_done=done,
            on_error=failed,
            description="Đăng ký máy",
        )

    def _authenticate(self, username: str, password: str) -> Store | None:
        # Runs on a worker thread. The clerk who locked the window only proves the password:
        # their open store and forms are kept.
        if self.shell is not None and self.store is not None and username == self.store.clerk:
            verify_password(self.profile_dir, username, password)
            return None
        from desktop.ui.sign_in import open_store

        return open_store(self.profile_dir, username, password)

    def _signed_in(self, store: Store | None, username: str) -> None:
        if store is None and self.shell is not None:
            self._drop_frame()
            self.shell.show()
            self.state = "shell"
            return
        if self.shell is not None:
            # Another clerk takes over: the previous clerk's drafts were saved at lock time.
            self.shell.destroy()
            self.shell = None
            self._stop_sync()
            if self.store is not None:
                self.store.close()
        assert store is not None  # only the clerk who locked gets None (handled above)
        self._open_shell(store, username)

    def _open_shell(self, store: Store, username: str) -> None:
        from desktop.store.profile import ROLE_PROVINCE

        if store.config.role == ROLE_PROVINCE:
            self._open_console(store, username)
            return
        from desktop.ui.shell import Shell

        try:
            move_server_url_to_profile(self.profile_dir, store)
        except OSError:
            log.exception("could not move the server address out of the settings file")
        self.store = store
        self.sync = None
        self._drop_frame()
        self.shell = Shell(
            self.root,
            store=store,
            tasks=self.tasks,
            settings=self.settings,
            clerk=clerk_of(store, username),
            sync=None,
            on_lock=self._shell_locked,
            profile_dir=self.profile_dir,
            idle_check_ms=self.idle_check_ms,
        )
        self.shell.show()
        self.state = "shell"
        # The first save pays for page-cache and statement warm-up (~240 ms measured); do it
        # now, off the Tk thread, so the clerk's first "Lưu" is as fast as the rest. A failure
        # only costs that speed-up: the first save reports any real problem.
        self.tasks.run(store.warm_up, on_error=lambda _e: None, description="Chuẩn bị kho dữ liệu")
        if self.make_sync is not None:
            # The engine pulls in crypto and HTTP: build it on a worker so the dashboard
            # appears at once; the status bar shows "not enrolled" until it is attached.
            self.tasks.run(
                self.make_sync,
                store,
                self.settings,
                self.tasks,
                on_done=lambda sync: self._sync_ready(sync, store),
                on_error=lambda error: log.error("sync unavailable: %s", error),
                description="Khởi động đồng bộ",
            )
        if self.prebuild_screens:
            self.shell.prebuild()
        if self.on_shell_shown is not None:
            self.on_shell_shown(self.shell)

    def _open_console(self, store: Store, username: str) -> None:
        """Open provincial IT's console shell on a provincial profile (no sync engine)."""
        from desktop.console.client import AdminClient
        from desktop.console.enrolment import is_enrolled
        from desktop.ui.console.shell import ConsoleShell

        self.store = store
        self.sync = None
        self._drop_frame()
        # Reading the operator keys is local and quick; every call to the server runs later,
        # from the screens, on the task runner's workers.
        console = AdminClient.from_store(store) if is_enrolled(store) else None
        self.shell = ConsoleShell(
            self.root,
            console=console,
            store=store,
            tasks=self.tasks,
            settings=self.settings,
            clerk=clerk_of(store, username),
            on_lock=self._shell_locked,
            profile_dir=self.profile_dir,
            idle_check_ms=self.idle_check_ms,
        )
        pending, self._pending_enrolment = self._pending_enrolment, None
        self.shell.show()
        self.state = "shell"
        if pending is not None and console is None:
            self._enrol_operator(store, *pending)
        if self.on_shell_shown is not None:
            self.on_shell_shown(self.shell)

    def _enrol_operator(self, store: Store, server_url: str, code: str) -> None:
        """Enrol the new provincial profile with the code typed in the wizard (a worker)."""
        from desktop.console.service import ConsoleError
        from desktop.ui.console.connect import connect_operator

        shell = self.shell
        assert shell is not None

        def failed(error: BaseException) -> None:
            reason = error.clerk_message if isinstance(error, ConsoleError) else error
            shell.toast(f"Chưa kết nối được máy chủ tỉnh: {reason}", "warning")

        label = f"CNTT tỉnh ({store.clerk})"
        self.tasks.run(
            connect_operator,
            store,
            server_url,
            code,
            label,
            on_done=shell.services.attach_console,
            on_error=failed,
            description="Kết nối máy chủ tỉnh",
        )

    def _sync_ready(self, sync: SyncService | None, store: Store) -> None:
        if sync is None:
            return
        if self.shell is None or self.store is not store:
            # The clerk signed out meanwhile: this engine belongs to a closed session.
            sync.stop()
            return
        self.sync = sync
        self.shell.attach_sync(sync)
        pending, self._pending_enrolment = self._pending_enrolment, None
        if pending is not None:
            self.enrol(*pending)

    def _shell_locked(self, reason: str = "") -> None:
        clerk = self.store.clerk if self.store is not None else None
        minutes = self.settings.idle_lock_minutes
        if not reason and self.shell is not None and self.shell.idle_seconds >= minutes * 60 > 0:
            span = f"{minutes:g} phút" if minutes >= 1 else f"{round(minutes * 60)} giây"
            reason = f"Máy đã tự khoá sau {span} không dùng. Hồ sơ đang nhập dở đã được lưu nháp."
        self.show_sign_in(locked_by=clerk, reason=reason)

    # -- helpers ---------------------------------------------------------------------------------

    def _replace_frame(self, frame: tkinter.Misc) -> None:
        self._drop_frame()
        self.frame = frame
        frame.pack(fill="both", expand=True)  # type: ignore[attr-defined]

    def _drop_frame(self) -> None:
        if self.frame is not None:
            self.frame.destroy()
            self.frame = None

    def _stop_sync(self) -> None:
        if self.sync is not None:
            try:
                self.sync.stop()
            except Exception:  # the window is closing or another clerk signs in: go on
                log.exception("stopping sync failed")
        self.sync = None


def run_window(
    profile_dir: Path,
    *,
    title: str,
    size: tuple[int, int],
    make_sync: SyncFactory | None = None,
    on_ready: Callable[[Callable[[], None]], object] | None = None,
) -> None:
    """Create the one ``ttk.App``, run the session in it until the window closes.

    Args:
        profile_dir: the profile directory.
        title: the window title.
        size: the initial window size.
        make_sync: builds the sync object after sign-in.
        on_ready: called with a ``close`` function once the first screen is drawn and idle.
    """
    import ttkbootstrap as ttk

    theme = Settings.load(profile_dir).theme if profile_dir.exists() else "bootstrap-light"
    try:
        root = ttk.App(title=title, theme=theme, size=size, minsize=(960, 560))
    except Exception:  # an unknown theme name in the settings must not stop the app
        root = ttk.App(title=title, size=size, minsize=(960, 560))
    tasks = TaskRunner(root)
    session = AppSession(root, profile_dir, tasks=tasks, make_sync=make_sync)

    def close() -> None:
        try:
            session.close()
        finally:
            tasks.close()
            root.destroy()

    root.protocol("WM_DELETE_WINDOW", close)
    session.start()
    if on_ready is not None:
        root.after_idle(lambda: root.after(1, lambda: on_ready(close)))
    root.mainloop()
