"""The dashboard on a real store: today's dossiers, due or late ones, waiting for signature."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest

from desktop.demo.dossiers import demo_dossiers, seed_store
from desktop.forms.dates import format_datetime_vn
from desktop.ui.dashboard import DashboardScreen, today_heading
from desktop.ui.services import Clerk
from desktop.ui.settings import Settings
from desktop.ui.shell import Shell
from tests.ui.conftest import CLERK_NAME, CLERK_USER

pytestmark = pytest.mark.gui


def _one(procedure: str, seed: int):
    return next(d for d in demo_dossiers(50, seed=seed) if d.procedure == procedure)


@pytest.fixture
def filled_store(store):
    """One birth received today, one marital-status case received 12 days ago (overdue),
    and one death moved to chờ ký."""
    now = dt.datetime.now().replace(microsecond=0)
    store.add_book_block("KT", now.year, 1, 100, source="test")
    today_birth = store.register_dossier(
        "khai_sinh", _one("khai_sinh", 1).data, received_at=now - dt.timedelta(minutes=5)
    )
    late = store.register_dossier(
        "xac_nhan_hon_nhan",
        _one("xac_nhan_hon_nhan", 2).data,
        received_at=now - dt.timedelta(days=12),
    )
    signing = store.register_dossier(
        "khai_tu", _one("khai_tu", 3).data, received_at=now - dt.timedelta(days=1)
    )
    store.transition(signing.id, "cho_ky")
    store.ids = {"today": today_birth, "late": late, "signing": signing}
    return store


@pytest.fixture
def shell(root, tasks, filled_store, profile_dir):
    made = Shell(
        root,
        store=filled_store,
        tasks=tasks,
        settings=Settings.load(profile_dir),
        clerk=Clerk(CLERK_USER, CLERK_NAME),
        profile_dir=profile_dir,
    )
    opened: list[tuple[str, dict]] = []

    class DetailStub:
        pass

    def detail_factory(master, services, **kwargs):
        import ttkbootstrap as ttk

        frame = ttk.Frame(master)
        frame.on_show = lambda **kw: opened.append(("dossier_detail", kw))
        return frame

    made.register_screen("dossier_detail", detail_factory)
    made.opened = opened
    made.show()
    yield made
    made.destroy()


def test_dashboard_shows_today_late_and_waiting(gui, shell, filled_store) -> None:
    gui.wait_until(lambda: shell.current == "dashboard")
    dash = shell.current_screen
    ids = filled_store.ids
    assert dash.received.ids == [ids["today"].id]
    row = dash.received.values()[0]
    assert row[0] == ids["today"].dossier_no
    assert row[1] == "Khai sinh"
    assert row[2] == ids["today"].display_name()
    assert row[5] == "Tiếp nhận"
    assert ids["late"].id in dash.due.ids
    late_row = dash.due.tree.item(ids["late"].id)
    assert "overdue" in late_row["tags"]  # shown in red: the promised date has passed
    assert late_row["values"][4] == format_datetime_vn(ids["late"].due_at)
    assert dash.waiting.ids == [ids["signing"].id]
    assert dash.waiting.values()[0][5] == "Chờ ký"
    assert "(1)" in dash.received.heading.cget("text")
    assert today_heading(dt.date.today()) in dash.date_label.cget("text")
    gui.screenshot("dashboard")


def test_double_click_on_a_row_opens_the_dossier(gui, shell, filled_store) -> None:
    dash = shell.current_screen
    late_id = filled_store.ids["late"].id
    tree = dash.due.tree
    gui.wait_until(tree.winfo_viewable)
    x, y, w, h = tree.bbox(late_id)
    subprocess.run(
        [
            "xdotool",
            "mousemove",
            str(tree.winfo_rootx() + x + 40),
            str(tree.winfo_rooty() + y + h // 2),
        ],
        check=True,
    )
    gui.pump(0.05)
    proc = subprocess.Popen(["xdotool", "click", "--repeat", "2", "--delay", "80", "1"])
    while proc.poll() is None:
        gui.pump(0.01)
    gui.wait_until(lambda: shell.current == "dossier_detail")
    assert shell.opened == [("dossier_detail", {"dossier_id": late_id})]


def test_enter_on_a_selected_row_opens_the_dossier(gui, shell, filled_store) -> None:
    dash = shell.current_screen
    today_id = filled_store.ids["today"].id
    gui.focus(dash.received.tree)
    dash.received.tree.focus(today_id)
    dash.received.tree.selection_set(today_id)
    gui.press_keys("Return")
    gui.wait_until(lambda: shell.opened)
    assert shell.opened[-1] == ("dossier_detail", {"dossier_id": today_id})


def test_dashboard_refreshes_when_shown_again(gui, shell, filled_store) -> None:
    dash = shell.current_screen
    assert len(dash.received.ids) == 1
    shell.navigate("help")
    filled_store.register_dossier("ket_hon", _one("ket_hon", 4).data)
    shell.navigate("dashboard")
    assert len(dash.received.ids) == 2


def test_drafts_are_offered_on_the_dashboard(gui, shell, filled_store) -> None:
    filled_store.save_draft("d1", "khai_sinh", {"tre_ten": "Páo"})
    dash = shell.current_screen
    dash.refresh()
    gui.pump()
    assert "1 hồ sơ đang nhập dở" in dash.drafts_label.cget("text")
    assert dash.drafts_label.winfo_ismapped()


def test_dashboard_with_a_whole_commune_history_stays_fast(gui, services, store) -> None:
    seed_store(store, 200, seed=7)
    dash = DashboardScreen(gui.root, services)
    dash.pack(fill="both", expand=True)
    timings = []
    for _ in range(5):  # best of five: other processes share the two cores
        started = time.perf_counter()
        dash.refresh()
        gui.root.update_idletasks()
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.1, f"dashboard refresh took {min(timings) * 1000:.0f} ms"
    assert len(dash.due.ids) <= 50  # lists are capped, never the whole history
    assert dash.received.ids and dash.due.ids and dash.waiting.ids


def test_a_store_failure_is_explained_not_fatal(gui, services) -> None:
    class BrokenStore:
        def dossiers_received_on(self, day):
            raise OSError("đĩa lỗi")

    services.store = BrokenStore()
    dash = DashboardScreen(gui.root, services)
    dash.pack(fill="both", expand=True)
    dash.refresh()
    gui.pump()
    assert "Làm mới" in dash.error_label.cget("text")
    assert dash.error_label.winfo_ismapped()
