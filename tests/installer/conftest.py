"""Fixtures of the installer tests: an X display for Tk (under wine and in the chroot)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installer.machines import ensure_tools


def _socket(display: str) -> Path:
    return Path(f"/tmp/.X11-unix/X{display.lstrip(':').split('.')[0]}")


@pytest.fixture(scope="session")
def tools() -> None:
    """Make sure the build and test tools are installed (skips when they cannot be)."""
    ensure_tools()


@pytest.fixture(scope="session")
def display(tools: None) -> Iterator[str]:
    """Return the X display to use: ``DISPLAY`` when its socket exists, else a private Xvfb."""
    current = os.environ.get("DISPLAY", "")
    if current.startswith(":") and _socket(current).exists():
        yield current
        return
    for number in range(240, 340):
        name = f":{number}"
        if _socket(name).exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", name, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None and not _socket(name).exists():
            time.sleep(0.05)
        if proc.poll() is None:
            try:
                yield name
            finally:
                proc.terminate()
                proc.wait(10)
            return
    pytest.skip("no X display and Xvfb could not be started")
