"""Provincial IT resolves a real conflict in the console, field by field, with a reason.

Against the real server with two real devices of one commune: both edit the same dossier
offline and sync; the conflict is opened from the inbox by keyboard, shown side by side with
the differing fields highlighted, decided by clicking and typing, refused without a reason,
resolved with one; both devices then sync and hold the decided values, the losing value is in
the record's history on screen, each device's audit trail says who decided and why, and the
refreshed screen shows that both devices have received the decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from desktop.console.client import AdminClient
from desktop.console.statistics import commune_name
from desktop.ui.console.conflict_view import MSG_NO_REASON, ConflictScreen
from desktop.ui.console.conflict_widgets import CLOCK_WARNING
from tests.console.conftest import (
    OPERATOR,
    PHONE_A,
    PHONE_B,
    PHONE_TYPED,
    PLACE_A,
    PLACE_B,
    REASON,
    field_conflict,
)
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import COMMUNE, Device, ServerProcess
from tests.ui.console.conftest import sync_all

pytestmark = pytest.mark.gui

PLACE, PHONE = "data.tre_noi_sinh", "data.nguoi_yeu_cau_dien_thoai"


def open_from_inbox(shell: Any, open_screen: Callable[..., Any], gui: Any) -> ConflictScreen:
    """Open the inbox, select its only row and press Enter; return the conflict screen."""
    inbox = open_screen(shell, "conflicts")
    gui.wait_until(lambda: inbox.idle and inbox.tree.get_children(), 15)
    gui.focus(inbox.tree)
    gui.press_keys("Return")
    gui.wait_until(lambda: shell.current == "conflict", 5)
    view = shell.current_screen
    gui.wait_until(lambda: view.idle and view.detail is not None, 15)
    return view


def texts(row: Any) -> list[str]:
    """Return what a grid row shows: label, base, current, incoming."""
    return [str(cell.cget("text")) for cell in row.cells]


def test_a_conflict_of_two_devices_is_resolved_in_the_console_and_reaches_both(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    a, b, dossier, base = field_conflict(make_device, server)
    view = open_from_inbox(console_shell, open_screen, gui)

    # Side by side: the cards say where each version came from; the clashing fields differ.
    assert "Sửa trùng trường" in view.heading_title.cget("text")
    assert commune_name(COMMUNE) in view.heading_title.cget("text")
    assert dossier.dossier_no in view.subtitle.cget("text")
    incoming, current = view.incoming_card.texts(), view.current_card.texts()
    assert incoming["device"] == "PC b · lan"
    assert current["device"] == "PC a · lan" and incoming["commune"] == commune_name(COMMUNE)
    assert incoming["warning"] == "" and "/" in incoming["clock"]
    grid = view.grid_tab
    place, phone = grid.row(PLACE), grid.row(PHONE)
    assert texts(place) == ["✱ Nơi sinh", base[PLACE], PLACE_A, PLACE_B]
    assert texts(phone)[2:] == [PHONE_A, PHONE_B]
    assert place.highlighted and phone.highlighted
    assert place.cells[0].cget("style") == "ClashHead.TLabel"
    shown = [r.field for r in grid.rows]
    assert "data.tre_ten" not in shown  # unchanged fields are hidden until asked for
    gui.click(grid.same_box)
    assert len(grid.rows) >= len(shown) and not grid.row(PLACE).var.get()
    gui.click(grid.same_box)

    # Decide by hand: the incoming birthplace, a typed phone number.
    place, phone = grid.row(PLACE), grid.row(PHONE)
    gui.click(place.radios["incoming"])
    gui.click(phone.radios["value"])
    assert str(phone.entry.cget("state")) == "normal"
    phone.entry.delete(0, "end")
    gui.type_text(phone.entry, PHONE_TYPED)
    assert phone.entry.get() == PHONE_TYPED

    # No reason: refused on screen, nothing sent.
    gui.click(view.resolve_button)
    assert view.decision_message.cget("text") == MSG_NO_REASON
    assert admin.conflicts(commune=COMMUNE)["total"] == 1
    gui.type_text(view.reason_entry, REASON)
    gui.screenshot("console-conflict")
    gui.press_keys("ctrl+Return")
    gui.wait_until(lambda: view.detail["conflict"]["status"] == "resolved" and view.idle, 15)
    assert view.tabs.select() == str(view.result_tab)
    assert OPERATOR in view.result_tab.summary.cget("text")
    assert view.result_tab.reason.cget("text") == f"Lý do: {REASON}"
    assert [r[2] for r in view.result_tab.rows()] == ["Chưa nhận", "Chưa nhận"]
    assert not view.decision.winfo_ismapped() and grid.row(PLACE).var is None  # read-only

    sync_all(a, b)
    for device in (a, b):
        record = device.store.get_dossier(dossier.id).record
        assert (record[PLACE], record[PHONE]) == (PLACE_B, PHONE_TYPED)
        (entry,) = [
            e for e in device.store.audit_trail(dossier.id) if e.action == "sync.resolution"
        ]
        assert entry.clerk == OPERATOR and f"reason: {REASON}" in entry.summary

    # F5: both devices have the decision; the history on screen keeps the losing value.
    gui.focus(view.back_button)
    gui.press_keys("F5")
    gui.wait_until(
        lambda: view.idle and all(r[2].startswith("Đã nhận lúc") for r in view.result_tab.rows()),
        15,
    )
    assert [r[0] for r in view.result_tab.rows()] == ["PC a", "PC b"]
    gui.press_keys("alt+l")
    gui.wait_until(lambda: view.history is not None and view.history_tab.rows(), 15)
    rows = view.history_tab.rows()
    assert any(f"Nơi sinh: {PLACE_A}" in r[4] for r in rows)  # the losing value
    assert rows[-1][3] == "Tỉnh giải quyết" and OPERATOR in rows[-1][2]
    assert f"Nơi sinh: {PLACE_B}" in rows[-1][4]
    assert any(v["changed"].get(PLACE) == PLACE_A for v in admin.history(dossier.id))
    gui.screenshot("console-conflict-history")
    view.tabs.select(view.result_tab)
    gui.screenshot("console-conflict-resolved")

    gui.press_keys("Escape")
    gui.wait_until(lambda: console_shell.current == "conflicts", 5)
    inbox = console_shell.current_screen
    gui.wait_until(lambda: inbox.idle and inbox.total == 0, 15)
    # Among the resolved ones, the row says both PCs of the commune hold the decision.
    inbox.status_box.set("Đã giải quyết")
    inbox.status_box.event_generate("<<ComboboxSelected>>")
    gui.wait_until(lambda: inbox.idle and inbox.total == 1, 15)
    (cells,) = [inbox.tree.item(i, "values") for i in inbox.tree.get_children()]
    assert cells[-1] == "Đã giải quyết · 2/2 máy"
    gui.screenshot("console-inbox-resolved")


def test_a_wrong_device_clock_is_shown_on_its_version(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    field_conflict(make_device, server, clock=lambda: time.time() + 3600)
    view = open_from_inbox(console_shell, open_screen, gui)
    assert view.incoming_card.texts()["warning"] == CLOCK_WARNING
    assert view.current_card.texts()["warning"] == ""
    assert view.incoming_card.warning.winfo_ismapped()

    # At the window's smallest size the reason and the button still show.
    gui.root.geometry("960x560")
    gui.wait_until(lambda: gui.root.winfo_height() <= 600, 5)
    gui.pump(0.3)
    bottom = gui.root.winfo_rooty() + gui.root.winfo_height()
    button = view.resolve_button
    assert button.winfo_ismapped() and button.winfo_rooty() + button.winfo_height() <= bottom
    assert view.reason_entry.winfo_width() > 200
    gui.screenshot("console-conflict-small")
    gui.root.geometry("1280x700")


def test_a_clashing_field_must_be_decided_and_a_resolved_conflict_opens_read_only(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    field_conflict(make_device, server)
    view = open_from_inbox(console_shell, open_screen, gui)
    grid = view.grid_tab
    gui.click(grid.row(PLACE).radios["current"])
    gui.type_text(view.reason_entry, "giữ theo máy a")
    gui.click(view.resolve_button)
    assert "«Số điện thoại»" in view.decision_message.cget("text")
    assert view.focus_get() == grid.row(PHONE).radios["current"]
    gui.press_keys("space")  # the focused radio: keep the current phone
    gui.click(view.resolve_button)
    gui.wait_until(lambda: view.detail["conflict"]["status"] == "resolved" and view.idle, 15)
    (row,) = admin.conflicts(status="resolved")["items"]

    # Opened again from the resolved list: read-only, the decision shown.
    gui.press_keys("Escape")
    inbox = console_shell.current_screen
    gui.wait_until(lambda: inbox.idle, 15)
    inbox.status_box.set("Đã giải quyết")
    inbox.status_box.event_generate("<<ComboboxSelected>>")
    gui.wait_until(lambda: inbox.idle and inbox.total == 1, 15)
    inbox.open_selected()
    gui.wait_until(lambda: console_shell.current == "conflict", 5)
    gui.wait_until(lambda: view.idle and view.detail["conflict"]["id"] == row["id"], 15)
    assert not view.decision.winfo_ismapped()
    assert all(r.var is None and not r.radios for r in view.grid_tab.rows)
    assert "giữ theo máy a" in view.result_tab.reason.cget("text")
    assert view.status_badge.cget("text") == "Đã giải quyết"


def test_a_cancellation_against_an_edit_keeps_the_dossier_when_it_is_decided_so(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: AdminClient,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    a, b = make_device(server, "a"), make_device(server, "b")
    dossier = a.store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    sync_all(a, b, rounds=1)
    a.store.update_dossier(dossier.id, {"tre_noi_sinh": PLACE_A})
    b.store.transition(dossier.id, "huy", note="nhầm hồ sơ")
    assert a.sync().applied == 1 and b.sync().conflicts == 1
    view = open_from_inbox(console_shell, open_screen, gui)
    assert view.heading_title.cget("text").startswith("Xoá/huỷ và sửa")
    status, place = view.grid_tab.row("status"), view.grid_tab.row(PLACE)
    assert texts(status)[1:] == ["Tiếp nhận", "Tiếp nhận", "Huỷ"]
    assert set(status.radios) == {"current", "incoming"} and status.entry is None
    gui.click(status.radios["current"])
    gui.click(place.radios["current"])
    gui.type_text(view.reason_entry, "hồ sơ đúng, không huỷ")
    gui.click(view.resolve_button)
    gui.wait_until(lambda: view.detail["conflict"]["status"] == "resolved" and view.idle, 15)
    sync_all(a, b)
    for device in (a, b):
        record = device.store.get_dossier(dossier.id)
        assert record.status == "tiep_nhan" and record.record[PLACE] == PLACE_A


def test_a_deletion_against_an_edit_asks_to_keep_or_delete_the_whole_record(gui: Any) -> None:
    from desktop.ui.console.conflict_fields import ChoiceProblem, FieldGrid

    info = {
        "version": 2,
        "commune": COMMUNE,
        "device_id": "d1",
        "device_label": "PC a",
        "clerk": "lan",
        "clock_ms": None,
        "received_at": None,
        "clock_suspect": False,
    }
    detail: Any = {
        "conflict": {"kind": "delete", "procedure": "khai_sinh", "status": "open"},
        "fields": [
            {
                "field": PLACE,
                "label": "Nơi sinh",
                "base": "A",
                "current": PLACE_A,
                "incoming": None,
                "differs": True,
                "clashing": True,
            }
        ],
        "base": info,
        "current": info,
        "incoming": info,
        "incoming_deletes": True,
        "current_deleted": False,
    }
    grid = FieldGrid(gui.root)
    grid.pack(fill="both", expand=True)
    grid.show(detail, editable=True)
    gui.pump(0.1)
    record, place = grid.row("_record"), grid.row(PLACE)
    assert texts(record)[1:] == ["Còn hồ sơ", "Còn hồ sơ", "Xoá/huỷ hồ sơ"]
    assert str(place.radios["incoming"].cget("state")) == "disabled"  # nothing comes in
    with pytest.raises(ChoiceProblem, match="Cả hồ sơ"):
        grid.choices()
    gui.click(record.radios["incoming"])
    assert grid.choices() == {"_record": {"take": "incoming"}}  # deleted: no field to decide
    gui.click(record.radios["current"])
    assert grid.choices() == {"_record": {"take": "current"}, PLACE: {"take": "current"}}
