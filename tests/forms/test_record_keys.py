"""The Vietnamese names of a dossier record's keys, shared by the server and the console."""

from __future__ import annotations

from desktop.forms import record_keys
from protocol import admin


def test_a_form_field_takes_its_label_and_a_repeated_label_its_section() -> None:
    assert record_keys.field_label("khai_sinh", "data.tre_noi_sinh") == "Nơi sinh"
    child_id = record_keys.field_label("khai_sinh", "data.tre_so_dinh_danh")
    mother_id = record_keys.field_label("khai_sinh", "data.me_so_dinh_danh")
    assert child_id != mother_id
    assert child_id.startswith("Số định danh cá nhân (") and "(Mẹ)" in mother_id


def test_metadata_and_unknown_keys() -> None:
    assert record_keys.field_label("khai_sinh", "status") == "Trạng thái"
    assert record_keys.field_label(None, "duplicate_of") == "Trùng với hồ sơ"
    assert record_keys.field_label("khai_sinh", "data.ghi_chu_rieng") == "Ghi chu rieng"
    assert record_keys.field_label(None, "so_cu") == "So cu"
    # What a duplicate or a register-number conflict names as its clashing field.
    assert record_keys.field_label("khai_sinh", "dup_key") == "Cùng người, cùng sự kiện"
    assert record_keys.field_label("khai_sinh", "book_key") == "Số đăng ký trong sổ"


def test_the_duplicate_pointer_has_the_protocols_name() -> None:
    assert record_keys.DUPLICATE_OF_FIELD == admin.DUPLICATE_OF_FIELD


def test_keys_in_form_order() -> None:
    keys = ["data.me_ten", "data.tre_ten", "status", "zzz"]
    assert record_keys.in_form_order("khai_sinh", keys) == [
        "status",
        "data.tre_ten",
        "data.me_ten",
        "zzz",
    ]
