"""The conflict inbox against the real server: a real conflict is listed, filters narrow it,
Enter opens it (a suspected duplicate in its review), pages move through many conflicts, and
a server that cannot be reached is said on the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bench.console_seed import seed_conflicts
from desktop.console.client import AdminClient
from desktop.console.statistics import commune_name
from desktop.ui.console.inbox import MSG_EMPTY, ConflictInboxScreen
from tests.console.conftest import field_conflict
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import COMMUNE, OTHER_COMMUNE, Device, ServerProcess
from tests.ui.console.conftest import sync_all

pytestmark = pytest.mark.gui


def open_inbox(shell: Any, open_screen: Callable[..., Any], gui: Any) -> ConflictInboxScreen:
    """Open the inbox and wait for its first page."""
    inbox = open_screen(shell, "conflicts")
    gui.wait_until(lambda: inbox.idle, 15)
    return inbox


def rows(inbox: ConflictInboxScreen) -> list[tuple[str, ...]]:
    """Return the table as shown."""
    return [tuple(inbox.tree.item(i, "values")) for i in inbox.tree.get_children()]


def choose(gui: Any, inbox: ConflictInboxScreen, box: Any, label: str) -> None:
    """Pick ``label`` in a filter box as the list would, and wait for the page."""
    box.set(label)
    box.event_generate("<<ComboboxSelected>>")
    gui.wait_until(lambda: inbox.idle, 15)


def test_a_real_conflict_is_listed_filtered_and_opened_by_keyboard(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    _a, _b, dossier, _base = field_conflict(make_device, server)
    inbox = open_inbox(console_shell, open_screen, gui)
    (row,) = rows(inbox)
    kind, commune, procedure, who, fields, device, age, status = row
    assert (kind, commune, procedure, status) == (
        "Sửa trùng trường",
        commune_name(COMMUNE),
        "Khai sinh",
        "Đang mở",
    )
    assert dossier.dossier_no in who and "Nơi sinh" in fields and "Số điện thoại" in fields
    assert device == "PC b · lan" and age in ("vừa xong", "1 phút")
    assert inbox.count_label.cget("text") == "1–1 trong 1 xung đột"
    gui.screenshot("console-inbox")

    # Typing narrows the communes; Enter applies: another commune has none.
    gui.type_text(inbox.commune_box, "khao m")  # the box selects its text on focus
    assert list(inbox.commune_box.cget("values")) == ["Tất cả các xã", "Xã Khao Mang"]
    gui.press_keys("Return")
    gui.wait_until(lambda: inbox.idle and inbox.commune_box.get() == "Xã Khao Mang", 15)
    assert rows(inbox) == [] and inbox.message.cget("text") == MSG_EMPTY
    assert inbox.count_label.cget("text") == "Không có xung đột nào"
    gui.type_text(inbox.commune_box, "y ty")
    gui.press_keys("Return")
    gui.wait_until(lambda: inbox.idle and inbox.commune_box.get() == commune_name(COMMUNE), 15)
    assert len(rows(inbox)) == 1

    choose(gui, inbox, inbox.kind_box, "Trùng số sổ")
    assert rows(inbox) == []
    choose(gui, inbox, inbox.kind_box, "Sửa trùng trường")
    assert len(rows(inbox)) == 1
    choose(gui, inbox, inbox.procedure_box, "Đăng ký khai tử")
    assert rows(inbox) == []
    choose(gui, inbox, inbox.procedure_box, "Đăng ký khai sinh")
    choose(gui, inbox, inbox.age_box, "hơn 1 ngày")
    assert rows(inbox) == []
    choose(gui, inbox, inbox.age_box, "Mọi lúc")
    choose(gui, inbox, inbox.status_box, "Đã giải quyết")
    assert rows(inbox) == []
    choose(gui, inbox, inbox.status_box, "Đang mở")
    assert len(rows(inbox)) == 1

    gui.focus(inbox.tree)
    gui.press_keys("Return")
    gui.wait_until(lambda: console_shell.current == "conflict", 5)
    view = console_shell.current_screen
    gui.wait_until(lambda: view.idle and view.detail is not None, 15)
    assert view.detail["conflict"]["entity_id"] == dossier.id


def test_a_suspected_duplicate_opens_in_the_duplicate_review(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    x = make_device(server, "x", commune=COMMUNE)
    y = make_device(server, "y", commune=OTHER_COMMUNE)
    same = birth(7)
    x.store.register_dossier("khai_sinh", same, received_at=RECEIVED)
    sync_all(x, rounds=1)
    y.store.register_dossier("khai_sinh", same, received_at=RECEIVED)
    sync_all(y, x, rounds=1)
    inbox = open_inbox(console_shell, open_screen, gui)
    choose(gui, inbox, inbox.kind_box, "Trùng sự kiện")
    ((kind, commune, *_rest),) = rows(inbox)
    assert kind == "Trùng sự kiện" and "↔" in commune
    inbox.tree.event_generate("<Return>")
    gui.wait_until(lambda: console_shell.current == "duplicates", 5)


def test_pages_of_many_conflicts_and_an_unreachable_server(
    server: ServerProcess,
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    seed_conflicts(server.api(), 450)
    inbox = open_inbox(console_shell, open_screen, gui)
    assert inbox.count_label.cget("text") == "1–200 trong 450 xung đột (trang 1/3)"
    assert len(rows(inbox)) == 200
    first_ids = inbox.tree.get_children()
    gui.root.geometry("960x560")  # the smallest window: the filters take two lines
    gui.wait_until(lambda: inbox.status_box.grid_info().get("row") == 3, 5)
    gui.pump(0.3)
    right = gui.root.winfo_rootx() + gui.root.winfo_width()
    assert inbox.status_box.winfo_rootx() + inbox.status_box.winfo_width() <= right
    gui.screenshot("console-inbox-small")
    gui.root.geometry("1280x700")
    gui.wait_until(lambda: inbox.status_box.grid_info().get("row") == 1, 5)
    gui.focus(inbox.tree)
    gui.press_keys("Next")
    gui.wait_until(lambda: inbox.idle and inbox.offset == 200, 15)
    assert inbox.count_label.cget("text") == "201–400 trong 450 xung đột (trang 2/3)"
    assert not set(first_ids) & set(inbox.tree.get_children())
    gui.press_keys("ctrl+End")
    gui.wait_until(lambda: inbox.idle and inbox.offset == 400, 15)
    assert len(rows(inbox)) == 50 and str(inbox.next_button.cget("state")) == "disabled"
    gui.press_keys("Prior")
    gui.wait_until(lambda: inbox.idle and inbox.offset == 200, 15)
    # Two quick pages: only the last answer is shown.
    inbox.next_page()
    inbox.previous_page()
    gui.wait_until(lambda: inbox.idle, 15)
    assert inbox.offset == 200 and len(rows(inbox)) == 200
    # A filter starts again at page 1.
    choose(gui, inbox, inbox.procedure_box, "Đăng ký khai tử")
    assert inbox.offset == 0 and 0 < inbox.total < 450
    deaths = inbox.total

    server.stop()
    try:
        gui.press_keys("F5")
        gui.wait_until(lambda: inbox.idle and inbox.error, 30)
        assert "danger" in str(inbox.message.cget("style"))
        assert inbox.message.cget("text") == inbox.error and "máy chủ" in inbox.error.lower()
    finally:
        server.start()
    gui.press_keys("F5")
    gui.wait_until(lambda: inbox.idle and not inbox.error, 30)
    assert inbox.message.cget("text") == "" and len(rows(inbox)) == deaths
