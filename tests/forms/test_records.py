"""Tests of procedure data in flat dossier records (``data.<name>`` keys)."""

from __future__ import annotations

from desktop.forms.records import record_data, record_fields


def test_record_data_reads_flat_and_nested_records() -> None:
    flat = {"procedure": "khai_sinh", "data.tre_ho": "Giàng", "data.tre_ten": "Xà"}
    assert record_data(flat) == {"tre_ho": "Giàng", "tre_ten": "Xà"}
    nested = {"procedure": "khai_sinh", "data": {"tre_ho": "Giàng"}}
    assert record_data(nested) == {"tre_ho": "Giàng"}
    assert record_fields({"tre_ho": "Giàng"}) == {"data.tre_ho": "Giàng"}
    assert record_data(record_fields({"a": "1", "b": "2"})) == {"a": "1", "b": "2"}
