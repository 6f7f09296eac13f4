"""Search: diacritic- and case-insensitive, đ→d, prefixes as you type, IDs and numbers."""

from __future__ import annotations

import unicodedata

import pytest

from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED, SAMPLES
from tests.store.factory import birth


@pytest.fixture
def filled(store: Store) -> dict[str, str]:
    ids = {}
    for code, data in SAMPLES.items():
        ids[code] = store.register_dossier(code, data, received_at=RECEIVED).id
    for i in range(30):
        store.register_dossier(
            "khai_sinh", birth(i, seed=7), received_at=RECEIVED, allow_duplicate=True
        )
    return ids


@pytest.mark.parametrize(
    "query",
    [
        "giang a xa",
        "Giàng A Xà",
        "GIANG A XA",
        "giang a x",
        "giàng a",
        unicodedata.normalize("NFD", "Giàng A Xà"),
    ],
)
def test_child_found_without_accents_and_while_typing(
    store: Store, filled: dict[str, str], query: str
) -> None:
    hits = store.search(query)
    assert filled["khai_sinh"] in [h.id for h in hits]


def test_d_with_stroke_folds_to_d(store: Store, filled: dict[str, str]) -> None:
    # The deceased is "Lò Văn Đức".
    for query in ("lo van duc", "Lò Văn Đức", "LO VAN ĐUC", "duc"):
        assert filled["khai_tu"] in [h.id for h in store.search(query)], query


def test_id_number_prefix_and_dossier_number(store: Store, filled: dict[str, str]) -> None:
    assert [h.id for h in store.search("015301001234")][0] == filled["khai_sinh"]
    assert filled["khai_sinh"] in [h.id for h in store.search("0153010")]
    record = store.get_dossier(filled["ket_hon"])
    hits = store.search(record.dossier_no)
    assert hits[0].id == filled["ket_hon"]
    assert hits[0].dossier_no == record.dossier_no
    assert filled["ket_hon"] in [h.id for h in store.search(record.dossier_no.lower())]


def test_exact_match_ranks_first(store: Store, filled: dict[str, str]) -> None:
    hits = store.search("sung thi mai")  # the bride, exactly
    assert hits[0].id == filled["ket_hon"]


def test_no_false_hits_and_empty_queries(store: Store, filled: dict[str, str]) -> None:
    assert store.search("zzzyyx") == []
    assert store.search("") == []
    assert store.search("  ,;-  ") == []
    assert len(store.search("giang", limit=3)) <= 3


def test_edits_and_remote_changes_reindex(store: Store, filled: dict[str, str]) -> None:
    store.update_dossier(filled["khai_sinh"], {"tre_ten": "Páo"})
    assert filled["khai_sinh"] not in [h.id for h in store.search("giang a xa")]
    assert filled["khai_sinh"] in [h.id for h in store.search("giang a pao")]


def test_fts_operators_in_the_query_are_plain_text(store: Store, filled: dict[str, str]) -> None:
    for query in ('"', "a OR b", "NEAR(", "x*y", "-giang", "giang AND", "^a"):
        store.search(query)  # must not raise
    data = dict(BIRTH)
    assert store.search(data["tre_ho"] + " *")


def test_short_digit_runs_match_whole_and_ids_from_seven_digits(
    store: Store, filled: dict[str, str]
) -> None:
    from desktop.store import search

    assert search.phrase_expression(["0153"]) == '"0153"'
    assert search.phrase_expression(["0153010"]) == '"0153010"*'
    assert search.phrase_expression(["giang", "a", "x"]) == '"giang a x"*'
    assert search.loose_expression(["xa", "12345"]) == '"xa"* "12345"'
    assert filled["khai_sinh"] not in [h.id for h in store.search("01530")]
    assert filled["khai_sinh"] in [h.id for h in store.search("0153010")]
