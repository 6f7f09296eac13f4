"""Kill the app mid-typing; on restart the half-typed form is there again.

The app runs in a child process under the same display (tests/ui/draft_child.py: the real
sign-in → shell session). The test types into its window with real key events (xdotool),
waits past the one-second draft delay, starts typing again and SIGKILLs the child while the
keys are still arriving. Then the store holds the draft, and a restarted app offers it on the
"Hồ sơ mới" screen and restores every field typed before the pause.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ui.dossier_support import CLERK, COMMUNE, PASSWORD, map_keys

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("draft_child.py")
SCREENS = ROOT / "artifacts" / "screens"

if shutil.which("xdotool") is None:
    pytest.skip("xdotool is needed to type into another process", allow_module_level=True)


class Child:
    """The app in a child process, with its status file and window."""

    def __init__(self, profile: Path, tmp: Path, name: str) -> None:
        self.status_file = tmp / f"{name}.json"
        self.title = f"MCX-draft-{name}-{os.getpid()}"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(profile), str(self.status_file), self.title],
            cwd=ROOT,
            env=env,
        )
        self.window = ""

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def wait(self, pred, timeout: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the app exited"
            status = self.status()
            if status and pred(status):
                return status
            time.sleep(0.05)
        raise AssertionError(f"app never reached the expected state; last status: {self.status()}")

    def focus_window(self) -> None:
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--name", self.title],
            capture_output=True,
            text=True,
            timeout=15,
            check=True,
        )
        self.window = found.stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", self.window], check=True, timeout=10)

    def key(self, *keys: str) -> None:
        subprocess.run(["xdotool", "key", "--delay", "30", *keys], check=True, timeout=10)

    def type(self, text: str) -> None:
        assert map_keys(text)
        subprocess.run(["xdotool", "type", "--delay", "15", text], check=True, timeout=30)

    def sign_in(self) -> None:
        self.wait(lambda s: s.get("state") == "sign_in")
        self.focus_window()
        self.wait(lambda s: s.get("focus_class") == "TEntry")  # the password, name pre-filled
        self.type(PASSWORD)
        self.key("Return")
        self.wait(lambda s: s.get("state") == "shell")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def screenshot(name: str) -> None:
    from PIL import ImageGrab

    SCREENS.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(bbox=(0, 0, 1240, 700), xdisplay=os.environ["DISPLAY"]).save(
        SCREENS / f"{name}.png"
    )


def test_draft_survives_a_kill_mid_typing(root, tmp_path):
    from desktop.store.store import Store

    root.withdraw()  # the test session's own window must not take the keys
    profile = tmp_path / "profile"
    Store.create(
        profile, commune=COMMUNE, username=CLERK[0], password=PASSWORD, full_name=CLERK[1]
    ).close()

    first = Child(profile, tmp_path, "first")
    try:
        first.sign_in()
        first.key("ctrl+n")
        first.wait(lambda s: s.get("screen") == "new_dossier")
        first.key("1")
        first.wait(lambda s: s.get("focus") == "scan:nguoi_yeu_cau")
        first.key("Tab")
        first.wait(lambda s: s.get("focus") == "nguoi_yeu_cau_ho_ten")
        first.type("Giàng A Pao")
        first.key("Tab")
        first.type("0150880012")
        first.wait(lambda s: s.get("form", {}).get("nguoi_yeu_cau_so_dinh_danh") == "0150880012")
        time.sleep(2.0)  # past the one-second draft delay

        # Type on and kill the app while the keys are still arriving.
        map_keys("Bản Khao Mang")
        typing = subprocess.Popen(
            ["xdotool", "type", "--delay", "60", "34"],
        )
        first.wait(
            lambda s: s.get("form", {}).get("nguoi_yeu_cau_so_dinh_danh", "") != "0150880012"
        )
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        typing.kill()
        typing.wait(10)
    finally:
        first.stop()

    # The store (opened after the crash) holds the draft.
    store = Store.open(profile, CLERK[0], PASSWORD)
    try:
        assert store.integrity_check() in ([], ["ok"])
        drafts = store.list_drafts()
        assert len(drafts) == 1
        assert drafts[0].procedure == "khai_sinh"
        assert drafts[0].data["nguoi_yeu_cau_ho_ten"] == "Giàng A Pao"
        assert drafts[0].data["nguoi_yeu_cau_so_dinh_danh"].startswith("0150880012")
    finally:
        store.close()

    # A restarted app offers the draft and restores what was typed.
    second = Child(profile, tmp_path, "second")
    try:
        second.sign_in()
        second.key("ctrl+n")
        second.wait(lambda s: s.get("screen") == "new_dossier" and s.get("drafts") == 1)
        second.wait(lambda s: s.get("focus_class") == "Treeview")
        time.sleep(0.3)
        screenshot("draft_recovery_offered")
        second.key("Return")
        status = second.wait(lambda s: "form" in s)
        data = status["form"]
        assert data["nguoi_yeu_cau_ho_ten"] == "Giàng A Pao"
        assert data["nguoi_yeu_cau_so_dinh_danh"].startswith("0150880012")
        time.sleep(0.3)
        screenshot("draft_recovery_restored")
    finally:
        second.stop()
        root.deiconify()
