"""Domain conflicts: the same birth registered twice, two dossiers with one book number."""

from __future__ import annotations

from server.service import SyncServer
from tests.server.test_sync import BIRTH, NewDevice


def test_same_birth_in_two_communes_is_a_duplicate(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b = new_device("02701"), new_device("02702")
    r1 = a.create(dict(BIRTH))
    r2 = b.create({**BIRTH, "data.tre_ten": "PÁO", "data.tre_chu_dem": "a", "commune": "02702"})
    a.sync()
    result = b.sync()["results"][0]
    assert result["status"] == "applied" and result["conflict_ids"]
    [dup] = server.conflicts()
    assert dup["kind"] == "duplicate"
    assert {dup["entity_id"], dup["other_entity_id"]} == {r1, r2}
    # Both stay; a resync does not raise it twice.
    b.edit(r2, status="dang_xu_ly")
    b.sync()
    assert len(server.conflicts()) == 1
    server.resolve(dup["id"], take="current", reason="hai trẻ khác nhau")
    assert server.conflicts() == []


def test_same_book_number_is_a_conflict(server: SyncServer, new_device: NewDevice) -> None:
    a, b = new_device(), new_device()
    book = {"book_type": "KS", "book_year": 2026, "book_number": 7}
    a.create({**BIRTH, **book})
    b.create({**BIRTH, **book, "data.me_so_dinh_danh": "010199009999", "data.tre_ten": "Lử"})
    a.sync()
    b.sync()
    kinds = [c["kind"] for c in server.conflicts()]
    assert kinds == ["book_number"]


def test_duplicates_inside_one_batch_are_found_once(
    server: SyncServer, new_device: NewDevice
) -> None:
    a, b = new_device(), new_device()
    first = a.create(dict(BIRTH))
    second = a.create({**BIRTH, "data.tre_ten": "páo"})  # the same birth typed twice
    results = a.sync()["results"]
    assert "conflict_ids" not in results[0] and len(results[1]["conflict_ids"]) == 1
    [dup] = server.conflicts()
    assert {dup["entity_id"], dup["other_entity_id"]} == {first, second}
    # A create then an edit in one batch is checked at its final state against the others.
    third = b.create({**BIRTH, "data.me_so_dinh_danh": "010199004444"})
    b.edit(third, **{"data.me_so_dinh_danh": BIRTH["data.me_so_dinh_danh"]})
    results = b.sync()["results"]
    assert [len(r.get("conflict_ids", [])) for r in results] == [0, 2]
    assert len(server.conflicts()) == 3
