"""``motcua --self-check``: every check runs and passes on a working install, a failing check is
named in English and makes the exit code non-zero, the other checks still run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import selfcheck

pytestmark = pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (Xvfb)")


def test_every_check_passes_here_through_the_cli_option() -> None:
    # A process of its own, as on the PC (ttkbootstrap allows one application root a process).
    done = subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--self-check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("imports", "window", "store", "fonts", "pdf"):
        assert f"ok: {name}: " in done.stdout
    assert done.stdout.rstrip().endswith("self-check passed")


def test_a_failed_check_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_fonts(override: object = None) -> object:
        raise selfcheck.printing.FontNotFound("no serif font installed")

    monkeypatch.setattr(selfcheck.printing, "find_serif_fonts", no_fonts)
    # This process may hold the GUI tests' Tk root already; the window check has its own test.
    monkeypatch.setattr(selfcheck, "check_window", lambda: "not opened here")
    assert selfcheck.main() == 1
    captured = capsys.readouterr()
    assert "FAILED: fonts: FontNotFound: no serif font installed" in captured.out
    assert "ok: store: SQLCipher" in captured.out  # the other checks ran all the same
    assert "self-check failed: fonts" in captured.err


def test_the_store_check_leaves_an_encrypted_profile_in_its_folder_only(tmp_path: Path) -> None:
    assert selfcheck.check_store(tmp_path).startswith("SQLCipher ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile"]
    assert (tmp_path / "profile" / "store.db").read_bytes()[:16] != b"SQLite format 3\x00"
