"""The search screen: one box, diacritic-insensitive, results as you type, Enter opens."""

from __future__ import annotations

import pytest

from desktop.ui.screen_search import SearchScreen
from tests.ui.dossier_support import (  # noqa: F401
    birth_data,
    shell,
    store,
    type_vietnamese,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def dossiers(store):  # noqa: F811
    """Three births: Giàng A Xà, Giàng Thị Mỷ and Đỗ Văn Đức."""
    made = {}
    for ho, dem, ten, mother_id in (
        ("Giàng", "A", "Xà", "015190001111"),
        ("Giàng", "Thị", "Mỷ", "015190002222"),
        ("Đỗ", "Văn", "Đức", "015190003333"),
    ):
        record = store.register_dossier(
            "khai_sinh",
            birth_data(
                tre_ho=ho,
                tre_chu_dem=dem,
                tre_ten=ten,
                tre_gioi_tinh="Nữ" if dem == "Thị" else "Nam",
                me_so_dinh_danh=mother_id,
                nguoi_yeu_cau_ho_ten=f"{ho} Văn Pao",
            ),
        )
        made[f"{ho} {dem} {ten}"] = record
    return made


def open_search(gui, shell) -> SearchScreen:  # noqa: F811
    gui.focus(shell.nav_buttons["dashboard"])
    gui.press_keys("ctrl+f")
    gui.wait_until(lambda: shell.current == "search")
    screen = shell.current_screen
    assert isinstance(screen, SearchScreen)
    gui.wait_until(lambda: gui.root.focus_get() == screen.entry)
    return screen


def names(screen: SearchScreen) -> list[str]:
    return [screen.tree.item(i, "values")[1] for i in screen.tree.get_children()]


def test_unaccented_typing_finds_the_accented_name(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    gui.type_text(screen.entry, "giang a xa")
    gui.wait_until(lambda: screen.idle and names(screen) == ["Giàng A Xà"], 5)
    assert screen.count_label.cget("text") == "1 hồ sơ"
    values = screen.tree.item(screen.tree.get_children()[0], "values")
    assert values[0] == dossiers["Giàng A Xà"].dossier_no
    assert values[2] == "Đăng ký khai sinh"
    assert values[5] == "Tiếp nhận"
    gui.screenshot("search_results")


def test_d_with_stroke_is_found_by_plain_d_and_accents_work_too(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    gui.type_text(screen.entry, "do van duc")
    gui.wait_until(lambda: screen.idle and names(screen) == ["Đỗ Văn Đức"], 5)
    screen.entry.delete(0, "end")
    type_vietnamese(gui, screen.entry, "giàng")
    gui.wait_until(lambda: screen.idle and len(names(screen)) == 2, 5)
    assert set(names(screen)) == {"Giàng A Xà", "Giàng Thị Mỷ"}


def test_search_by_dossier_number_and_personal_id(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    number = dossiers["Đỗ Văn Đức"].dossier_no
    screen.search(number)
    gui.wait_until(lambda: screen.idle and names(screen) == ["Đỗ Văn Đức"], 5)
    screen.search("015190002222")  # the mother's personal ID
    gui.wait_until(lambda: screen.idle and names(screen) == ["Giàng Thị Mỷ"], 5)


def test_enter_opens_the_first_result_and_arrows_choose_another(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    gui.type_text(screen.entry, "giang")
    gui.wait_until(lambda: screen.idle and len(names(screen)) == 2, 5)
    second = screen.tree.get_children()[1]
    gui.press_keys("Down", "Down", "Return")
    gui.wait_until(lambda: shell.current == "dossier_detail")
    assert shell.current_screen.dossier_id == second

    gui.press_keys("ctrl+f")
    gui.wait_until(lambda: shell.current == "search" and gui.root.focus_get() == screen.entry)
    gui.press_keys("Return")
    gui.wait_until(lambda: shell.current == "dossier_detail")
    assert shell.current_screen.dossier_id == screen.tree.get_children()[0]


def test_no_match_says_what_to_try(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    gui.type_text(screen.entry, "khong co ai")
    gui.wait_until(lambda: screen.idle and "Không tìm thấy" in screen.count_label.cget("text"))
    assert names(screen) == []
    gui.screenshot("search_no_results")


def test_fast_typing_asks_the_store_once_per_pause(gui, shell, store, dossiers, monkeypatch):  # noqa: F811
    calls = []
    real = store.search

    def counting(text, limit=50):
        calls.append(text)
        return real(text, limit)

    monkeypatch.setattr(store, "search", counting)
    screen = open_search(gui, shell)
    gui.type_text(screen.entry, "giang thi my")
    gui.wait_until(lambda: screen.idle and names(screen) == ["Giàng Thị Mỷ"], 5)
    assert calls[-1] == "giang thi my"
    assert len(calls) <= 3  # one per pause, not one per key (12 keys)


def test_an_answer_to_an_older_query_is_dropped(gui, shell, dossiers):  # noqa: F811
    screen = open_search(gui, shell)
    screen.search("giang a xa")
    gui.wait_until(lambda: screen.idle)
    shown = names(screen)
    screen._asked += 1  # a newer query is on its way
    screen._show(screen._asked - 1, "do", [])
    assert names(screen) == shown
