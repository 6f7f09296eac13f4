"""The import checker: whatever a file holds, it answers with a clear refusal or checked lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.store import importer
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_lines = st.one_of(
    st.text(max_size=60),
    _json_values.map(json.dumps),
    st.fixed_dictionaries(
        {
            "procedure": st.sampled_from(["khai_sinh", "khai_tu", "ket_hon", "x"]),
            "data": st.dictionaries(
                st.sampled_from(sorted(BIRTH)), st.text(max_size=15), max_size=6
            ),
        },
        optional={"received_at": st.text(max_size=25)},
    ).map(lambda d: json.dumps(d, ensure_ascii=False)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_lines, min_size=1, max_size=4))
def test_any_file_gets_a_clear_answer(store: Store, tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8")
    try:
        checked = importer.check_file(store, path)
    except importer.ImportFailed as exc:
        assert exc.problems and all(p.line_no >= 1 and p.message for p in exc.problems)
    else:
        assert all(isinstance(line, importer.ImportLine) for line in checked)
    assert store.count_dossiers() == 0  # checking never writes


def test_not_utf8_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes("Giàng".encode("cp1258"))
    with pytest.raises(importer.StoreError, match="cannot read"):
        importer.check_file(store, path)


def test_received_at_with_timezone_is_local(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "tz.jsonl"
    line = {"procedure": "khai_sinh", "received_at": RECEIVED.isoformat() + "+07:00", "data": BIRTH}
    path.write_text(json.dumps(line, ensure_ascii=False), encoding="utf-8")
    [checked] = importer.check_file(store, path)
    assert checked.prepared.received_at.tzinfo is None
