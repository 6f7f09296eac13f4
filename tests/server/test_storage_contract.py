"""The storage contract: one suite that the SQLite and the PostgreSQL backends both pass.

(Kinto's kinto/core/storage/testing.py idea.) Every test runs once per backend through the
``db_url`` fixture, each on a fresh database.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from server.migrations import MIGRATIONS, applied_migrations
from server.rows import ChangeRow, NewConflict, RecordRow
from server.storage import Storage


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    s = Storage(db_url)
    s.migrate()
    yield s
    s.dispose()


def _change(seq: int, chain: str, **over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "server_seq": seq,
        "chain": chain,
        "change_id": f"c{seq}",
        "device_id": "dev1",
        "device_seq": seq,
        "entity": "dossier",
        "entity_id": "r1",
        "commune": "02701",
        "op": "upsert",
        "base_version": 0,
        "new_version": seq,
        "fields": {"a": [None, seq]},
        "applied": {"a": [None, seq]},
        "hlc": "1764145000000-0000-dev1",
        "clerk": "lan",
        "status": "applied",
        "reason": None,
        "conflict_ids": [],
        "kind": "change",
        "parents": None,
        "signature": None,
        "received_at": 1,
    }
    row.update(over)
    return row


def _append(storage: Storage, **over: object) -> int:
    with storage.write() as tx:
        change_id = str(over.get("change_id", "x"))
        seq, chain = tx.next_seq(change_id)
        row = _change(seq, chain, **over)
        row["change_id"] = over.get("change_id", f"c{seq}")
        row["device_seq"] = over.get("device_seq", seq)
        tx.insert_change(ChangeRow(**row))
        return seq


def test_migrations_are_recorded_and_run_once(db_url: str) -> None:
    s = Storage(db_url)
    try:
        assert applied_migrations(s.engine) == []
        assert s.migrate() == [name for name, _ in MIGRATIONS]
        assert s.migrate() == []
        assert applied_migrations(s.engine) == sorted(name for name, _ in MIGRATIONS)
    finally:
        s.dispose()


def test_meta_values(storage: Storage) -> None:
    with storage.write() as tx:
        assert tx.get_meta("epoch") is None
        tx.set_meta("epoch", "one")
        tx.set_meta("epoch", "two")
    with storage.read() as tx:
        assert tx.get_meta("epoch") == "two"


def test_server_seq_is_gap_free_and_chained(storage: Storage) -> None:
    chain = "0" * 64
    for i in range(1, 6):
        with storage.write() as tx:
            seq, new_chain = tx.next_seq(f"c{i}")
        chain = hashlib.sha256(bytes.fromhex(chain) + f"c{i}".encode()).hexdigest()
        assert (seq, new_chain) == (i, chain)
    with storage.read() as tx:
        assert tx.head() == (5, chain)
        with pytest.raises(RuntimeError):
            tx.next_seq("nope")


def test_a_failed_transaction_stores_nothing(storage: Storage) -> None:
    with pytest.raises(ZeroDivisionError), storage.write() as tx:
        tx.next_seq("c1")
        tx.set_meta("epoch", "x")
        1 / 0  # noqa: B018
    with storage.read() as tx:
        assert tx.head()[0] == 0
        assert tx.get_meta("epoch") is None


def test_concurrent_writers_get_gap_free_numbers(storage: Storage) -> None:
    got: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(15):
            with storage.write() as tx:
                seq, _ = tx.next_seq("c")
            with lock:
                got.append(seq)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 61))


def test_devices(storage: Storage) -> None:
    with storage.write() as tx:
        tx.insert_device("d1", "02701", "PC 1", {"sign": "x"}, "k1", 100)
        tx.insert_device("d2", "02702", "PC 2", {"sign": "y"}, "k2", 50)
        tx.update_device("d1", status="revoked", status_reason="stolen", last_device_seq=7)
    with storage.read() as tx:
        d1 = tx.get_device("d1")
        assert d1 is not None
        assert (d1.status, d1.status_reason, d1.last_device_seq) == ("revoked", "stolen", 7)
        assert d1.keys == {"sign": "x"}
        assert tx.get_device("nope") is None
        assert [d.device_id for d in tx.list_devices()] == ["d1", "d2"]


def test_enrol_codes(storage: Storage) -> None:
    with storage.write() as tx:
        cid = tx.insert_code(b"k" * 32, "02701", 1, 2)
        tx.insert_code(b"j" * 32, "02702", 1, 2)
        tx.mark_code_used(cid, "d1", 5)
    with storage.read() as tx:
        codes = tx.codes_for_commune("02701")
        assert len(codes) == 1
        assert bytes(codes[0]["code_key"]) == b"k" * 32
        assert (codes[0]["used_by"], codes[0]["used_at"]) == ("d1", 5)


def test_change_log_lookup_and_uniqueness(storage: Storage) -> None:
    seq = _append(storage, change_id="abc", device_seq=1)
    with storage.read() as tx:
        row = tx.change_by_device_seq("dev1", 1)
        assert row is not None and row.change_id == "abc" and row.server_seq == seq
        assert row.fields == {"a": [None, 1]}
        assert tx.change_by_id("abc") == row == tx.change_at(seq)
        assert tx.change_by_device_seq("dev1", 2) is None
    with pytest.raises(IntegrityError):
        _append(storage, change_id="other", device_seq=1)
    with storage.read() as tx:
        assert tx.head()[0] == seq  # the failed append left no trace


def test_contiguous_device_seq(storage: Storage) -> None:
    for s in (1, 2, 3, 5):
        _append(storage, device_seq=s)
    with storage.read() as tx:
        assert tx.contiguous_device_seq("dev1") == 3
        assert tx.contiguous_device_seq("other") == 0


def test_pull_filters_commune_status_device_and_bounds(storage: Storage) -> None:
    _append(storage, device_id="d1", device_seq=1)
    _append(storage, device_id="d2", device_seq=1)
    _append(storage, device_id="d2", device_seq=2, commune="02702")
    _append(storage, device_id="d2", device_seq=3, status="conflict", new_version=None)
    _append(storage, device_id="d2", device_seq=4, status="merged")
    _append(storage, device_id="server", device_seq=None, kind="resolution")
    with storage.read() as tx:
        assert [c.server_seq for c in tx.pull("02701", 0, 6, "d1", 100)] == [2, 5, 6]
        assert [c.server_seq for c in tx.pull("02701", 2, 5, "d1", 100)] == [5]
        assert [c.server_seq for c in tx.pull("02701", 0, 6, "d1", 2)] == [2, 5]
        assert [c.server_seq for c in tx.pull("02702", 0, 6, "d1", 100)] == [3]


def test_records_versions_and_keys(storage: Storage) -> None:
    rec = RecordRow("dossier", "r1", "02701", 1, {"a": 1}, {"a": 1}, False, 1, "dup", "bk")
    with storage.write() as tx:
        tx.put_record(rec, new=True)
        tx.insert_version(rec, server_seq=1, change_id="c1", device_id="d1", changed={"a": 1})
        rec2 = RecordRow("dossier", "r1", "02701", 2, {"a": 2}, {"a": 2}, False, 2, "dup", "bk")
        tx.put_record(rec2, new=False)
        tx.insert_version(rec2, server_seq=2, change_id="c2", device_id="d2", changed={"a": 2})
        other = RecordRow("dossier", "r2", "02702", 1, {"a": 3}, {}, False, 3, "dup", None)
        tx.put_record(other, new=True)
        gone = RecordRow("dossier", "r3", "02701", 1, {}, {}, True, 4, "dup", "bk")
        tx.put_record(gone, new=True)
    with storage.read() as tx:
        assert tx.get_record("dossier", "r1") == rec2
        assert tx.get_record("dossier", "nope") is None
        versions = tx.versions("dossier", "r1", after=0)
        assert [(v["version"], v["device_id"], v["changed"]) for v in versions] == [
            (1, "d1", {"a": 1}),
            (2, "d2", {"a": 2}),
        ]
        assert [v["version"] for v in tx.versions("dossier", "r1", after=1)] == [2]
        assert tx.version_values("dossier", "r1", 1) == {"a": 1}
        assert [r.entity_id for r in tx.records_with_key("dup_key", "dup", "r1")] == ["r2"]
        assert tx.records_with_key("book_key", "bk", "r1") == []
        snap = tx.pull_snapshot("02701", 0, 10, 10)
        assert [r.entity_id for r in snap] == ["r1", "r3"]


def test_conflicts(storage: Storage) -> None:
    common = {
        "entity": "dossier",
        "commune": "02701",
        "change_id": "c1",
        "server_seq": 1,
        "base_version": 1,
        "current_version": 2,
        "fields": ["a"],
        "base": {"a": 1},
        "current": {"a": 2},
        "incoming": {"a": 3},
        "device_id": "d1",
        "clerk": "lan",
        "hlc": "h",
        "created_at": 5,
    }
    with storage.write() as tx:
        one = tx.insert_conflict(NewConflict(kind="field", entity_id="r1", **common))
        two = tx.insert_conflict(
            NewConflict(
                kind="duplicate",
                entity_id="r2",
                other_entity_id="r3",
                other_commune="02702",
                **common,
            )
        )
    with storage.read() as tx:
        assert tx.count_open_conflicts() == 2
        assert tx.count_open_conflicts("02702") == 1
        assert tx.open_conflict_between("duplicate", "r3", "r2")
        assert not tx.open_conflict_between("book_number", "r3", "r2")
        got = tx.get_conflict(one)
        assert got is not None and got["incoming"] == {"a": 3} and got["status"] == "open"
    with storage.write() as tx:
        tx.resolve_conflict(two, "res1", "same child", 9)
    with storage.read() as tx:
        assert [c["id"] for c in tx.list_conflicts("open")] == [one]
        assert len(tx.list_conflicts()) == 2
        resolved = tx.get_conflict(two)
        assert resolved is not None and resolved["resolution_change_id"] == "res1"


def test_book_blocks_never_overlap(storage: Storage) -> None:
    with storage.write() as tx:
        a = tx.grant_block("02701", "KS", 2026, "d1", 100, 1)
        b = tx.grant_block("02701", "KS", 2026, "d2", 100, 1)
        c = tx.grant_block("02702", "KS", 2026, "d3", 100, 1)
    assert (a["start"], a["end"], b["start"], b["end"], c["start"]) == (1, 100, 101, 200, 1)
    with storage.read() as tx:
        found = tx.block_after("02701", "KS", 2026, "d2", 0)
        assert found is not None and found["start"] == 101
        assert tx.block_after("02701", "KS", 2026, "d2", 200) is None


def test_attachment_chunks(storage: Storage) -> None:
    with storage.write() as tx:
        tx.insert_attachment("f" * 64, 6, "d1", "02701", 1)
        tx.add_chunk("f" * 64, 0, b"abc")
        tx.add_chunk("f" * 64, 3, b"def")
    with storage.read() as tx:
        row = tx.get_attachment("f" * 64)
        assert row is not None and row["received"] == 6 and not row["complete"]
        assert tx.attachment_content("f" * 64) == b"abcdef"
    with storage.write() as tx:
        tx.reset_attachment("f" * 64)
    with storage.read() as tx:
        row = tx.get_attachment("f" * 64)
        assert row is not None and row["received"] == 0
        assert tx.attachment_content("f" * 64) == b""


def test_batches_and_sessions(storage: Storage) -> None:
    with storage.write() as tx:
        assert tx.remember_batch("d1", "b1", 10)
        assert not tx.remember_batch("d1", "b1", 11)
        assert tx.remember_batch("d2", "b1", 10)
        assert tx.prune_batches(11) == 2
        assert tx.remember_batch("d1", "b1", 12)
        tx.insert_session("s1", "d1", b"k" * 32, 100)
        tx.insert_session("s2", "d1", b"k" * 32, 300)
        tx.prune_sessions(200)
    with storage.read() as tx:
        assert tx.get_session("s1") is None
        s2 = tx.get_session("s2")
        assert s2 is not None and bytes(s2["key"]) == b"k" * 32
    with storage.write() as tx:
        tx.drop_sessions("d1")
        assert tx.get_session("s2") is None
