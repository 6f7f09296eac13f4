"""The sync indicator's wording and the sync panel (status, history, errors, Đồng bộ ngay)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.sync.report import SyncAttempt
from desktop.sync.status import SyncState, SyncStatus
from desktop.ui.services import Clerk
from desktop.ui.settings import Settings
from desktop.ui.shell import Shell
from desktop.ui.sync_panel import SyncPanel, explain
from desktop.ui.widgets.sync_indicator import describe
from tests.ui.conftest import CLERK_NAME, CLERK_USER
from tests.ui.fakes import FakeSync

# -- wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text", "style"),
    [
        (SyncStatus(), "Chưa đăng ký với tỉnh", "secondary"),
        (SyncStatus(state=SyncState.OFFLINE), "Ngoại tuyến", "warning"),
        (SyncStatus(state=SyncState.OFFLINE, pending=4), "Ngoại tuyến · 4 chờ gửi", "warning"),
        (
            SyncStatus(state=SyncState.SYNCED, last_sync=dt.datetime(2026, 11, 26, 8, 7)),
            "Đã đồng bộ lúc 08:07",
            "success",
        ),
        (SyncStatus(state=SyncState.SYNCED, pending=2), "Đã đồng bộ · 2 chờ gửi", "info"),
        (SyncStatus(state=SyncState.SYNCING, progress=0.25), "Đang đồng bộ 25%", "info"),
        (SyncStatus(state=SyncState.SYNCING), "Đang đồng bộ…", "info"),
        (SyncStatus(state=SyncState.SYNCED, conflicts=3), "3 xung đột", "danger"),
        (
            SyncStatus(state=SyncState.SYNCED, clock_offset_s=-600.0, pending=1),
            "Đồng hồ máy sai · 1 chờ gửi",
            "danger",
        ),
        (SyncStatus(state=SyncState.ERROR, last_error="x"), "Lỗi đồng bộ", "danger"),
        (SyncStatus(state=SyncState.REVOKED), "Máy đã bị thu hồi — liên hệ CNTT tỉnh", "danger"),
    ],
)
def test_indicator_wording(status: SyncStatus, text: str, style: str) -> None:
    assert describe(status) == (text, style)


def test_a_small_clock_offset_is_not_flagged() -> None:
    text, style = describe(SyncStatus(state=SyncState.SYNCED, clock_offset_s=120.0))
    assert "Đồng hồ" not in text and style == "success"


def test_explanations_say_what_to_do() -> None:
    lines = explain(
        SyncStatus(
            state=SyncState.ERROR,
            conflicts=1,
            rejected=2,
            clock_offset_s=1800.0,
            last_error="Máy chủ không trả lời sau 30 giây.",
        )
    )
    text = "\n".join(lines)
    assert "báo bộ phận CNTT" in text
    assert "1 thay đổi bị xung đột" in text and "CNTT tỉnh sẽ xem xét" in text
    assert "2 thay đổi bị máy chủ từ chối" in text
    assert "Đồng hồ máy chậm khoảng 30 phút" in text
    assert "Lỗi gần nhất: Máy chủ không trả lời sau 30 giây." in text


# -- the panel --------------------------------------------------------------------------------


class HistorySync(FakeSync):
    """A fake engine that also keeps a history of attempts, like the real one may."""

    def history(self, limit: int):
        return [
            SyncAttempt(
                at=dt.datetime(2026, 11, 26, 9, 30),
                ok=False,
                message="Không kết nối được máy chủ (hết thời gian chờ).",
            ),
            SyncAttempt(
                at=dt.datetime(2026, 11, 26, 9, 0), ok=True, message="Gửi 12 thay đổi, nhận 3."
            ),
        ][:limit]


@pytest.fixture
def shell(root, tasks, store, profile_dir):
    made: list[Shell] = []

    def make(sync):
        s = Shell(
            root,
            store=store,
            tasks=tasks,
            settings=Settings.load(profile_dir),
            clerk=Clerk(CLERK_USER, CLERK_NAME),
            sync=sync,
            profile_dir=profile_dir,
        )
        s.show()
        made.append(s)
        return s

    yield make
    for s in made:
        s.destroy()


@pytest.mark.gui
def test_panel_shows_errors_history_and_counts(gui, shell, store) -> None:
    from desktop.demo.dossiers import seed_store

    seed_store(store, 3)
    sync = HistorySync(
        SyncStatus(
            state=SyncState.ERROR,
            pending=3,
            conflicts=1,
            last_sync=dt.datetime(2026, 11, 26, 9, 0),
            clock_offset_s=900.0,
            last_error="Không kết nối được máy chủ (hết thời gian chờ).",
        )
    )
    s = shell(sync)
    gui.click(s.nav_buttons["sync"])
    gui.wait_until(lambda: s.current == "sync")
    panel = s.current_screen
    assert isinstance(panel, SyncPanel)
    assert panel.headline.cget("text").startswith("Lỗi đồng bộ")
    assert "Đồng hồ máy chậm khoảng 15 phút" in panel.explanation.cget("text")
    pending = store.outbox_summary().pending
    assert pending >= 3
    assert f"Hộp thư đi: {pending} chờ gửi" in panel.counts.cget("text")
    rows = panel.history_rows()
    assert rows[0] == ("26/11/2026 09:30", "Lỗi", "Không kết nối được máy chủ (hết thời gian chờ).")
    assert rows[1][1] == "Thành công"
    gui.screenshot("sync_panel_errors")


@pytest.mark.gui
def test_sync_now_button_starts_a_sync_and_shows_progress(gui, shell) -> None:
    sync = FakeSync(SyncStatus(state=SyncState.SYNCED, last_sync=dt.datetime(2026, 11, 26, 8, 0)))
    s = shell(sync)
    s.navigate("sync")
    panel = s.current_screen
    gui.click(panel.sync_button)
    gui.wait_until(lambda: sync.sync_now_calls == 1)
    assert str(panel.sync_button.cget("state")) == "disabled"  # no double start
    sync.publish(SyncStatus(state=SyncState.SYNCING, progress=0.6, pending=5))
    gui.wait_until(lambda: panel.headline.cget("text").startswith("Đang đồng bộ 60%"))
    assert panel.progress.winfo_ismapped()
    assert float(panel.progress.cget("value")) == pytest.approx(0.6)
    gui.screenshot("sync_panel_syncing")
    sync.publish(SyncStatus(state=SyncState.SYNCED, last_sync=dt.datetime(2026, 11, 26, 10, 15)))
    gui.wait_until(lambda: panel.headline.cget("text") == "Đã đồng bộ lúc 10:15")
    assert not panel.progress.winfo_ismapped()
    assert str(panel.sync_button.cget("state")) == "normal"
    # Without an engine history the panel lists the changes it saw.
    assert [(r[1], r[2]) for r in panel.history_rows()][:2] == [
        ("Thành công", "Đã đồng bộ lúc 10:15"),
        ("Đang chạy", "Đang đồng bộ 60% · 5 chờ gửi"),
    ]


@pytest.mark.gui
def test_panel_without_sync_explains_enrolment(gui, shell) -> None:
    s = shell(None)
    s.navigate("sync")
    panel = s.current_screen
    assert panel.headline.cget("text") == "Chưa đăng ký với tỉnh"
    assert "Cài đặt" in panel.explanation.cget("text")
    gui.click(panel.sync_button)
    gui.wait_until(lambda: s.toasts)
    assert "Cài đặt" in s.toasts[-1][0]
    gui.screenshot("sync_panel_not_enrolled")


@pytest.mark.gui
def test_screens_in_the_shell_for_the_record(gui, shell) -> None:
    s = shell(FakeSync(SyncStatus(state=SyncState.OFFLINE, pending=2)))
    s.navigate("settings")
    gui.pump(0.1)
    gui.screenshot("settings_in_shell")
    s.navigate("help")
    gui.pump(0.1)
    gui.screenshot("help_in_shell")
