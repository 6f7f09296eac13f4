"""Fixtures and data shared by the dossier screen tests (new dossier, search, detail, flow).

A real encrypted store in a temp profile and a real shell with only the dossier screens
registered (the shell's own screens are tested by their owner). Import the fixtures into a
test module with ``from tests.ui.dossier_support import *``-style explicit imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The demo commune: Xã Khao Mang, Lào Cai.
COMMUNE = "04465"
CLERK = ("lan", "Lò Thị Lan")
PASSWORD = "mat-khau-Lan-2025"

#: A chip ID card QR payload (2021 design) of the mother, as a scanner types it.
MOTHER_QR = (
    "015190001234|123456789|Sùng Thị Mỷ|12041990|Nữ|"
    "Bản Khao Mang, Xã Khao Mang, Tỉnh Lào Cai|15072021"
)


def birth_data(today: dt.date | None = None, **overrides: str) -> dict[str, str]:
    """Return a valid birth declaration (a child born ten days ago), with overrides."""
    today = today or dt.date.today()
    data = {
        "nguoi_yeu_cau_ho_ten": "Giàng A Pao",
        "nguoi_yeu_cau_so_dinh_danh": "015088001234",
        "nguoi_yeu_cau_cu_tru": "Bản Khao Mang, xã Khao Mang, tỉnh Lào Cai",
        "nguoi_yeu_cau_quan_he": "Cha",
        "tre_ho": "Giàng",
        "tre_chu_dem": "A",
        "tre_ten": "Xà",
        "tre_gioi_tinh": "Nam",
        "tre_ngay_sinh": (today - dt.timedelta(days=10)).isoformat(),
        "tre_noi_sinh": "Trạm y tế xã Khao Mang",
        "tre_noi_sinh_tinh": "15",
        "tre_dan_toc": "Mông",
        "tre_quoc_tich": "Việt Nam",
        "me_ho_ten": "Sùng Thị Mỷ",
        "me_dan_toc": "Mông",
        "me_quoc_tich": "Việt Nam",
        "me_cu_tru": "Bản Khao Mang, xã Khao Mang, tỉnh Lào Cai",
    }
    data.update(overrides)
    return data


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    """Return a fresh encrypted store for the clerk "lan" of Xã Khao Mang."""
    from desktop.store.store import Store

    opened = Store.create(
        tmp_path / "profile",
        commune=COMMUNE,
        username=CLERK[0],
        password=PASSWORD,
        full_name=CLERK[1],
    )
    yield opened
    opened.close()


@pytest.fixture
def shell(root: Any, tasks: Any, store: Any, tmp_path: Path) -> Iterator[Any]:
    """Return a shown shell over ``store`` with the dossier screens registered."""
    from desktop.ui.screens_dossier import register
    from desktop.ui.services import Clerk
    from desktop.ui.settings import Settings
    from desktop.ui.shell import Shell

    built = Shell(
        root,
        store=store,
        tasks=tasks,
        settings=Settings(date_words_mung=False, date_words_zero_tens="linh"),
        clerk=Clerk(*CLERK),
        profile_dir=tmp_path / "profile",
        register_default_screens=False,
    )
    register(built)
    built.show()
    yield built
    if built.winfo_exists():
        built.destroy()


def wait_dialog(gui: Any, get_dialog: Any, timeout: float = 5.0) -> Any:
    """Wait until a dialog is open and has the keyboard focus (so keys go to it); return it."""

    def ready() -> bool:
        dialog = get_dialog()
        focus = gui.root.focus_get()
        return dialog is not None and focus is not None and str(focus).startswith(str(dialog))

    gui.wait_until(ready, timeout)
    return get_dialog()


def wait_idle(gui: Any, tasks: Any, timeout: float = 10.0) -> None:
    """Pump events until no background task is running."""
    gui.wait_until(lambda: not tasks.running(), timeout)


# -- typing Vietnamese with real key events ------------------------------------------------------


def map_keys(chars: str) -> bool:
    """Give every Vietnamese letter of ``chars`` a keycode of its own (conftest's key mapper),
    so that ``xdotool type`` from another process presses them as real keys.

    Returns:
        False when there is no X key mapper or more distinct letters than free keycodes.
    """
    from tests.ui.conftest import _keymapper

    mapper = _keymapper()
    letters = {c.lower() for c in chars if not c.isascii()}
    if mapper is None or len(letters) > len(mapper.slots):
        return False
    for letter in letters:
        mapper.ensure(letter, keep=letters)
    return True


def type_vietnamese(gui: Any, widget: Any, text: str) -> None:
    """Type ``text`` into ``widget`` with real key events, Vietnamese letters included."""
    gui.type_text(widget, text)
