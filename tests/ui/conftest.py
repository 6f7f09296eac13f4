"""GUI test fixtures: one session Tk root under Xvfb, per-test cleanup, event helpers.

The test command (scripts/test) starts Xvfb and exports DISPLAY. When pytest runs by hand
without DISPLAY, this conftest starts its own ``Xvfb :N -screen 0 1366x768x24`` for the
session. Input is driven with real X events (xdotool) where that matters (typing, clicks)
and with ``event_generate`` for key shortcuts.

Helpers (import from tests.ui.conftest or use the ``gui`` fixture):

- ``pump(root, seconds)``: process events for a while;
- ``wait_until(root, pred, timeout)``: process events until ``pred()`` is true;
- ``type_text(root, widget, text)``: focus ``widget`` and type ``text`` with real key events;
- ``press(root, widget, sequence)``: send a key sequence such as ``"<Control-n>"``;
- ``press_keys(root, *keys)``: real key presses via xdotool ("Tab", "Return", "ctrl+s");
- ``click(root, widget)``: a real mouse click in the middle of ``widget``;
- ``screenshot(root, name)``: save ``artifacts/screens/<name>.png`` of the root window.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
import tkinter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SCREENS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screens"
_XVFB: subprocess.Popen[bytes] | None = None


def _ensure_display() -> None:
    """Start a private Xvfb when no DISPLAY is set (running pytest by hand)."""
    global _XVFB
    if os.environ.get("DISPLAY"):
        return
    if shutil.which("Xvfb") is None:
        pytest.skip("no DISPLAY and Xvfb is not installed", allow_module_level=True)
    for number in range(140, 240):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            _XVFB = proc
            os.environ["DISPLAY"] = f":{number}"
            return
    pytest.skip("could not start Xvfb", allow_module_level=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the private Xvfb, if this conftest started one."""
    if _XVFB is not None:
        _XVFB.terminate()
        try:
            _XVFB.wait(5)
        except subprocess.TimeoutExpired:
            _XVFB.kill()


# -- event helpers -----------------------------------------------------------------------------


def pump(root: tkinter.Misc, seconds: float = 0.05) -> None:
    """Process Tk events for ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        root.update()
        if time.monotonic() >= deadline:
            return
        time.sleep(0.005)


def wait_until(root: tkinter.Misc, pred: Callable[[], object], timeout: float = 5.0) -> None:
    """Process events until ``pred()`` is truthy.

    Raises:
        AssertionError: when ``timeout`` passes first.
    """
    deadline = time.monotonic() + timeout
    while True:
        root.update()
        if pred():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {pred}")
        time.sleep(0.005)


def _run_xdotool(root: tkinter.Misc, *args: str) -> None:
    """Run xdotool while pumping Tk events (xdotool remaps keys briefly; Tk must see it live)."""
    proc = subprocess.Popen(["xdotool", *args])
    while proc.poll() is None:
        root.update()
        time.sleep(0.002)
    pump(root, 0.05)


def focus(root: tkinter.Misc, widget: tkinter.Misc) -> None:
    """Give ``widget`` the X input focus (the window first)."""
    toplevel = widget.winfo_toplevel()
    toplevel.deiconify()
    toplevel.lift()
    toplevel.focus_force()
    widget.focus_force()
    wait_until(root, lambda: root.focus_get() == widget, 3)


class _KeyMapper:
    """Map Vietnamese letters onto unused X keycodes so xdotool can press them race-free.

    ``xdotool type`` maps a missing keysym on a scratch key, presses it and maps it back at
    once; Xlib reloads its keymap lazily, so under load Tk sometimes reads the key after the
    revert and the letter is lost. Here each letter gets a keycode (lower case on level 1,
    upper case on level 2) that keeps its mapping until the same slot is reused many letters
    later, and xdotool then finds the keysym already mapped and presses it (with Shift for
    upper case) without remapping anything. Only keycodes with no symbols at all are used.
    """

    def __init__(self) -> None:
        import ctypes
        import ctypes.util

        self.ctypes = ctypes
        x = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDisplayKeycodes.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_int),
        ]
        x.XGetKeyboardMapping.restype = ctypes.POINTER(ctypes.c_ulong)
        x.XGetKeyboardMapping.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ubyte,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
        ]
        x.XChangeKeyboardMapping.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.c_int,
        ]
        x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        x.XFree.argtypes = [ctypes.c_void_p]
        self.x = x
        self.dpy = x.XOpenDisplay(os.environ["DISPLAY"].encode())
        if not self.dpy:
            raise RuntimeError("cannot open the X display")
        low, high = ctypes.c_int(), ctypes.c_int()
        x.XDisplayKeycodes(self.dpy, ctypes.byref(low), ctypes.byref(high))
        per = ctypes.c_int()
        count = high.value - low.value + 1
        syms = x.XGetKeyboardMapping(self.dpy, low.value, count, ctypes.byref(per))
        # Free keycodes: those with no symbol at all, or only Vietnamese letters (put there by
        # an earlier mapper in this X session: the keymap outlives a test process).
        self.slots = [
            low.value + i
            for i in range(count)
            if i
            and all(
                syms[i * per.value + j] == 0 or syms[i * per.value + j] in _VIETNAMESE_KEYSYMS
                for j in range(per.value)
            )
        ]
        x.XFree(syms)
        self.assigned: dict[str, int] = {}
        self.next_slot = 0

    def mapped(self, slot: int) -> tuple[int, int]:
        """Return the (level 1, level 2) keysyms the server holds for ``slot`` now."""
        per = self.ctypes.c_int()
        syms = self.x.XGetKeyboardMapping(self.dpy, slot, 1, self.ctypes.byref(per))
        try:
            return syms[0], syms[1] if per.value > 1 else 0
        finally:
            self.x.XFree(syms)

    @staticmethod
    def keysym(char: str) -> int:
        code = ord(char)
        return code if code <= 0xFF else 0x01000000 | code

    def keysym_name(self, char: str) -> str:
        return f"U{ord(char):04X}"

    def ensure(self, char: str, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """Give ``char`` a keycode, never taking one from a letter in ``keep``."""
        base = char.lower()
        slot_now = self.assigned.get(base)
        if slot_now is not None and self.mapped(slot_now)[0] != self.keysym(base):
            del self.assigned[base]  # someone else remapped that keycode meanwhile
        if base in self.assigned or not self.slots:
            return
        owners = {slot: letter for letter, slot in self.assigned.items()}
        for _ in range(len(self.slots)):
            slot = self.slots[self.next_slot % len(self.slots)]
            self.next_slot += 1
            if owners.get(slot) not in keep:
                break
        else:
            raise RuntimeError("more distinct letters than free keycodes")
        if slot in owners:
            del self.assigned[owners[slot]]
        lower, upper = self.keysym(base), self.keysym(base.upper())
        ctypes = self.ctypes
        array = (ctypes.c_ulong * 4)(lower, upper, lower, upper)
        self.x.XChangeKeyboardMapping(self.dpy, slot, 4, array, 1)
        self.x.XSync(self.dpy, 0)
        self.assigned[base] = slot


_VIETNAMESE_LETTERS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_VIETNAMESE_KEYSYMS = frozenset(
    _KeyMapper.keysym(c) for c in _VIETNAMESE_LETTERS + _VIETNAMESE_LETTERS.upper()
)
_KEYMAPPER: _KeyMapper | None = None


def _keymapper() -> _KeyMapper | None:
    global _KEYMAPPER
    if _KEYMAPPER is None:
        try:
            _KEYMAPPER = _KeyMapper()
        except (OSError, RuntimeError, AttributeError):
            return None
    return _KEYMAPPER


def type_text(root: tkinter.Misc, widget: tkinter.Misc, text: str) -> None:
    """Focus ``widget`` and type ``text`` with real key events (xdotool).

    ASCII runs go through ``xdotool type``; each Vietnamese letter is first given a keycode
    of its own (see ``_KeyMapper``) and pressed with ``xdotool key``, so upper and lower case
    and every tone mark arrive as real key presses. Without xdotool the text is inserted.
    """
    focus(root, widget)
    mapper = _keymapper() if shutil.which("xdotool") else None
    if mapper is None or not mapper.slots:
        widget.insert("insert", text)  # type: ignore[attr-defined]
        pump(root)
        return
    # Chunks with no more distinct Vietnamese letters than there are free keycodes: map the
    # chunk's letters, then one ``xdotool type`` finds them all in the keymap it reads at start.
    chunk, letters = "", set()
    for char in text:
        base = char.lower()
        if not char.isascii() and base not in letters:
            if len(letters) >= len(mapper.slots):
                _type_chunk(root, mapper, chunk, letters)
                chunk, letters = "", set()
            letters.add(base)
        chunk += char
    if chunk:
        _type_chunk(root, mapper, chunk, letters)


def _type_chunk(root: tkinter.Misc, mapper: _KeyMapper, chunk: str, letters: set[str]) -> None:
    for letter in letters:
        mapper.ensure(letter, keep=letters)
    _run_xdotool(root, "type", "--delay", "8", chunk)


def press_keys(root: tkinter.Misc, *keys: str) -> None:
    """Press keys with real X events to whatever has the focus ("Tab", "Return", "ctrl+s")."""
    _run_xdotool(root, "key", "--delay", "20", *keys)


def press(root: tkinter.Misc, widget: tkinter.Misc, sequence: str) -> None:
    """Send a key event sequence (e.g. ``"<Control-n>"``, ``"<F5>"``) to ``widget``."""
    widget.event_generate(sequence, when="tail")
    pump(root, 0.05)


def click(root: tkinter.Misc, widget: tkinter.Misc) -> None:
    """Click the middle of ``widget`` with the real X pointer."""
    wait_until(root, widget.winfo_viewable, 3)
    x = widget.winfo_rootx() + widget.winfo_width() // 2
    y = widget.winfo_rooty() + widget.winfo_height() // 2
    if shutil.which("xdotool") is None:
        widget.event_generate("<ButtonPress-1>", x=widget.winfo_width() // 2, y=5)
        widget.event_generate("<ButtonRelease-1>", x=widget.winfo_width() // 2, y=5)
        pump(root)
        return
    # No --sync: it waits for a pointer motion that never comes when the pointer is already there.
    _run_xdotool(root, "mousemove", str(x), str(y))
    wait_until(root, lambda: root.winfo_pointerxy() == (x, y), 3)
    _run_xdotool(root, "click", "1")


def screenshot(root: tkinter.Misc, name: str) -> Path:
    """Save a PNG of ``root``'s window to ``artifacts/screens/<name>.png`` and return its path."""
    from PIL import ImageGrab

    pump(root, 0.2)
    toplevel = root.winfo_toplevel()
    x, y = toplevel.winfo_rootx(), toplevel.winfo_rooty()
    w, h = toplevel.winfo_width(), toplevel.winfo_height()
    # The menu bar sits above the client area in Tk's wrapper window: include it.
    wrapper_y = int(toplevel.wm_geometry().replace("-", "+").split("+")[2])
    top = min(y, max(wrapper_y, 0))
    image = ImageGrab.grab(bbox=(x, top, x + w, y + h), xdisplay=os.environ["DISPLAY"])
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}.png"
    image.save(path)
    return path


class Gui:
    """The helpers above bound to the session root (the ``gui`` fixture)."""

    def __init__(self, root: tkinter.Tk) -> None:
        """Bind to ``root``."""
        self.root = root

    def pump(self, seconds: float = 0.05) -> None:
        """See ``pump``."""
        pump(self.root, seconds)

    def wait_until(self, pred: Callable[[], object], timeout: float = 5.0) -> None:
        """See ``wait_until``."""
        wait_until(self.root, pred, timeout)

    def type_text(self, widget: tkinter.Misc, text: str) -> None:
        """See ``type_text``."""
        type_text(self.root, widget, text)

    def focus(self, widget: tkinter.Misc) -> None:
        """See ``focus``."""
        focus(self.root, widget)

    def press(self, widget: tkinter.Misc, sequence: str) -> None:
        """See ``press``."""
        press(self.root, widget, sequence)

    def press_keys(self, *keys: str) -> None:
        """See ``press_keys``."""
        press_keys(self.root, *keys)

    def click(self, widget: tkinter.Misc) -> None:
        """See ``click``."""
        click(self.root, widget)

    def screenshot(self, name: str) -> Path:
        """See ``screenshot``."""
        return screenshot(self.root, name)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tk_root() -> Iterator[tkinter.Tk]:
    """Return the one ``ttk.App`` of the test session (ttkbootstrap allows one live root)."""
    _ensure_display()
    import ttkbootstrap as ttk

    root = ttk.App(title="Một Cửa Xã — kiểm thử", size=(1280, 700), position=(0, 0))
    root.update()
    yield root
    try:
        root.destroy()
    except tkinter.TclError:
        pass


def _cleanup(root: tkinter.Tk) -> None:
    for child in list(root.winfo_children()):
        try:
            child.destroy()
        except tkinter.TclError:
            pass
    try:
        root.configure(menu="")
    except tkinter.TclError:
        pass
    for sequence in ("<KeyPress>", "<ButtonPress>", "<Motion>"):
        root.unbind_all(sequence)
    root.update()
    # Collect destroyed widgets' cycles here, on the Tk thread: if a worker thread's
    # allocation triggered the collection instead, tkinter.Variable.__del__ would call Tcl
    # from that thread (harmless under mainloop, an "unraisable" warning in tests).
    gc.collect()


@pytest.fixture
def root(tk_root: tkinter.Tk) -> Iterator[tkinter.Tk]:
    """Return the session root, cleared before and after the test."""
    _cleanup(tk_root)
    tk_root.deiconify()
    tk_root.update()
    yield tk_root
    _cleanup(tk_root)


@pytest.fixture
def gui(root: tkinter.Tk) -> Gui:
    """Return event helpers bound to the cleared session root."""
    return Gui(root)


@pytest.fixture
def tasks(root: tkinter.Tk) -> Iterator[object]:
    """Return a TaskRunner on the session root, closed after the test."""
    from desktop.ui.tasks import TaskRunner

    runner = TaskRunner(root)
    yield runner
    runner.close()


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    """Return a fresh, empty profile directory."""
    path = tmp_path / "profile"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def fast_key_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the cheapest scrypt cost the store allows, so sign-in tests stay fast."""
    monkeypatch.setenv("MOTCUA_SCRYPT_LOG2N", "10")


CLERK_USER = "lan"
CLERK_PASSWORD = "matkhau1"
CLERK_NAME = "Nguyễn Thị Lan"
COMMUNE = "04465"


@pytest.fixture
def store(profile_dir: Path) -> Iterator[object]:
    """Return a fresh open Store (commune 04465, clerk lan / matkhau1), closed after the test."""
    from desktop.store.store import Store

    opened = Store.create(
        profile_dir,
        commune=COMMUNE,
        username=CLERK_USER,
        password=CLERK_PASSWORD,
        full_name=CLERK_NAME,
    )
    yield opened
    opened.close()


@pytest.fixture
def services(root: tkinter.Tk, tasks: object, store: object, profile_dir: Path) -> object:
    """Return Services for a screen under test (no shell: navigate/toast are recorded)."""
    from desktop.ui.services import Clerk, Services
    from desktop.ui.settings import Settings

    recorded = Services(
        store=store,
        tasks=tasks,  # type: ignore[arg-type]
        settings=Settings.load(profile_dir),
        clerk=Clerk(CLERK_USER, CLERK_NAME),
        profile_dir=profile_dir,
    )
    recorded.navigations = []  # type: ignore[attr-defined]
    recorded.toasts = []  # type: ignore[attr-defined]
    recorded.navigate = lambda name, **kw: recorded.navigations.append((name, kw))  # type: ignore[attr-defined]
    recorded.toast = lambda message, kind="success": recorded.toasts.append((message, kind))  # type: ignore[attr-defined]
    return recorded
