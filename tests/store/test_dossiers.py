"""Dossiers: saving, validation, duplicates, edits, lifecycle, register numbers, lists."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.forms.validation_result import ValidationError
from desktop.store import dossiers
from desktop.store.errors import DossierNotFound, DuplicateDossier, InvalidTransition
from desktop.store.store import Store
from tests.forms.samples import BIRTH, RECEIVED, SAMPLES
from tests.store.factory import birth


def test_register_saves_a_flat_record_with_its_outbox_entry(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    again = store.get_dossier(record.id)
    assert again.record == record.record
    assert again.status == "tiep_nhan"
    assert again.record["procedure"] == "khai_sinh"
    assert again.record["commune"] == "02701"
    assert again.record["data.tre_ten"] == "Xà"
    assert again.received_at == "2026-03-10T09:30:00"
    assert again.due_at == "2026-03-10"  # birth: same day
    assert again.late is False
    assert again.dossier_no.startswith("02701-20260310-")
    [change] = store.pending_changes()
    assert change.entity == "dossier" and change.entity_id == record.id
    assert change.op == "upsert" and change.base_version == 0
    assert change.device_id == store.device_id and change.clerk == "lan"
    assert change.fields["data.tre_ten"] == [None, "Xà"]
    assert all(old is None for old, _ in change.fields.values())
    assert {k: new for k, (_, new) in change.fields.items()} == record.record
    assert store.status_history(record.id)[0].to_status == "tiep_nhan"


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_every_procedure_can_be_registered(store: Store, code: str) -> None:
    record = store.register_dossier(code, SAMPLES[code], received_at=RECEIVED)
    assert store.get_dossier(record.id).procedure == code
    assert record.display_name()


def test_late_birth_is_flagged(store: Store) -> None:
    data = dict(BIRTH, tre_ngay_sinh="2025-11-01")
    record = store.register_dossier("khai_sinh", data, received_at=RECEIVED)
    assert record.late is True


def test_invalid_data_raises_and_writes_nothing(store: Store) -> None:
    bad = dict(BIRTH, tre_ngay_sinh="2099-01-01")
    with pytest.raises(ValidationError) as info:
        store.register_dossier("khai_sinh", bad, received_at=RECEIVED)
    assert any(e.field == "tre_ngay_sinh" for e in info.value.errors)
    with pytest.raises(ValidationError):
        store.register_dossier("khong_co", BIRTH)
    assert store.count_dossiers() == 0
    assert store.pending_changes() == []


def test_likely_duplicate_is_refused_until_the_clerk_confirms(store: Store) -> None:
    first = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    # Same child and mother typed without accents: still the same event.
    typed = dict(BIRTH, tre_ten="Xa", me_ho_ten="SUNG THI MY")
    assert [d.id for d in store.find_duplicates(store.prepare_dossier("khai_sinh", typed))] == [
        first.id
    ]
    with pytest.raises(DuplicateDossier) as info:
        store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    assert [d.id for d in info.value.duplicates] == [first.id]
    assert store.count_dossiers() == 1
    second = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED, allow_duplicate=True)
    assert second.dossier_no != first.dossier_no
    assert store.count_dossiers() == 2


def test_a_cancelled_dossier_is_no_longer_a_duplicate(store: Store) -> None:
    first = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.transition(first.id, "huy", note="nhập nhầm")
    assert store.find_duplicates(store.prepare_dossier("khai_sinh", BIRTH)) == []


def test_update_records_old_and_new_values(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    updated = store.update_dossier(record.id, {"tre_ten": "Ân", "data.tre_chu_dem": ""})
    assert updated.record["data.tre_ten"] == "Ân"
    assert "data.tre_chu_dem" not in updated.record
    last = store.all_changes(record.id)[-1]
    assert last.fields == {"data.tre_chu_dem": ["A", None], "data.tre_ten": ["Xà", "Ân"]}
    assert last.base_version == 0
    assert store.search("giang an")[0].id == record.id
    # No change, no outbox entry.
    store.update_dossier(record.id, {"tre_ten": "Ân"})
    assert len(store.all_changes(record.id)) == 2


def test_update_refuses_bad_data_and_metadata(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    with pytest.raises(ValidationError):
        store.update_dossier(record.id, {"tre_ngay_sinh": "31/02/2026"})
    with pytest.raises(Exception, match="cannot be edited"):
        store.update_dossier(record.id, {"status": "hoan_thanh"})
    assert store.get_dossier(record.id).record == record.record
    assert len(store.all_changes()) == 1
    with pytest.raises(DossierNotFound):
        store.update_dossier("nope", {"tre_ten": "A"})


def test_lifecycle_and_book_number(store: Store) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    store.transition(record.id, "dang_xu_ly")
    signed = store.transition(record.id, "cho_ky")
    year = dt.date.today().year
    assert (signed.record["book_type"], signed.record["book_year"]) == ("KS", year)
    assert signed.book_number == 1
    assert [d.id for d in store.dossiers_waiting_signature()] == [record.id]
    done = store.transition(record.id, "hoan_thanh", note="đã ký")
    assert done.book_number == 1
    steps = [(h.from_status, h.to_status) for h in store.status_history(record.id)]
    assert steps == [
        (None, "tiep_nhan"),
        ("tiep_nhan", "dang_xu_ly"),
        ("dang_xu_ly", "cho_ky"),
        ("cho_ky", "hoan_thanh"),
    ]
    assert store.status_history(record.id)[-1].note == "đã ký"
    change = store.all_changes(record.id)[2]
    assert change.fields["status"] == ["dang_xu_ly", "cho_ky"]
    assert change.fields["book_number"] == [None, 1]
    with pytest.raises(dossiers.DossierLocked):
        store.update_dossier(record.id, {"tre_ten": "B"})


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "hoan_thanh"),
        (["dang_xu_ly"], "tiep_nhan"),
        (["huy"], "dang_xu_ly"),
        (["tra_lai"], "huy"),
        (["cho_ky", "hoan_thanh"], "huy"),
        (["cho_ky", "hoan_thanh"], "tra_lai"),
        ([], "khong_ro"),
    ],
)
def test_transitions_outside_the_table_are_refused(
    store: Store, path: list[str], target: str
) -> None:
    record = store.register_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    for step in path:
        store.transition(record.id, step)
    before = store.get_dossier(record.id)
    with pytest.raises(InvalidTransition):
        store.transition(record.id, target)
    assert store.get_dossier(record.id).record == before.record


@pytest.mark.parametrize("status", ["tiep_nhan", "dang_xu_ly", "cho_ky"])
def test_huy_and_tra_lai_from_every_open_state(store: Store, status: str) -> None:
    for i, final in enumerate(("huy", "tra_lai")):
        record = store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
        if status != "tiep_nhan":
            store.transition(record.id, status)
        assert store.transition(record.id, final).status == final


def test_a_book_number_is_never_reused(store: Store) -> None:
    numbers = []
    for i in range(5):
        record = store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
        numbers.append(store.transition(record.id, "cho_ky").book_number)
        if i == 2:
            store.transition(record.id, "huy")
    assert numbers == [1, 2, 3, 4, 5]
    assert store.count_dossiers("huy") == 1
    # Other books count on their own.
    death = store.register_dossier("khai_tu", SAMPLES["khai_tu"], received_at=RECEIVED)
    assert store.transition(death.id, "cho_ky").book_number == 1


def test_server_blocks_are_used_before_local_ones(store: Store) -> None:
    year = dt.date.today().year
    store.add_book_block("KS", year, 501, 502, source="server")
    got = []
    for i in range(4):
        record = store.register_dossier("khai_sinh", birth(i), received_at=RECEIVED)
        got.append(store.transition(record.id, "cho_ky").book_number)
    # After the server block runs out a local block starts above everything seen.
    assert got == [501, 502, 503, 504]
    sources = sorted((b.source, b.start) for b in store.book_blocks("KS"))
    assert sources == [("local", 503), ("server", 501)]
    with pytest.raises(Exception, match="overlaps"):
        store.add_book_block("KS", year, 550, 560)


def test_dashboard_lists(store: Store) -> None:
    today = dt.date(2026, 3, 10)
    a = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    b = store.register_dossier(
        "xac_nhan_hon_nhan", SAMPLES["xac_nhan_hon_nhan"], received_at=RECEIVED
    )
    c = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED - dt.timedelta(days=1))
    store.transition(c.id, "huy")
    assert [d.id for d in store.dossiers_received_on(today)] == [a.id, b.id]
    due = store.dossiers_due_or_late(today)
    assert [d.id for d in due] == [a.id]  # b is due in 3 working days; c is cancelled
    assert b.id in [d.id for d in store.dossiers_due_or_late(today + dt.timedelta(days=7))]
    assert store.count_dossiers() == 3


def test_dossier_numbers_count_per_day(store: Store) -> None:
    a = store.register_dossier("khai_sinh", birth(1), received_at=RECEIVED)
    b = store.register_dossier("khai_sinh", birth(2), received_at=RECEIVED)
    c = store.register_dossier("khai_sinh", birth(3), received_at=RECEIVED + dt.timedelta(days=1))
    assert a.dossier_no.endswith("-1") and b.dossier_no.endswith("-2")
    assert c.dossier_no.startswith("02701-20260311-") and c.dossier_no.endswith("-1")
    assert store.find_by_number(b.dossier_no).id == b.id  # type: ignore[union-attr]


def test_submit_returns_a_future(store: Store) -> None:
    prepared = store.prepare_dossier("khai_sinh", BIRTH, received_at=RECEIVED)
    future = store.submit_register_prepared(prepared)
    assert future.result(timeout=10).status == "tiep_nhan"
    with pytest.raises(ValidationError):  # the one validation, before anything is queued
        store.prepare_dossier("khai_sinh", {}, received_at=RECEIVED)
