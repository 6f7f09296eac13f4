"""UUIDv7, the hybrid logical clock, and the single writer with per-thread readers."""

from __future__ import annotations

import threading
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.store import hlc
from desktop.store.ids import uuid7, uuid7_time_ms
from desktop.store.store import Store
from tests.forms.samples import RECEIVED
from tests.store.factory import birth


def test_uuid7_is_version_7_and_increasing() -> None:
    ids = [uuid7() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    u = uuid.UUID(ids[0])
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert abs(uuid7_time_ms(ids[0]) - __import__("time").time() * 1000) < 5000


def test_hlc_is_monotonic_when_the_wall_clock_goes_back() -> None:
    wall = [1_000_000]
    clock = hlc.HybridClock("dev", wall_ms=lambda: wall[0])
    a = clock.now()
    wall[0] -= 50_000  # the CMOS battery died
    b = clock.now()
    assert b > a and hlc.parse_hlc(b)[0] == 1_000_000
    restarted = hlc.HybridClock("dev", last=b, wall_ms=lambda: wall[0])
    assert restarted.now() > b


def test_hlc_follows_remote_stamps_but_not_too_far() -> None:
    wall = [2_000_000]
    clock = hlc.HybridClock("dev", wall_ms=lambda: wall[0])
    assert clock.update(hlc.format_hlc(2_000_500, 7, "other")) is True
    assert clock.now() > hlc.format_hlc(2_000_500, 7, "other")
    far = hlc.format_hlc(wall[0] + hlc.MAX_FORWARD_MS + 1, 0, "liar")
    assert clock.update(far) is False
    assert hlc.parse_hlc(clock.now())[0] < wall[0] + 10_000
    with pytest.raises(ValueError):
        clock.update("garbage")


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(-10_000, 10_000), st.integers(0, 9999)), max_size=60
    )
)
def test_hlc_stamps_always_increase(steps: list[tuple[bool, int, int]]) -> None:
    wall = [5_000_000_000_000]
    clock = hlc.HybridClock("dev", wall_ms=lambda: wall[0])
    last = clock.now()
    for is_remote, delta, counter in steps:
        wall[0] += delta // 10
        if is_remote:
            remote = hlc.format_hlc(wall[0] + delta, counter, "r")
            clock.update(remote)
            stamp = clock.now()
            assert stamp > remote or hlc.parse_hlc(remote)[0] > wall[0] + hlc.MAX_FORWARD_MS
        else:
            stamp = clock.now()
        assert stamp > last
        assert len(stamp.split("-")[0]) == 13
        last = stamp


def test_reads_on_another_thread_while_the_writer_writes(store: Store) -> None:
    errors: list[BaseException] = []
    counts: list[list[int]] = [[], []]
    stop = threading.Event()

    def reader(mine: list[int]) -> None:
        try:
            while not stop.is_set():
                mine.append(store.count_dossiers())
                store.search("giang")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(counts[i],)) for i in range(2)]
    for t in threads:
        t.start()
    writers = [
        threading.Thread(
            target=lambda k=k: [
                store.register_dossier("khai_sinh", birth(k * 100 + i), received_at=RECEIVED)
                for i in range(10)
            ]
        )
        for k in range(3)
    ]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_dossiers() == 30
    for seen in counts:  # each reader only ever sees committed, growing state
        assert seen == sorted(seen) and seen
    assert [c.device_seq for c in store.all_changes()] == list(range(1, 31))


def test_closed_store_refuses_work(store: Store) -> None:
    store.warm_up()
    store.close()
    from desktop.store.errors import StoreClosed

    with pytest.raises(StoreClosed):
        store.count_dossiers()
    with pytest.raises(StoreClosed):
        store.save_draft("k", "khai_sinh", {})
    store.close()  # twice is fine
