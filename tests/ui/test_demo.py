"""The README's main command: ``python -m desktop.demo`` makes a demo commune, starts the
embedded provincial server on SQLite, enrols the demo device and opens the app."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_creates_a_commune_enrols_it_and_opens_the_app(
    tmp_path: Path, tk_root: object
) -> None:
    # tk_root: the session display (a private Xvfb when DISPLAY is unset) for the child app.
    profile = tmp_path / "demo-profile"
    env = {**os.environ, "MOTCUA_SCRYPT_LOG2N": "12"}
    run = subprocess.run(
        [sys.executable, "-m", "desktop.demo", "--profile", str(profile), "--dossiers", "6"]
        + ["--exit-when-ready"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "mật khẩu «demo»" in run.stdout
    assert "Đã đăng ký máy trình diễn" in run.stdout
    server_db = tmp_path / "demo-server" / "server.db"
    with sqlite3.connect(server_db) as conn:
        devices = conn.execute("SELECT commune, status FROM devices").fetchall()
    assert devices == [("04465", "active")]

    # A second start reuses the profile and the enrolment.
    again = subprocess.run(
        [sys.executable, "-m", "desktop.demo", "--profile", str(profile), "--exit-when-ready"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "(mới tạo)" not in again.stdout
    with sqlite3.connect(server_db) as conn:
        assert conn.execute("SELECT count(*) FROM devices").fetchone()[0] == 1
