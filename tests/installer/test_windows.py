"""The Windows setup .exe: built here, installed silently under wine, self-checked, upgraded in
place by a newer build, uninstalled; the clerk's data survives both, and goes only when asked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer import build_windows
from tests.installer.conftest import ReleaseBuilds
from tests.installer.machines import Wine, snapshot

pytestmark = pytest.mark.slow

PROGRAM = "C:\\Program Files\\MotCuaXa"
PYTHON = f"{PROGRAM}\\python\\python.exe"
UNINSTALL_KEY = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\MotCuaXa"
PASSWORD = "mat-khau-thu-123"


@pytest.fixture(scope="module")
def release(release_builds: ReleaseBuilds) -> Path:
    """The setup program as released (solid LZMA), for the version in pyproject.toml."""
    return release_builds.get("windows", "MotCuaXa-Setup-*-win64.exe")


@pytest.fixture(scope="module")
def wine(display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    """A fresh wine prefix (a new Windows PC)."""
    machine = Wine(tmp_path_factory.mktemp("wine") / "prefix", display)
    try:
        yield machine
    finally:
        machine.close()


def _install(wine: Wine, setup: Path) -> float:
    """Run ``setup /S``; return the seconds it took."""
    started = time.monotonic()
    done = wine.run("wine", str(setup), "/S")
    assert done.returncode == 0, done.stdout + done.stderr
    return time.monotonic() - started


def _motcua(wine: Wine, *args: str) -> str:
    """Run the installed app's command line by its ``C:\\`` path; return its output."""
    done = wine.run("wine", PYTHON, *build_windows.PYTHON_OPTIONS, "-m", "desktop.cli", *args)
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


def _profile(wine: Wine) -> Path:
    """Return the Linux path of the user's default profile (%APPDATA%\\motcua)."""
    found = sorted((wine.prefix / "drive_c" / "users").glob("*/AppData/Roaming/motcua"))
    assert len(found) == 1, found
    return found[0]


def test_setup_is_at_most_60_mb(release: Path) -> None:
    size = release.stat().st_size
    print(f"windows setup: {size / 1e6:.1f} MB")
    assert size <= 60e6


def test_setup_installs_upgrades_and_uninstalls_keeping_the_data(
    release: Path, wine: Wine, tmp_path: Path
) -> None:
    seconds = _install(wine, release)
    print(f"windows silent install: {seconds:.0f} s")
    # Per machine under Program Files, Vietnamese shortcuts, in Windows' list of programs.
    assert wine.c(PYTHON).is_file() and wine.c(f"{PROGRAM}\\Uninstall.exe").is_file()
    menu = wine.c("C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Một Cửa Xã")
    assert (menu / "Một Cửa Xã.lnk").is_file() and (menu / "Gỡ bỏ Một Cửa Xã.lnk").is_file()
    assert wine.c("C:\\users\\Public\\Desktop\\Một Cửa Xã.lnk").is_file()
    assert wine.registry_value(UNINSTALL_KEY, "DisplayName") == "Một Cửa Xã"
    version = release.name.split("-")[2]
    assert wine.registry_value(UNINSTALL_KEY, "DisplayVersion") == version
    assert wine.registry_value(UNINSTALL_KEY, "UninstallString") == (f'"{PROGRAM}\\Uninstall.exe"')
    # motcua.cmd runs what this test runs; nothing of the server's is installed.
    motcua_cmd = wine.c(f"{PROGRAM}\\motcua.cmd").read_bytes()
    assert motcua_cmd == build_windows.MOTCUA_CMD.encode("ascii")
    site = wine.c(f"{PROGRAM}\\python\\Lib\\site-packages")
    assert not [p.name for p in site.iterdir() if p.name.startswith(("sqlalchemy", "psycopg"))]

    checked = _motcua(wine, "--self-check")
    assert "self-check passed" in checked and "FAILED" not in checked
    assert "Times New Roman" in checked  # the font a real Windows has

    # First start, as the shortcut starts it, on a PC with no profile yet: the window comes up
    # (the first-run wizard: nothing is created until it is finished) and closes cleanly.
    done = wine.run(
        "wine",
        PYTHON,
        *build_windows.PYTHON_OPTIONS,
        "-m",
        "desktop.app",
        "--profile",
        "C:\\first-start",
        "--ready-file",
        "C:\\ready.txt",
        "--exit-when-ready",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert wine.c("C:\\ready.txt").read_text(encoding="utf-8").strip()
    assert not wine.c("C:\\first-start").exists()

    # The clerk's data, in the user's AppData, outside the program folder.
    wine.env["MOTCUA_PASSWORD"] = PASSWORD
    try:
        _motcua(
            wine, "init", "--commune", "02701", "--username", "lan", "--full-name", "Lò Thị Lan"
        )
        data = snapshot(_profile(wine))
        assert "store.db" in " ".join(data)

        newer = build_windows.build_setup(
            tmp_path / "newer", version="99.0.0", fast=True, quiet=True
        )
        seconds = _install(wine, newer)
        print(f"windows silent upgrade: {seconds:.0f} s")
        assert wine.registry_value(UNINSTALL_KEY, "DisplayVersion") == "99.0.0"
        assert "self-check passed" in _motcua(wine, "--self-check")
        assert snapshot(_profile(wine)) == data
        assert "lan" in _motcua(wine, "users", "list")  # the new version opens the old data
    finally:
        del wine.env["MOTCUA_PASSWORD"]
    data = snapshot(_profile(wine))

    done = wine.run("wine", wine.c(f"{PROGRAM}\\Uninstall.exe").as_posix(), "/S")
    assert done.returncode == 0, done.stderr
    assert not wine.c(PROGRAM).exists()
    assert not menu.exists()
    assert wine.registry_value(UNINSTALL_KEY, "DisplayName") is None
    assert snapshot(_profile(wine)) == data  # a silent uninstall answers "keep the data"

    # Only an explicit request removes the data.
    _install(wine, release)
    done = wine.run("wine", wine.c(f"{PROGRAM}\\Uninstall.exe").as_posix(), "/S", "/PURGE")
    assert done.returncode == 0, done.stderr
    assert not list((wine.prefix / "drive_c" / "users").glob("*/AppData/Roaming/motcua"))
