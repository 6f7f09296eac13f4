"""Tests of joining and proposing the parts of a person's name."""

from __future__ import annotations

from desktop.forms.names import full_name, propose_name_parts


def test_full_name_joins_parts_and_skips_an_empty_middle_name() -> None:
    assert full_name("Giàng", "A", "Xà") == "Giàng A Xà"
    assert full_name("Lò", "", "Đức") == "Lò Đức"
    assert full_name(" Nguyễn ", "Thị  Thu", "Hà") == "Nguyễn Thị Thu Hà"


def test_propose_name_parts_is_first_middle_last() -> None:
    assert propose_name_parts("Nguyễn Thị Thu Hà") == ("Nguyễn", "Thị Thu", "Hà")
    assert propose_name_parts("Lò Đức") == ("Lò", "", "Đức")
    assert propose_name_parts("Xà") == ("", "", "Xà")
    assert propose_name_parts("  ") == ("", "", "")
