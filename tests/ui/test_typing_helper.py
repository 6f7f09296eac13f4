"""The GUI tests' typing helper delivers every Vietnamese letter as a real key press."""

from __future__ import annotations

import pytest
import ttkbootstrap as ttk

pytestmark = pytest.mark.gui

ALL_LETTERS = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"


def test_typing_vietnamese_in_both_cases(gui) -> None:
    entry = ttk.Entry(gui.root, width=80)
    entry.pack()
    text = "Giàng A Páo, Sùng Thị Mỷ; ĐỖ ÁNH Ở ỨNG " + ALL_LETTERS + ALL_LETTERS.upper()
    gui.type_text(entry, text)
    gui.wait_until(lambda: entry.get() == text, timeout=5)
