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


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m desktop.demo ARGS --exit-when-ready`` with a cheap key derivation."""
    return subprocess.run(
        [sys.executable, "-m", "desktop.demo", *args, "--exit-when-ready"],
        cwd=ROOT,
        env={**os.environ, "MOTCUA_SCRYPT_LOG2N": "12"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_console_demo_enrols_provincial_it_and_leaves_work_for_it(
    tmp_path: Path, tk_root: object
) -> None:
    from desktop.console.enrolment import is_enrolled
    from desktop.store.store import Store
    from server.service import SyncServer

    profile = tmp_path / "demo-profile"
    run = _demo("--console", "--profile", str(profile), "--dossiers", "6")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "mật khẩu «tinh»" in run.stdout and "(mới tạo)" in run.stdout
    assert "Đã đăng ký bảng quản trị" in run.stdout
    assert "1 xung đột giữa hai máy của xã, 1 hồ sơ khai sinh nghi trùng" in run.stdout

    console = Store.open(tmp_path / "demo-console-profile", "tinh", "tinh")
    server = SyncServer.open(f"sqlite:///{tmp_path / 'demo-server' / 'server.db'}")
    try:
        assert console.config.role == "province" and console.commune == ""
        assert [c.full_name for c in console.clerks()] == ["Cán bộ CNTT Tỉnh"]
        assert is_enrolled(console)
        operators = [(o["operator_id"], o["status"]) for o in server.operators()]
        assert operators == [(console.device_id, "active")]
        open_conflicts = server.conflicts("open")
        field = [c for c in open_conflicts if c["kind"] == "field"]
        duplicate = [c for c in open_conflicts if c["kind"] == "duplicate"]
        assert len(field) == 1 and len(duplicate) == 1
        assert {"data.tre_noi_sinh", "data.nguoi_yeu_cau_dien_thoai"} <= set(field[0]["fields"])
        assert {duplicate[0]["commune"], duplicate[0]["other_commune"]} == {"04465", "04456"}
        devices = sorted((d["commune"], d["label"]) for d in server.devices())
        assert [commune for commune, _label in devices] == ["04456", "04465", "04465"]
    finally:
        console.close()
        server.storage.dispose()

    # A second start reuses the profiles, the enrolments and the material.
    again = _demo("--console", "--profile", str(profile))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "(mới tạo)" not in again.stdout and "Đã đăng ký" not in again.stdout
    server = SyncServer.open(f"sqlite:///{tmp_path / 'demo-server' / 'server.db'}")
    try:
        assert len(server.operators()) == 1 and len(server.devices()) == 3
        assert len(server.conflicts(None)) == 2
    finally:
        server.storage.dispose()
