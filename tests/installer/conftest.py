"""Fixtures of the installer tests: the two release builds, made at the same time (they take
most of the tests' time, on different cores), and an X display for Tk (wine, the chroot)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.installer.machines import ROOT, ensure_tools


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


class ReleaseBuilds:
    """Both installers as released, each built by its own command in the background."""

    def __init__(self, out: Path) -> None:
        self._out = out
        self._started = time.monotonic()
        self._builds = {
            kind: subprocess.Popen(
                [sys.executable, "-m", f"installer.build_{kind}", "--out", str(out / kind)]
                + ["--quiet"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for kind in ("windows", "debian")
        }

    def get(self, kind: str, pattern: str) -> Path:
        """Wait for the build of ``kind`` and return its one output file matching ``pattern``."""
        proc = self._builds[kind]
        output, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, output
        waited = time.monotonic() - self._started
        print(f"{output.strip().splitlines()[-1]}; ready {waited:.0f} s after both started")
        (built,) = (self._out / kind).glob(pattern)
        return built

    def close(self) -> None:
        """Stop a build still running (a test failed before it was needed)."""
        for proc in self._builds.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="session")
def release_builds(
    tools: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReleaseBuilds]:
    """Start both release builds (the first installer test to need one starts the other too)."""
    builds = ReleaseBuilds(tmp_path_factory.mktemp("release"))
    try:
        yield builds
    finally:
        builds.close()
