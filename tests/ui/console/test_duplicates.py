"""The duplicate review screen against the real server, with real commune PCs.

A birth registered in two communes (two PCs, each syncing with a real ``motcua-server``) shows
up in the console's "Hồ sơ nghi trùng" list; opening it shows both dossiers side by side with
the evidence, the fields that made them suspected highlighted. Marking one the duplicate of
the other through the GUI (real clicks and typing) keeps both records — on the server, in the
record's history and on the PCs after they sync — with ``duplicate_of`` on the duplicate only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from desktop.ui.console.duplicate_view import MATCHED_BG
from tests.forms.samples import RECEIVED
from tests.store.factory import birth
from tests.sync.conftest import server_records
from tests.ui.console.conftest import COMMUNE, OTHER_COMMUNE, Device, ServerProcess, sync_all

pytestmark = pytest.mark.gui

REASON = "cùng một trẻ, mẹ đăng ký hai nơi"
PLACE_Y = "Bệnh viện Đa khoa tỉnh Lào Cai"


def _birth_in_two_communes(server: ServerProcess, make_device: Callable[..., Device]) -> Any:
    """One birth registered on a PC of each commune (the second with another birthplace)."""
    x = make_device(server, "x", commune=COMMUNE)
    y = make_device(server, "y", commune=OTHER_COMMUNE)
    same = birth(7)
    on_x = x.store.register_dossier("khai_sinh", same, received_at=RECEIVED)
    sync_all(x, rounds=1)
    on_y = y.store.register_dossier(
        "khai_sinh", {**same, "tre_noi_sinh": PLACE_Y}, received_at=RECEIVED
    )
    sync_all(y, x, rounds=1)
    return x, y, on_x, on_y, same


def _loaded(screen: Any) -> bool:
    return bool(screen.tree.get_children()) and bool(screen.evidence.tree.get_children())


def _evidence(screen: Any) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    tree = screen.evidence.tree
    return {
        iid: (tuple(tree.item(iid, "values")), tuple(tree.item(iid, "tags")))
        for iid in tree.get_children()
    }


def test_a_duplicate_birth_is_shown_side_by_side_and_marked_without_losing_either(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    x, y, on_x, on_y, same = _birth_in_two_communes(server, make_device)
    screen = open_screen(console_shell, "duplicates")
    gui.wait_until(lambda: _loaded(screen), 10)

    # The list: one open suspected duplicate, the child's name and both communes.
    (row,) = [screen.tree.item(i, "values") for i in screen.tree.get_children()]
    assert row[0] == "Hoàng Thị Ánh" and row[1] == "Khai sinh"
    assert row[2] == "Xã mã 02704" and row[3] == "Xã Y Tý"
    assert "1–1 trong 1" in screen.count_label.cget("text")
    # Both dossiers side by side: A is y's (its arrival raised it), B is x's.
    a_no, b_no = on_y.dossier_no, on_x.dossier_no
    assert screen.card_a.values["made"].cget("text") == "PC y · lan"
    assert screen.card_b.values["made"].cget("text") == "PC x · lan"
    assert screen.card_a.title == f"Hồ sơ A — Xã mã 02704 · số {a_no}"
    assert screen.card_b.title == f"Hồ sơ B — Xã Y Tý · số {b_no}"
    # The evidence: the key's fields matched and highlighted, the birthplace differs.
    rows = _evidence(screen)
    matched = {"data.tre_ho", "data.tre_ten", "data.tre_ngay_sinh", "data.me_so_dinh_danh"}
    for key in matched:
        values, tags = rows[key]
        assert values[3] == "Trùng" and tags == ("matched",), (key, values, tags)
    assert rows["data.tre_ngay_sinh"][0][1:3] == ("27/01/2026", "27/01/2026")
    place, place_tags = rows["data.tre_noi_sinh"]
    assert place[1:] == (PLACE_Y, same["tre_noi_sinh"], "Khác") and place_tags == ("differs",)
    assert str(screen.evidence.tree.tag_configure("matched", "background")) == MATCHED_BG
    gui.screenshot("console-duplicates")

    # A decision needs a reason.
    mark = screen.decision_buttons["a_duplicate_of_b"]
    gui.click(mark)
    assert "lý do" in screen.outcome.cget("text")
    assert admin.conflicts(kind="duplicate")["total"] == 1
    gui.type_text(screen.reason_entry, REASON)
    gui.click(mark)
    gui.wait_until(lambda: "Đã quyết định lúc" in screen.outcome.cget("text"), 10)
    said = screen.outcome.cget("text")
    assert f"hồ sơ A ({a_no}, Xã mã 02704) là bản trùng của hồ sơ B ({b_no}, Xã Y Tý)" in said
    assert f"Lý do: {REASON}" in said and "Không hồ sơ nào bị xoá" in said
    assert str(mark.cget("state")) == "disabled"
    assert str(screen.reason_entry.cget("state")) == "disabled"
    assert "bản trùng" in screen.card_a.values["status"].cget("text")
    gui.wait_until(lambda: not screen.tree.get_children(), 10)  # no longer open
    assert any("Không hồ sơ nào bị xoá" in text for text, _ in console_shell.toasts)

    # Nothing deleted: both records on the server, the mark in A's history, both on the PCs.
    assert on_x.id in server_records(server.db, COMMUNE)
    assert server_records(server.db, OTHER_COMMUNE)[on_y.id]["duplicate_of"] == on_x.id
    last = admin.history(on_y.id)[-1]
    assert last["kind"] == "resolution" and last["changed"] == {"duplicate_of": on_x.id}
    sync_all(x, y)
    assert y.store.get_dossier(on_y.id).duplicate_of == on_x.id
    assert x.store.get_dossier(on_x.id).duplicate_of is None
    (entry,) = [e for e in y.store.audit_trail(on_y.id) if e.action == "sync.resolution"]
    assert REASON in entry.summary

    # Opened from the inbox later, the decided duplicate is listed with its peers, read-only.
    conflict_id = admin.conflicts(kind="duplicate", status="resolved")["items"][0]["id"]
    console_shell.navigate("help")
    console_shell.navigate("duplicates", conflict_id=conflict_id)
    gui.wait_until(lambda: screen.tree.exists(str(conflict_id)), 10)
    assert screen.status_box.get() == "Đã quyết định"
    assert screen.tree.selection() == (str(conflict_id),)
    gui.wait_until(lambda: "Đã quyết định lúc" in screen.outcome.cget("text"), 10)
    assert screen.reason_entry.get() == REASON
    gui.wait_until(lambda: not console_shell.toast_label.winfo_ismapped(), 5)
    gui.screenshot("console-duplicates-decided")


def test_keeping_both_by_keyboard_closes_it_and_changes_neither(
    server: ServerProcess,
    make_device: Callable[..., Device],
    admin: Any,
    console_shell: Any,
    open_screen: Callable[..., Any],
    gui: Any,
) -> None:
    x, y, on_x, on_y, _ = _birth_in_two_communes(server, make_device)
    screen = open_screen(console_shell, "duplicates")
    gui.wait_until(lambda: _loaded(screen), 10)
    gui.type_text(screen.reason_entry, "hai trẻ sinh đôi")
    gui.press_keys("Tab")  # the first decision button: keep both
    assert screen.focus_get() == screen.decision_buttons["keep_both"]
    gui.press_keys("Return")
    gui.wait_until(lambda: "Đã quyết định lúc" in screen.outcome.cget("text"), 10)
    assert "giữ cả hai hồ sơ" in screen.outcome.cget("text")
    assert admin.conflicts(kind="duplicate")["total"] == 0
    sync_all(x, y)
    assert x.store.get_dossier(on_x.id).duplicate_of is None
    assert y.store.get_dossier(on_y.id).duplicate_of is None
    assert on_x.id in server_records(server.db, COMMUNE)
    assert on_y.id in server_records(server.db, OTHER_COMMUNE)
